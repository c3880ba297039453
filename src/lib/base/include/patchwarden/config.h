/* patchwarden's configuration file: INI-style sections and `key = value`
 * lines, `#` comments. Every key has a documented default, so a missing
 * file is the same as an empty one. Errors name file:line. */
#ifndef PATCHWARDEN_CONFIG_H
#define PATCHWARDEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"

#define PW_CONFIG_DEFAULT_PATH "/etc/patchwarden/patchwarden.conf"

typedef struct pw_config pw_config;

/* Loads `path`. With `must_exist` false a missing file gives an empty
 * config; a malformed line, a key outside any section or set twice in
 * one is an error naming file:line. */
pw_err pw_config_load(const char *path, bool must_exist, pw_config **out, pw_error *err);
/* An empty config (all defaults). */
pw_config *pw_config_new(void);
void pw_config_free(pw_config *c);

/* NULL when absent. `section` is the full header text: "scan",
 * "source debian-dsa". */
const char *pw_config_get(const pw_config *c, const char *section, const char *key);
/* Typed getters: the default when absent; PW_ERR_PARSE naming
 * file:line and the key when the value is not of the type. */
pw_err pw_config_get_double(const pw_config *c, const char *section, const char *key, double def,
			    double *out, pw_error *err);
pw_err pw_config_get_int(const pw_config *c, const char *section, const char *key, long def,
			 long *out, pw_error *err);
pw_err pw_config_get_bool(const pw_config *c, const char *section, const char *key, bool def,
			  bool *out, pw_error *err);

/* Sections whose header starts with `prefix ` (e.g. "source"), in file
 * order; `name` is the rest of the header ("debian-dsa"). */
size_t pw_config_count_sections(const pw_config *c, const char *prefix);
const char *pw_config_section_name(const pw_config *c, const char *prefix, size_t i);

/* Checks that every key set in `section` is one of `known` (a NULL-
 * terminated list): PW_ERR_PARSE naming file:line of the first other
 * key, so a misspelt key is reported instead of silently ignored. */
pw_err pw_config_check_keys(const pw_config *c, const char *section, const char *const *known,
			    pw_error *err);

/* Checks that every section is one of `known` (NULL-terminated; "source *"
 * takes any "[source NAME]"): PW_ERR_PARSE naming file:line of the first
 * other, so a misspelt [serevr] is not silently all defaults. */
pw_err pw_config_check_sections(const pw_config *c, const char *const *known, pw_error *err);

/* The keys of `section` whose values differ between a and b (set in one
 * only, or to other values), one per call from *pos = 0 until NULL: what
 * a reload changed. */
const char *pw_config_changed(const pw_config *a, const pw_config *b, const char *section,
			      size_t *pos);

/* Sets a value (for tests and for command-line overrides; a later value
 * wins over the file's). */
pw_err pw_config_set(pw_config *c, const char *section, const char *key, const char *value);

#endif
