#include "patchwarden/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"

/* A handful of entries at most: a flat array keeps lookups simple and
 * file order (which `source` sections rely on) intact. */
struct entry {
	char *section;
	char *key; /* NULL for a bare section header */
	char *value;
	unsigned line;
};

struct pw_config {
	char *path;
	struct entry *e;
	size_t n, cap;
};

pw_config *pw_config_new(void)
{
	return calloc(1, sizeof(pw_config));
}

void pw_config_free(pw_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c->path);
	free(c);
}

static char *dup_trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static pw_err add(pw_config *c, const char *section, const char *key, const char *value,
		  unsigned line)
{
	struct entry *e = pw_grow(c->e, &c->cap, c->n, sizeof *e);
	if (!e)
		return PW_ERR_NOMEM;
	c->e = e;
	e = &c->e[c->n];
	e->section = strdup(section);
	e->key = key ? strdup(key) : NULL;
	e->value = value ? strdup(value) : NULL;
	e->line = line;
	if (!e->section || (key && !e->key) || (value && !e->value)) {
		free(e->section);
		free(e->key);
		free(e->value);
		return PW_ERR_NOMEM;
	}
	c->n++;
	return PW_OK;
}

static const struct entry *find(const pw_config *c, const char *section, const char *key);

/* A key outside any section, or set twice in one: refused, as a second
 * value silently winning hides the typo that put it there. */
static pw_err misplaced(const pw_config *c, const char *section, const char *key, const char *path,
			unsigned line, pw_error *err)
{
	if (!*section)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s:%u: '%s' is outside any section: put it under the "
				    "[section] it belongs to",
				    path, line, key);
	const struct entry *e = find(c, section, key);
	if (e)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s:%u: [%s] %s is set again (first on line %u): keep one",
				    path, line, section, key, e->line);
	return PW_OK;
}

static pw_err parse(pw_config *c, const char *data, size_t len, const char *path, pw_error *err)
{
	char *section = strdup("");
	if (!section)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	pw_err rc = PW_OK;
	unsigned lineno = 0;
	const char *p = data, *end = data + len;
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		lineno++;
		char *line = dup_trimmed(p, (size_t)(eol - p));
		p = nl ? nl + 1 : end;
		if (!line) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			break;
		}
		if (!*line || *line == '#' || *line == ';') {
			free(line);
			continue;
		}
		if (*line == '[') {
			char *close = strrchr(line, ']');
			if (!close || close[1]) {
				rc = pw_error_set(err, PW_ERR_PARSE,
						  "%s:%u: section header must be '[name]'", path,
						  lineno);
			} else {
				char *name = dup_trimmed(line + 1, (size_t)(close - line - 1));
				if (!name || !*name) {
					rc = pw_error_set(err, name ? PW_ERR_PARSE : PW_ERR_NOMEM,
							  "%s:%u: empty section name", path,
							  lineno);
				} else {
					/* Collapse inner runs of spaces: "[source  x]" == "[source
					 * x]". */
					char *w = name;
					for (char *r = name; *r; r++)
						if (!(isspace((unsigned char)*r) && w > name &&
						      w[-1] == ' '))
							*w++ = isspace((unsigned char)*r) ? ' '
											  : *r;
					*w = '\0';
					free(section);
					section = name;
					name = NULL;
					if (add(c, section, NULL, NULL, lineno))
						rc = pw_error_set(err, PW_ERR_NOMEM,
								  "out of memory");
				}
				free(name);
			}
			free(line);
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq) {
			rc = pw_error_set(
				err, PW_ERR_PARSE,
				"%s:%u: expected 'key = value' or '[section]', got '%.60s'", path,
				lineno, line);
			free(line);
			break;
		}
		char *key = dup_trimmed(line, (size_t)(eq - line));
		char *value = dup_trimmed(eq + 1, strlen(eq + 1));
		if (!key || !value)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		else if (!*key)
			rc = pw_error_set(err, PW_ERR_PARSE, "%s:%u: missing key before '='", path,
					  lineno);
		else {
			/* Surrounding double quotes are optional and dropped. */
			size_t vl = strlen(value);
			if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
				memmove(value, value + 1, vl - 2);
				value[vl - 2] = '\0';
			}
			rc = misplaced(c, section, key, path, lineno, err);
			if (!rc && add(c, section, key, value, lineno))
				rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		free(key);
		free(value);
		free(line);
	}
	free(section);
	return rc;
}

pw_err pw_config_load(const char *path, bool must_exist, pw_config **out, pw_error *err)
{
	*out = NULL;
	pw_config *c = pw_config_new();
	if (!c || !(c->path = strdup(path))) {
		pw_config_free(c);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	pw_buf b = PW_BUF_INIT;
	pw_error rerr = PW_ERROR_INIT;
	pw_err rc = pw_read_file(path, &b, 1 << 20, &rerr);
	if (rc == PW_ERR_NOTFOUND && !must_exist) {
		*out = c;
		return PW_OK;
	}
	if (rc) {
		pw_config_free(c);
		if (err)
			*err = rerr;
		return rc;
	}
	rc = parse(c, pw_buf_str(&b), b.len, path, err);
	pw_buf_release(&b);
	if (rc) {
		pw_config_free(c);
		return rc;
	}
	*out = c;
	return PW_OK;
}

/* The last assignment wins, as in most INI readers. */
static const struct entry *find(const pw_config *c, const char *section, const char *key)
{
	if (!c)
		return NULL;
	for (size_t i = c->n; i-- > 0;)
		if (c->e[i].key && strcmp(c->e[i].section, section) == 0 &&
		    strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

const char *pw_config_get(const pw_config *c, const char *section, const char *key)
{
	const struct entry *e = find(c, section, key);
	return e ? e->value : NULL;
}

static pw_err type_error(const pw_config *c, const struct entry *e, const char *want, pw_error *err)
{
	return pw_error_set(err, PW_ERR_PARSE, "%s:%u: [%s] %s = '%s' is not %s",
			    c->path ? c->path : "(config)", e->line, e->section, e->key, e->value,
			    want);
}

pw_err pw_config_get_double(const pw_config *c, const char *section, const char *key, double def,
			    double *out, pw_error *err)
{
	const struct entry *e = find(c, section, key);
	*out = def;
	if (!e)
		return PW_OK;
	char *endp;
	errno = 0;
	double v = strtod(e->value, &endp);
	if (endp == e->value || *endp || errno || !isfinite(v))
		return type_error(c, e, "a number", err);
	*out = v;
	return PW_OK;
}

pw_err pw_config_get_int(const pw_config *c, const char *section, const char *key, long def,
			 long *out, pw_error *err)
{
	const struct entry *e = find(c, section, key);
	*out = def;
	if (!e)
		return PW_OK;
	char *endp;
	errno = 0;
	long v = strtol(e->value, &endp, 10);
	if (endp == e->value || *endp || errno)
		return type_error(c, e, "a whole number", err);
	*out = v;
	return PW_OK;
}

pw_err pw_config_get_bool(const pw_config *c, const char *section, const char *key, bool def,
			  bool *out, pw_error *err)
{
	const struct entry *e = find(c, section, key);
	*out = def;
	if (!e)
		return PW_OK;
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = true;
			return PW_OK;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = false;
			return PW_OK;
		}
	}
	return type_error(c, e, "true or false", err);
}

static const char *section_suffix(const char *section, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(section, prefix, n) == 0 && section[n] == ' ' && section[n + 1])
		return section + n + 1;
	return NULL;
}

/* Each section counts once, at its first header or entry. */
static bool first_mention(const pw_config *c, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(c->e[j].section, c->e[i].section) == 0)
			return false;
	return true;
}

size_t pw_config_count_sections(const pw_config *c, const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; c && i < c->n; i++)
		if (section_suffix(c->e[i].section, prefix) && first_mention(c, i))
			n++;
	return n;
}

const char *pw_config_section_name(const pw_config *c, const char *prefix, size_t idx)
{
	size_t n = 0;
	for (size_t i = 0; c && i < c->n; i++) {
		const char *name = section_suffix(c->e[i].section, prefix);
		if (name && first_mention(c, i) && n++ == idx)
			return name;
	}
	return NULL;
}

pw_err pw_config_check_keys(const pw_config *c, const char *section, const char *const *known,
			    pw_error *err)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct entry *e = &c->e[i];
		if (!e->key || strcmp(e->section, section) != 0)
			continue;
		size_t k = 0;
		while (known[k] && strcmp(known[k], e->key) != 0)
			k++;
		if (!known[k])
			return pw_error_set(
				err, PW_ERR_PARSE,
				"%s:%u: [%s] has no key '%s'; see the documented example "
				"configuration for the keys it takes",
				c->path ? c->path : "(config)", e->line, section, e->key);
	}
	return PW_OK;
}

/* `known` entries ending in " *" take any name after the prefix. */
static bool section_known(const char *section, const char *const *known)
{
	for (size_t k = 0; known[k]; k++) {
		size_t n = strlen(known[k]);
		bool prefix = n > 2 && !strcmp(known[k] + n - 2, " *");
		if (prefix ? !strncmp(section, known[k], n - 1) && section[n - 1]
			   : !strcmp(section, known[k]))
			return true;
	}
	return false;
}

static const struct entry *find_first(const pw_config *c, const char *section, const char *key)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->e[i].key && !strcmp(c->e[i].section, section) && !strcmp(c->e[i].key, key))
			return &c->e[i];
	return NULL;
}

pw_err pw_config_check_sections(const pw_config *c, const char *const *known, pw_error *err)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct entry *e = &c->e[i];
		if (!e->key && !section_known(e->section, known))
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s:%u: patchwarden has no section [%s]; see the "
					    "documented example configuration for the sections",
					    c->path ? c->path : "(config)", e->line, e->section);
	}
	return PW_OK;
}

const char *pw_config_changed(const pw_config *a, const pw_config *b, const char *section,
			      size_t *pos)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0;
	while (*pos < na + nb) {
		size_t i = (*pos)++;
		const struct entry *e = i < na ? &a->e[i] : &b->e[i - na];
		if (!e->key || strcmp(e->section, section))
			continue;
		const char *va = pw_config_get(a, section, e->key);
		const char *vb = pw_config_get(b, section, e->key);
		if (va && vb && !strcmp(va, vb))
			continue;
		/* Once per key: at its first entry in a, then b. */
		const struct entry *first = find_first(a, section, e->key);
		if (!first)
			first = find_first(b, section, e->key);
		if (first == e)
			return e->key;
	}
	return NULL;
}

pw_err pw_config_set(pw_config *c, const char *section, const char *key, const char *value)
{
	return add(c, section, key, value, 0);
}
