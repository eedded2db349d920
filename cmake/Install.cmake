# Install.cmake - what `cmake --install` puts where, the man pages, and the
# Debian package (cpack -G DEB; scripts/package-deb builds it reproducibly).

set(MB_PROGRAMS metalboot-build metalboot-netboot metalboot-firstboot)
install(TARGETS ${MB_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The first stage of node images, found by metalboot-build beside itself.
install(TARGETS metalboot-init RUNTIME DESTINATION lib/metalboot)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/profiles/roles
	DESTINATION ${CMAKE_INSTALL_DATADIR}/metalboot/profiles)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/profiles/examples
	DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/README.md
	${CMAKE_SOURCE_DIR}/docs/builder.md ${CMAKE_SOURCE_DIR}/docs/formats.md
	${CMAKE_SOURCE_DIR}/docs/netboot.md
	${CMAKE_SOURCE_DIR}/firstboot/README.md
	DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/netboot/metalboot-netboot.service
	${CMAKE_SOURCE_DIR}/firstboot/metalboot-firstboot.service
	DESTINATION lib/systemd/system)

# Man pages: made by help2man from each program's --help and --version, so
# that the page and --help cannot drift apart. SOURCE_DATE_EPOCH pins the
# date help2man prints.
find_program(HELP2MAN help2man)
if(METALBOOT_MAN AND NOT HELP2MAN)
	message(WARNING "help2man not found: no man pages (METALBOOT_MAN=OFF "
		"to silence)")
endif()
if(METALBOOT_MAN AND HELP2MAN)
	set(mb_man_metalboot-build 1
		"turn a cluster inventory into PKI, payloads and node images")
	set(mb_man_metalboot-netboot 8
		"DHCP, TFTP and HTTP(S) server that netboots a metalboot fleet")
	set(mb_man_metalboot-firstboot 8
		"prepare a node and run kubeadm init or join, reporting each step")
	set(pages "")
	foreach(prog ${MB_PROGRAMS})
		list(GET mb_man_${prog} 0 sect)
		list(GET mb_man_${prog} 1 what)
		set(page ${CMAKE_CURRENT_BINARY_DIR}/man/${prog}.${sect})
		add_custom_command(OUTPUT ${page}
			COMMAND ${CMAKE_COMMAND} -E make_directory
				${CMAKE_CURRENT_BINARY_DIR}/man
			COMMAND ${CMAKE_COMMAND} -E env
				ASAN_OPTIONS=detect_leaks=0
				${HELP2MAN} --no-info --section=${sect}
				--name=${what} --output=${page}
				$<TARGET_FILE:${prog}>
			DEPENDS ${prog}
			COMMENT "Man page ${prog}(${sect})" VERBATIM)
		list(APPEND pages ${page})
		install(FILES ${page}
			DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sect})
	endforeach()
	add_custom_target(man ALL DEPENDS ${pages})
endif()

# The Debian package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME metalboot)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "metalboot developers <metalboot@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
	"hands-free Kubernetes on bare metal: build, netboot, first boot")
set(CPACK_PACKAGE_DESCRIPTION "metalboot turns a YAML inventory of \
machines into a running Kubernetes cluster: metalboot-build makes the PKI, \
payloads and node images, metalboot-netboot netboots the machines (DHCP, \
TFTP, HTTP/HTTPS) and metalboot-firstboot runs kubeadm on each node.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# metalboot-build copies the iPXE loaders from Debian's ipxe package.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ipxe")
# Secure Boot machines (docs/netboot.md): the signed loaders the builder copies.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "shim-signed, grub-efi-amd64-signed")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	${CMAKE_SOURCE_DIR}/packaging/postinst
	${CMAKE_SOURCE_DIR}/packaging/prerm
	${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
