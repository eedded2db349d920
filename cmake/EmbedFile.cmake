# EmbedFile.cmake - cmake -DIN=FILE -DOUT=HEADER -DSYMBOL=NAME -P this:
# write HEADER defining `static const char NAME[]` with FILE's bytes.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
	"\\1\n\t" bytes "${bytes}")
get_filename_component(name ${IN} NAME)
file(WRITE ${OUT}.tmp "/* Generated from ${name} by cmake/EmbedFile.cmake. */\n"
	"static const char ${SYMBOL}[] = {\n\t${bytes}0x00\n};\n")
file(RENAME ${OUT}.tmp ${OUT})
