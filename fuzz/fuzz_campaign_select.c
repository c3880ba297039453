/* The selection texts of `campaign create` and POST /api/v1/campaigns
 * (campaign_select.h) on arbitrary input.
 *
 * Input: up to four lines, the --hosts filter, the --findings filter, the
 * --upgrades selector (an empty line: not given) and a --soak duration.
 * Aborts on a crash, a sanitizer report, or a broken law: an accepted
 * selection names packages that are non-empty and hold no ',', '=' or
 * blank, a criticality within 1-5 (or none) and kev -1, 0 or 1; an
 * accepted soak is 0 to 366 days; a refusal always has a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/campaign_select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of *p (up to end) as a NUL-terminated copy in out. */
static char *line(const char **p, const char *end, char *out)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = nl ? nl + 1 : end;
	return out;
}

static void check_select(const pw_campaign_select *s)
{
	for (size_t i = 0; i < s->n_packages; i++)
		if (!s->packages[i][0] || strpbrk(s->packages[i], ",= \t\n"))
			abort();
	if (s->f.host.min_criticality < 0 || s->f.host.min_criticality > 5)
		abort();
	if (s->f.kev < -1 || s->f.kev > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 3 * PW_SELECT_TEXT_MAX)
		return 0;
	char *buf = malloc(4 * (size + 1));
	if (!buf)
		return 0;
	const char *p = (const char *)data, *end = p + size;
	char *hosts = line(&p, end, buf), *findings = line(&p, end, buf + size + 1);
	char *upgrades = line(&p, end, buf + 2 * (size + 1)),
	     *soak = line(&p, end, buf + 3 * (size + 1));
	pw_campaign_select s;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_campaign_select_parse(hosts, *findings ? findings : NULL,
					     *upgrades ? upgrades : NULL, &s, &e);
	if (rc == PW_OK)
		check_select(&s);
	else if (!e.msg[0])
		abort();
	pw_campaign_select_release(&s);
	int64_t seconds = -1;
	e = (pw_error)PW_ERROR_INIT;
	rc = pw_campaign_soak_parse(soak, &seconds, &e);
	if (rc == PW_OK && (seconds < 0 || seconds > 366 * 86400))
		abort();
	if (rc != PW_OK && !e.msg[0])
		abort();
	free(buf);
	return 0;
}
