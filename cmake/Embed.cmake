# Embed.cmake - turn a text file into a C header holding it as one string,
# so that a file shipped on its own (a systemd unit, a web page) and the copy
# a program writes or serves are the same bytes.
#
#   mb_embed(TARGET HEADER SYMBOL FILE)
# adds to TARGET the generated HEADER (in the current binary dir) that
# defines `static const char SYMBOL[]` with FILE's contents; TARGET gets
# that dir on its include path.

set(MB_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/EmbedFile.cmake)

function(mb_embed target header symbol file)
	set(out ${CMAKE_CURRENT_BINARY_DIR}/${header})
	add_custom_command(OUTPUT ${out}
		COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out}
			-DSYMBOL=${symbol} -P ${MB_EMBED_SCRIPT}
		DEPENDS ${file} ${MB_EMBED_SCRIPT}
		COMMENT "Embedding ${file}" VERBATIM)
	add_custom_target(${target}_${symbol} DEPENDS ${out})
	add_dependencies(${target} ${target}_${symbol})
	target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
	set_property(GLOBAL APPEND PROPERTY ${target}_EMBEDS
		${target}_${symbol})
endfunction()
