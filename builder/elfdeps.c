/*
 * elfdeps.c - ELF dynamic-section parser and library resolver; see
 * elfdeps.h.
 *
 * The parser trusts nothing in the file: every offset and size is checked
 * against the mapped length before it is read, counts are capped, and the
 * string table is located through the PT_LOAD segments the way the loader
 * maps it (DT_STRTAB holds a virtual address, not a file offset).
 */
#include "elfdeps.h"

#include "fsutil.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ELFDEPS_CONF_MAX (256 * 1024) /* bytes of one ld.so.conf file */
#define ELFDEPS_PATH_MAX 4096	      /* bytes of a path built here */

struct view {
	const uint8_t *p;
	size_t len;
	bool be;
	bool is64;
};

static int
get16(const struct view *v, uint64_t off, uint16_t *ret)
{
	const uint8_t *b;

	if (off > v->len || v->len - off < 2)
		return -EINVAL;
	b = v->p + off;
	*ret = v->be ? (uint16_t)(b[0] << 8 | b[1])
		     : (uint16_t)(b[1] << 8 | b[0]);
	return 0;
}

static int
get32(const struct view *v, uint64_t off, uint32_t *ret)
{
	const uint8_t *b;

	if (off > v->len || v->len - off < 4)
		return -EINVAL;
	b = v->p + off;
	if (v->be)
		*ret = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		       (uint32_t)b[2] << 8 | b[3];
	else
		*ret = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
		       (uint32_t)b[1] << 8 | b[0];
	return 0;
}

static int
get64(const struct view *v, uint64_t off, uint64_t *ret)
{
	uint32_t a, b;

	if (get32(v, off, &a) < 0 || get32(v, off + 4, &b) < 0)
		return -EINVAL;
	*ret = v->be ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
	return 0;
}

/* A word: 4 bytes in ELF32, 8 in ELF64. */
static int
get_word(const struct view *v, uint64_t off, uint64_t *ret)
{
	uint32_t x;

	if (v->is64)
		return get64(v, off, ret);
	if (get32(v, off, &x) < 0)
		return -EINVAL;
	*ret = x;
	return 0;
}

/* A copy of the NUL-terminated string at off, bounded by lim bytes. */
static int
get_str(const struct view *v, uint64_t off, uint64_t lim, char **ret)
{
	const uint8_t *nul;
	size_t n;

	if (off >= v->len)
		return -EINVAL;
	if (lim > v->len - off)
		lim = v->len - off;
	if (lim > ELF_STR_MAX)
		lim = ELF_STR_MAX;
	nul = memchr(v->p + off, '\0', (size_t)lim);
	if (nul == NULL)
		return -EINVAL;
	n = (size_t)(nul - (v->p + off));
	*ret = strndup((const char *)v->p + off, n);
	return *ret == NULL ? -ENOMEM : 0;
}

struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

static int
get_phdr(const struct view *v, uint64_t off, struct phdr *ph)
{
	if (get32(v, off, &ph->type) < 0)
		return -EINVAL;
	if (v->is64)
		return get64(v, off + 8, &ph->offset) < 0 ||
				       get64(v, off + 16, &ph->vaddr) < 0 ||
				       get64(v, off + 32, &ph->filesz) < 0
			       ? -EINVAL
			       : 0;
	{
		uint32_t o, a, s;

		if (get32(v, off + 4, &o) < 0 || get32(v, off + 8, &a) < 0 ||
		    get32(v, off + 16, &s) < 0)
			return -EINVAL;
		ph->offset = o;
		ph->vaddr = a;
		ph->filesz = s;
	}
	return 0;
}

/* File offset of virtual address addr, through the PT_LOAD segments. */
static int
vaddr_to_off(const struct view *v, uint64_t phoff, uint16_t phentsize,
	     uint16_t phnum, uint64_t addr, uint64_t *ret)
{
	struct phdr ph;
	uint16_t i;

	for (i = 0; i < phnum; i++) {
		if (get_phdr(v, phoff + (uint64_t)i * phentsize, &ph) < 0)
			return -EINVAL;
		if (ph.type != PT_LOAD || addr < ph.vaddr ||
		    addr - ph.vaddr >= ph.filesz)
			continue;
		if (ph.offset > UINT64_MAX - (addr - ph.vaddr))
			return -EINVAL;
		*ret = ph.offset + (addr - ph.vaddr);
		return *ret < v->len ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/*
 * Release a parse result; see elfdeps.h.
 */
void
elf_info_done(struct elf_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	free(info->interp);
	for (i = 0; i < info->nneeded; i++)
		free(info->needed[i]);
	free(info->needed);
	free(info->rpath);
	free(info->runpath);
	memset(info, 0, sizeof(*info));
}

/*
 * Parse an ELF object; see elfdeps.h.
 */
int
elf_parse(const uint8_t *data, size_t len, struct elf_info *ret)
{
	struct view v = { data, len, false, false };
	struct elf_info info = { 0 };
	uint64_t phoff, dyn_off = 0, dyn_size = 0, tag, val, off, ent;
	uint64_t strtab = 0, strsz = UINT64_MAX, str_off;
	uint64_t needed[ELF_NEEDED_MAX];
	uint64_t rpath = UINT64_MAX, runpath = UINT64_MAX;
	uint16_t phentsize, phnum, i;
	bool has_dyn = false, has_strtab = false;
	size_t nneeded = 0, k;
	struct phdr ph;
	int r;

	if (len < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (data[EI_CLASS] != ELFCLASS32 && data[EI_CLASS] != ELFCLASS64)
		return -EINVAL;
	if (data[EI_DATA] != ELFDATA2LSB && data[EI_DATA] != ELFDATA2MSB)
		return -EINVAL;
	v.is64 = data[EI_CLASS] == ELFCLASS64;
	v.be = data[EI_DATA] == ELFDATA2MSB;
	info.elfclass = data[EI_CLASS];
	info.data = data[EI_DATA];
	if (len < (v.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return -EINVAL;
	if (get16(&v, 16, &info.type) < 0 || get16(&v, 18, &info.machine) < 0)
		return -EINVAL;
	if (v.is64) {
		if (get64(&v, 32, &phoff) < 0 || get16(&v, 54, &phentsize) ||
		    get16(&v, 56, &phnum) < 0)
			return -EINVAL;
	} else {
		uint32_t p32;

		if (get32(&v, 28, &p32) < 0 || get16(&v, 42, &phentsize) ||
		    get16(&v, 44, &phnum) < 0)
			return -EINVAL;
		phoff = p32;
	}
	if (phnum > ELF_PHNUM_MAX)
		return -EINVAL;
	if (phnum > 0) {
		if (phentsize <
		    (v.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
			return -EINVAL;
		if (phoff > len || (len - phoff) / phentsize < phnum)
			return -EINVAL;
	}
	for (i = 0; i < phnum; i++) {
		if (get_phdr(&v, phoff + (uint64_t)i * phentsize, &ph) < 0)
			return -EINVAL;
		if (ph.type == PT_INTERP && info.interp == NULL) {
			if (ph.offset >= len || ph.filesz == 0) {
				r = -EINVAL;
				goto out;
			}
			r = get_str(&v, ph.offset, ph.filesz, &info.interp);
			if (r < 0)
				goto out;
		} else if (ph.type == PT_DYNAMIC && !has_dyn) {
			if (ph.offset > len || ph.filesz > len - ph.offset) {
				r = -EINVAL;
				goto out;
			}
			has_dyn = true;
			dyn_off = ph.offset;
			dyn_size = ph.filesz;
		}
	}
	ent = v.is64 ? 16 : 8;
	for (off = 0; has_dyn && off + ent <= dyn_size; off += ent) {
		if (off / ent >= ELF_DYN_MAX) {
			r = -EINVAL;
			goto out;
		}
		if (get_word(&v, dyn_off + off, &tag) < 0 ||
		    get_word(&v, dyn_off + off + ent / 2, &val) < 0) {
			r = -EINVAL;
			goto out;
		}
		if (tag == DT_NULL)
			break;
		switch (tag) {
		case DT_NEEDED:
			if (nneeded == ELF_NEEDED_MAX) {
				r = -EINVAL;
				goto out;
			}
			needed[nneeded++] = val;
			break;
		case DT_STRTAB:
			strtab = val;
			has_strtab = true;
			break;
		case DT_STRSZ:
			strsz = val;
			break;
		case DT_RPATH:
			rpath = val;
			break;
		case DT_RUNPATH:
			runpath = val;
			break;
		default:
			break;
		}
	}
	if (nneeded > 0 || rpath != UINT64_MAX || runpath != UINT64_MAX) {
		if (!has_strtab) {
			r = -EINVAL;
			goto out;
		}
		r = vaddr_to_off(&v, phoff, phentsize, phnum, strtab, &str_off);
		if (r < 0)
			goto out;
		if (strsz > len - str_off)
			strsz = len - str_off;
		info.needed = calloc(nneeded ? nneeded : 1, sizeof(char *));
		if (info.needed == NULL) {
			r = -ENOMEM;
			goto out;
		}
		for (k = 0; k < nneeded; k++) {
			if (needed[k] >= strsz) {
				r = -EINVAL;
				goto out;
			}
			r = get_str(&v, str_off + needed[k], strsz - needed[k],
				    &info.needed[k]);
			if (r < 0)
				goto out;
			info.nneeded++;
			if (info.needed[k][0] == '\0') {
				r = -EINVAL;
				goto out;
			}
		}
		if (rpath != UINT64_MAX) {
			r = rpath < strsz ? get_str(&v, str_off + rpath,
						    strsz - rpath, &info.rpath)
					  : -EINVAL;
			if (r < 0)
				goto out;
		}
		if (runpath != UINT64_MAX) {
			r = runpath < strsz
				    ? get_str(&v, str_off + runpath,
					      strsz - runpath, &info.runpath)
				    : -EINVAL;
			if (r < 0)
				goto out;
		}
	}
	*ret = info;
	memset(&info, 0, sizeof(info));
	r = 0;
out:
	elf_info_done(&info);
	return r;
}

/* One object of the closure. */
struct obj {
	char *path; /* lexical, beneath root */
	struct elf_info info;
};

struct resolver {
	const char *root; /* "" for the host */
	struct obj *objs;
	size_t nobjs;
	char **dirs; /* ld.so.conf directories */
	size_t ndirs;
	uint8_t elfclass;
	uint16_t machine;
	char *err;
	size_t errlen;
};

static int rfail(struct resolver *rs, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
rfail(struct resolver *rs, int r, const char *fmt, ...)
{
	va_list ap;

	if (rs->err != NULL && rs->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(rs->err, rs->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* root + path into buf. */
static int
rooted(const struct resolver *rs, const char *path, char *buf, size_t n)
{
	int k = snprintf(buf, n, "%s%s", rs->root, path);

	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

/*
 * Map and parse the object at path (beneath root). Returns 0, -ENOENT,
 * -EISDIR, or the parser's error.
 */
static int
load(const struct resolver *rs, const char *path, struct elf_info *ret)
{
	char full[ELFDEPS_PATH_MAX];
	struct stat st;
	void *m = MAP_FAILED;
	int fd, r;

	r = rooted(rs, path, full, sizeof(full));
	if (r < 0)
		return r;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if ((uint64_t)st.st_size > ELF_FILE_MAX || st.st_size == 0) {
		r = st.st_size == 0 ? -ENOEXEC : -EFBIG;
		goto out;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	r = elf_parse(m, (size_t)st.st_size, ret);
out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	close(fd);
	return r;
}

static int
add_dir(struct resolver *rs, const char *dir)
{
	char **n;
	size_t i;

	for (i = 0; i < rs->ndirs; i++)
		if (strcmp(rs->dirs[i], dir) == 0)
			return 0;
	if (rs->ndirs == ELFDEPS_DIRS_MAX)
		return 0; /* the loader's cache would hold them; ignore */
	n = realloc(rs->dirs, (rs->ndirs + 1) * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	rs->dirs = n;
	rs->dirs[rs->ndirs] = strdup(dir);
	if (rs->dirs[rs->ndirs] == NULL)
		return -ENOMEM;
	rs->ndirs++;
	return 0;
}

/*
 * Read one ld.so.conf file (path beneath root): directories, one a line,
 * '#' comments, "include GLOB" (relative to the file's directory) and
 * "hwcap" lines, which are ignored. A missing file is not an error.
 */
static int
read_conf(struct resolver *rs, const char *path, unsigned depth)
{
	char full[ELFDEPS_PATH_MAX], pat[ELFDEPS_PATH_MAX];
	char *data = NULL, *line, *next, *p, *e;
	const char *slash;
	glob_t g = { 0 };
	size_t len, i, rl = strlen(rs->root);
	int r;

	if (depth > ELFDEPS_CONF_DEPTH)
		return 0;
	r = rooted(rs, path, full, sizeof(full));
	if (r < 0)
		return 0;
	r = read_file(full, ELFDEPS_CONF_MAX, &data, &len);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (line = data; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		p = strchr(line, '#');
		if (p != NULL)
			*p = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		e = line + strlen(line);
		while (e > line &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*line == '\0' || strncmp(line, "hwcap", 5) == 0)
			continue;
		if (strncmp(line, "include", 7) == 0 &&
		    (line[7] == ' ' || line[7] == '\t')) {
			p = line + 8;
			while (*p == ' ' || *p == '\t')
				p++;
			slash = strrchr(path, '/');
			if (*p == '/')
				snprintf(pat, sizeof(pat), "%s%s", rs->root, p);
			else
				snprintf(pat, sizeof(pat), "%s%.*s/%s",
					 rs->root,
					 (int)(slash ? slash - path : 0), path,
					 p);
			if (glob(pat, 0, NULL, &g) == 0) {
				for (i = 0; i < g.gl_pathc; i++) {
					r = read_conf(rs, g.gl_pathv[i] + rl,
						      depth + 1);
					if (r < 0)
						goto out;
				}
			}
			globfree(&g);
			memset(&g, 0, sizeof(g));
			continue;
		}
		p = strchr(line, '=');
		if (p != NULL)
			*p = '\0'; /* old "DIR=TYPE" syntax */
		if (*line == '/') {
			r = add_dir(rs, line);
			if (r < 0)
				goto out;
		}
	}
	r = 0;
out:
	globfree(&g);
	free(data);
	return r;
}

static const char *
triplet(uint16_t machine, uint8_t elfclass)
{
	switch (machine) {
	case EM_X86_64:
		return elfclass == ELFCLASS64 ? "x86_64-linux-gnu"
					      : "x86_64-linux-gnux32";
	case EM_386:
		return "i386-linux-gnu";
	case EM_AARCH64:
		return "aarch64-linux-gnu";
	case EM_ARM:
		return "arm-linux-gnueabihf";
	case EM_RISCV:
		return "riscv64-linux-gnu";
	case EM_PPC64:
		return "powerpc64le-linux-gnu";
	case EM_S390:
		return "s390x-linux-gnu";
	default:
		return NULL;
	}
}

/* Is name already satisfied by a loaded object of that file name? */
static bool
have_name(const struct resolver *rs, const char *name)
{
	const char *b;
	size_t i;

	for (i = 0; i < rs->nobjs; i++) {
		b = strrchr(rs->objs[i].path, '/');
		b = b ? b + 1 : rs->objs[i].path;
		if (strcmp(b, name) == 0 || strcmp(rs->objs[i].path, name) == 0)
			return true;
	}
	return false;
}

static int
push(struct resolver *rs, const char *path, struct elf_info *info)
{
	struct obj *n;

	if (rs->nobjs == ELFDEPS_OBJECTS_MAX)
		return rfail(rs, -E2BIG, "%s: more than %d objects", path,
			     ELFDEPS_OBJECTS_MAX);
	n = realloc(rs->objs, (rs->nobjs + 1) * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	rs->objs = n;
	n[rs->nobjs].path = strdup(path);
	if (n[rs->nobjs].path == NULL)
		return -ENOMEM;
	n[rs->nobjs].info = *info;
	memset(info, 0, sizeof(*info));
	rs->nobjs++;
	return 0;
}

/*
 * Collapse "//", "/./" and "dir/../" in an absolute path, in place, so
 * that the name can be used as an archive member. Symlinks are not
 * consulted: an $ORIGIN/../lib path is taken as written.
 */
static void
lexnorm(char *path)
{
	char *in = path + 1, *out = path + 1, *end;
	size_t n;
	bool last;

	while (*in != '\0') {
		end = strchr(in, '/');
		last = end == NULL;
		n = last ? strlen(in) : (size_t)(end - in);
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			if (out > path + 1)
				out--; /* the '/' after the last component */
			while (out > path + 1 && out[-1] != '/')
				out--;
		} else if (n != 0 && !(n == 1 && in[0] == '.')) {
			memmove(out, in, n);
			out += n;
			if (!last)
				*out++ = '/';
		}
		if (last)
			break;
		in += n + 1;
	}
	if (out > path + 1 && out[-1] == '/')
		out--;
	*out = '\0';
}

/*
 * Try dir/name: 1 when it is an object of the program's class and
 * machine (loaded into *ret and named in path), 0 when not.
 */
static int
try_candidate(struct resolver *rs, const char *dir, const char *name,
	      char *path, size_t n, struct elf_info *ret)
{
	int k, r;

	k = snprintf(path, n, "%s%s%s", dir,
		     dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
		     name);
	if (k < 0 || (size_t)k >= n)
		return 0;
	lexnorm(path);
	r = load(rs, path, ret);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	if (ret->elfclass != rs->elfclass || ret->machine != rs->machine) {
		elf_info_done(ret);
		return 0;
	}
	return 1;
}

/*
 * Try each directory of a colon-separated list, expanding $ORIGIN to the
 * directory of the object (origin) and $LIB to the multiarch library
 * directory.
 */
static int
try_list(struct resolver *rs, const char *list, const char *origin,
	 const char *name, char *path, size_t n, struct elf_info *ret)
{
	char dir[ELFDEPS_PATH_MAX], tok[ELFDEPS_PATH_MAX];
	const char *p = list, *end, *t, *trip;
	size_t len, o;
	int r;

	trip = triplet(rs->machine, rs->elfclass);
	while (*p != '\0') {
		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= sizeof(tok)) {
			p += len + (end != NULL);
			continue;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len + (end != NULL);
		o = 0;
		for (t = tok; *t != '\0' && o < sizeof(dir) - 1;) {
			const char *rep = NULL;
			size_t skip = 0;
			char lib[64];

			if (strncmp(t, "${ORIGIN}", 9) == 0)
				rep = origin, skip = 9;
			else if (strncmp(t, "$ORIGIN", 7) == 0)
				rep = origin, skip = 7;
			else if (strncmp(t, "${LIB}", 6) == 0 ||
				 strncmp(t, "$LIB", 4) == 0) {
				snprintf(lib, sizeof(lib), "lib%s%s",
					 trip ? "/" : "", trip ? trip : "");
				rep = lib;
				skip = t[1] == '{' ? 6 : 4;
			}
			if (rep != NULL) {
				o += (size_t)snprintf(dir + o, sizeof(dir) - o,
						      "%s", rep);
				if (o >= sizeof(dir))
					o = sizeof(dir) - 1;
				t += skip;
			} else {
				dir[o++] = *t++;
			}
		}
		dir[o] = '\0';
		if (dir[0] != '/')
			continue;
		r = try_candidate(rs, dir, name, path, n, ret);
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * Find the library name needed by object k. Returns 1 with path and
 * *ret, 0 when not found, or a negative errno.
 */
static int
search(struct resolver *rs, size_t k, const char *name, char *path, size_t n,
       struct elf_info *ret)
{
	const struct obj *o = &rs->objs[k], *prog = &rs->objs[0];
	char origin[ELFDEPS_PATH_MAX], dir[ELFDEPS_PATH_MAX];
	static const char *const generic[] = { "/lib", "/usr/lib" };
	const char *trip, *slash;
	size_t i;
	int r;

	slash = strrchr(o->path, '/');
	snprintf(origin, sizeof(origin), "%.*s",
		 (int)(slash && slash != o->path ? slash - o->path : 1),
		 o->path);
	if (strchr(name, '/') != NULL) {
		if (name[0] != '/')
			return 0;
		snprintf(path, n, "%s", name);
		r = load(rs, path, ret);
		return r == 0 ? 1 : r == -ENOMEM ? r : 0;
	}
	if (o->info.runpath == NULL) {
		if (o->info.rpath != NULL) {
			r = try_list(rs, o->info.rpath, origin, name, path, n,
				     ret);
			if (r != 0)
				return r;
		}
		if (k != 0 && prog->info.rpath != NULL &&
		    prog->info.runpath == NULL) {
			slash = strrchr(prog->path, '/');
			snprintf(origin, sizeof(origin), "%.*s",
				 (int)(slash && slash != prog->path
					       ? slash - prog->path
					       : 1),
				 prog->path);
			r = try_list(rs, prog->info.rpath, origin, name, path,
				     n, ret);
			if (r != 0)
				return r;
		}
	} else {
		r = try_list(rs, o->info.runpath, origin, name, path, n, ret);
		if (r != 0)
			return r;
	}
	for (i = 0; i < rs->ndirs; i++) {
		r = try_candidate(rs, rs->dirs[i], name, path, n, ret);
		if (r != 0)
			return r;
	}
	trip = triplet(rs->machine, rs->elfclass);
	for (i = 0; trip != NULL && i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", generic[i], trip);
		r = try_candidate(rs, dir, name, path, n, ret);
		if (r != 0)
			return r;
	}
	if (rs->elfclass == ELFCLASS64) {
		r = try_candidate(rs, "/lib64", name, path, n, ret);
		if (r == 0)
			r = try_candidate(rs, "/usr/lib64", name, path, n, ret);
		if (r != 0)
			return r;
	}
	for (i = 0; i < 2; i++) {
		r = try_candidate(rs, generic[i], name, path, n, ret);
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * Release a result; see elfdeps.h.
 */
void
elfdeps_done(struct elfdeps *deps)
{
	size_t i;

	if (deps == NULL)
		return;
	for (i = 0; i < deps->n; i++)
		free(deps->paths[i]);
	free(deps->paths);
	deps->paths = NULL;
	deps->n = 0;
}

/*
 * Resolve a program's closure; see elfdeps.h.
 */
int
elfdeps_resolve(const char *root, const char *path, struct elfdeps *ret,
		char *err, size_t errlen)
{
	struct resolver rs = { 0 };
	struct elf_info info = { 0 };
	struct elfdeps out = { 0 };
	char found[ELFDEPS_PATH_MAX];
	size_t k, j;
	int r;

	rs.root = root == NULL || strcmp(root, "/") == 0 ? "" : root;
	rs.err = err;
	rs.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path[0] != '/')
		return rfail(&rs, -EINVAL, "%s: not an absolute path", path);
	r = load(&rs, path, &info);
	if (r < 0) {
		rfail(&rs, r, "%s: %s", path,
		      r == -ENOEXEC  ? "not an ELF file"
		      : r == -EINVAL ? "malformed ELF file"
				     : strerror(-r));
		goto out;
	}
	rs.elfclass = info.elfclass;
	rs.machine = info.machine;
	r = push(&rs, path, &info);
	if (r < 0)
		goto out;
	r = read_conf(&rs, "/etc/ld.so.conf", 0);
	if (r < 0)
		goto out;
	if (rs.objs[0].info.interp != NULL) {
		snprintf(found, sizeof(found), "%s", rs.objs[0].info.interp);
		r = load(&rs, found, &info);
		if (r < 0) {
			rfail(&rs, r, "%s: interpreter %s: %s", path, found,
			      strerror(r == -ENOEXEC || r == -EINVAL ? EINVAL
								     : -r));
			goto out;
		}
		r = push(&rs, found, &info);
		if (r < 0)
			goto out;
	}
	/* Breadth first: the list grows while it is walked. */
	for (k = 0; k < rs.nobjs; k++) {
		for (j = 0; j < rs.objs[k].info.nneeded; j++) {
			const char *name = rs.objs[k].info.needed[j];

			if (have_name(&rs, name))
				continue;
			r = search(&rs, k, name, found, sizeof(found), &info);
			if (r < 0)
				goto out;
			if (r == 0) {
				r = rfail(&rs, -ENOENT,
					  "%s: library %s (needed by %s) not "
					  "found",
					  path, name, rs.objs[k].path);
				goto out;
			}
			r = push(&rs, found, &info);
			if (r < 0)
				goto out;
		}
	}
	out.paths = calloc(rs.nobjs, sizeof(char *));
	if (out.paths == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (k = 1; k < rs.nobjs; k++) {
		out.paths[out.n] = rs.objs[k].path;
		rs.objs[k].path = NULL;
		out.n++;
	}
	*ret = out;
	memset(&out, 0, sizeof(out));
	r = 0;
out:
	if (r == -ENOMEM)
		rfail(&rs, r, "out of memory");
	elf_info_done(&info);
	elfdeps_done(&out);
	for (k = 0; k < rs.nobjs; k++) {
		free(rs.objs[k].path);
		elf_info_done(&rs.objs[k].info);
	}
	free(rs.objs);
	for (k = 0; k < rs.ndirs; k++)
		free(rs.dirs[k]);
	free(rs.dirs);
	return r;
}
