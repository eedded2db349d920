/*
 * elfdeps.h - the shared libraries an ELF program needs, found the way
 * the dynamic loader finds them (and the way dracut and mkinitramfs copy
 * them into an initramfs): PT_INTERP, then DT_NEEDED of every object,
 * searched along DT_RPATH (when there is no DT_RUNPATH), DT_RUNPATH, the
 * directories of /etc/ld.so.conf and its includes, and the default
 * directories, Debian's multiarch ones (/lib/x86_64-linux-gnu,
 * /usr/lib/x86_64-linux-gnu) first. A candidate of another class or
 * machine (an i386 library on amd64) is skipped, as ld.so does.
 *
 * elf_parse() is pure (bytes in, struct out) and fuzzed; elfdeps_resolve()
 * reads files beneath a root directory. Non-logging.
 */
#ifndef MB_ELFDEPS_H
#define MB_ELFDEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_NEEDED_MAX	    512		 /* DT_NEEDED entries per object */
#define ELF_STR_MAX	    4096	 /* bytes of one dynamic string */
#define ELF_PHNUM_MAX	    4096	 /* program headers read */
#define ELF_DYN_MAX	    65536	 /* dynamic entries read */
#define ELF_FILE_MAX	    (1ULL << 32) /* bytes of an object mapped */
#define ELFDEPS_OBJECTS_MAX 1024	 /* objects in one closure */
#define ELFDEPS_CONF_DEPTH  8		 /* ld.so.conf include nesting */
#define ELFDEPS_DIRS_MAX    256		 /* ld.so.conf directories kept */
#define ELFDEPS_ERR_MAX	    512		 /* bytes of an error message */

struct elf_info {
	uint8_t elfclass; /* ELFCLASS32 or ELFCLASS64 */
	uint8_t data;	  /* ELFDATA2LSB or ELFDATA2MSB */
	uint16_t machine; /* e_machine */
	uint16_t type;	  /* ET_EXEC, ET_DYN, ... */
	char *interp;	  /* owned; NULL: none (static or a library) */
	char **needed;	  /* owned, nneeded strings */
	size_t nneeded;
	char *rpath;   /* owned; NULL: none */
	char *runpath; /* owned; NULL: none */
};

/*
 * Parse len bytes of an ELF object. Returns 0 with *ret filled (release
 * with elf_info_done), -ENOEXEC when it is not ELF, -EINVAL when it is
 * malformed (truncated, offsets out of range, unterminated strings, more
 * than the limits above), -ENOMEM. *ret is untouched on failure.
 */
int elf_parse(const uint8_t *data, size_t len, struct elf_info *ret);

/* Free what elf_parse() allocated; the struct may be reused. */
void elf_info_done(struct elf_info *info);

struct elfdeps {
	char **paths; /* owned: absolute paths, as seen beneath root */
	size_t n;
};

/*
 * Find every object the program at path (absolute, beneath root; root
 * "/" or NULL is the host) needs to run: its interpreter and the closure
 * of its DT_NEEDED libraries, each under the path where the loader finds
 * it (a symlink is named, not its target; both the interpreter and a
 * library of the same name are listed if both are reached). The program
 * itself is not listed. A static program has no dependencies.
 * Returns 0 with *ret (release with elfdeps_done), -ENOENT when a library
 * cannot be found, -ENOEXEC/-EINVAL for a bad object, with a one-line
 * message in err naming the file.
 */
int elfdeps_resolve(const char *root, const char *path, struct elfdeps *ret,
		    char *err, size_t errlen);

/* Free a result; the struct may be reused. */
void elfdeps_done(struct elfdeps *deps);

#endif
