/* Shared by the inventory readers (inventory*.c); not a public interface. */
#ifndef PATCHWARDEN_INVENTORY_INTERNAL_H
#define PATCHWARDEN_INVENTORY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "patchwarden/buf.h"
#include "patchwarden/inventory.h"

/* Database files larger than this are refused rather than read: a real
 * dpkg status file is a few MB, so anything near this is not one. */
#define PW_INV_MAX_FILE ((size_t)512 << 20)
/* A corrupt file can produce a warning per line; keep the first ones. */
#define PW_INV_MAX_WARNINGS 200
/* Longest piece of input quoted in a warning. */
#define PW_INV_EXCERPT 64

/* A piece of the input buffer. */
struct pw_span {
	const char *p;
	size_t n;
};

/* The first problem found in a stanza: parsers note it and go on to the
 * stanza's end, then skip the stanza with one warning. */
struct pw_inv_fault {
	unsigned long line; /* 0: no problem so far */
	char what[128];
};

/* Records the problem unless one is recorded already. */
void pw_inv_fault_set(struct pw_inv_fault *f, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends a warning. Past PW_INV_MAX_WARNINGS only a single "more
 * warnings omitted" note is kept. Fails only for lack of memory. */
pw_err pw_inv_warn(pw_inventory *inv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends *pkg to the inventory, which takes over its strings; *pkg is
 * zeroed. On failure *pkg is released. */
pw_err pw_inv_push(pw_inventory *inv, pw_package *pkg);

/* The line starting at p (p < end): sets *n to its length without the
 * '\n' and a '\r' before it, and returns where the next line starts. */
static inline const char *pw_inv_line(const char *p, const char *end, size_t *n)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*n = (size_t)((nl ? nl : end) - p);
	if (*n && p[*n - 1] == '\r')
		(*n)--;
	return nl ? nl + 1 : end;
}

/* Copies n bytes into a new NUL-terminated string, NULL without memory. */
char *pw_inv_strndup(const char *p, size_t n);

/* Writes a printable quote of p[0..n) into out[size] (at most size - 4
 * bytes of input): control and non-ASCII bytes become '?',
 * cut input ends in "...". Warnings quote input through this so that a hostile
 * database cannot put escape sequences on the operator's terminal. */
void pw_inv_excerpt(char *out, size_t size, const char *p, size_t n);

/* True when p[0..n) is a non-empty run of printable ASCII without spaces:
 * what names, versions and architectures are in every supported format. */
bool pw_inv_is_token(const char *p, size_t n);

/* root + "/" + rel into out (replacing its content); root "/" gives "/rel". */
pw_err pw_inv_path(pw_buf *out, const char *root, const char *rel);

enum {
	/* Keep not-installed and config-files stanzas too (without checking
	 * their version), so that a later journal entry can remove a package;
	 * pw_inv_dpkg_resolve drops them afterwards. */
	PW_DPKG_KEEP_REMOVED = 1,
	/* A stanza without Status but with a Version is an installed package
	 * (distroless status.d files are written that way); in the status
	 * file it is one dpkg only knows of, not installed. */
	PW_DPKG_STATUS_D = 2,
};
/* pw_inventory_parse_dpkg with PW_DPKG_* flags; fails only without memory. */
pw_err pw_inv_parse_dpkg(pw_inventory *inv, const char *data, size_t len, const char *file,
			 unsigned flags);
/* As dpkg does when it loads its database: a later stanza for the same
 * package and architecture replaces an earlier one (the journal replays
 * over the status file), and what ends up not installed is dropped. */
pw_err pw_inv_dpkg_resolve(pw_inventory *inv, pw_error *err);

/* Per-database readers, called by pw_inventory_read once it has found
 * which database exists. `root` is the directory being inventoried. */
pw_err pw_inv_read_dpkg(pw_inventory *inv, const char *root, pw_error *err);
pw_err pw_inv_read_apk(pw_inventory *inv, const char *root, pw_error *err);
/* `dbpath` is the rpm database directory relative to root ("/var/lib/rpm"). */
pw_err pw_inv_read_rpm(pw_inventory *inv, const char *root, const char *dbpath, pw_error *err);

/* Fills kernels_installed (oldest first) from the packages and sets
 * needs_reboot: kernel_running (when set) is not the newest installed
 * kernel, or root/run/reboot-required exists. */
pw_err pw_inv_find_kernels(pw_inventory *inv, const char *root);

/* If pkg is a kernel image package, *release becomes the kernel release
 * it installs (`uname -r` form, a new string); otherwise NULL. */
pw_err pw_inv_dpkg_kernel_release(const pw_package *pkg, char **release);
pw_err pw_inv_apk_kernel_release(const pw_package *pkg, char **release);
pw_err pw_inv_rpm_kernel_release(const pw_package *pkg, char **release);

#endif
