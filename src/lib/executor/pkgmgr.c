#include "patchwarden/pkgmgr.h"

#include <stdbool.h>
#include <string.h>

#include "executor-internal.h"

/* One row per backend file (pkgmgr_<name>.c). */
static const pw_pkgmgr *const backends[] = {
	&pw_pkgmgr_apt, &pw_pkgmgr_dnf, &pw_pkgmgr_zypper, &pw_pkgmgr_apk, NULL,
};

const pw_pkgmgr *pw_pkgmgr_find(const char *name)
{
	for (size_t i = 0; name && backends[i]; i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

static bool word_in(const char *word, size_t n, const char *list)
{
	for (const char *p = list; n && *p;) {
		size_t w = strcspn(p, " ");
		if (w == n && !memcmp(p, word, n))
			return true;
		p += w + (p[w] == ' ');
	}
	return false;
}

/* ID first, then each ID_LIKE word in order: a derivative names its
 * parents from the nearest ("ubuntu debian"). */
const pw_pkgmgr *pw_pkgmgr_for_os(const char *id, const char *id_like)
{
	for (size_t i = 0; id && backends[i]; i++)
		if (word_in(id, strlen(id), backends[i]->os_ids))
			return backends[i];
	for (const char *p = id_like; p && *p;) {
		size_t w = strcspn(p, " ");
		for (size_t i = 0; backends[i]; i++)
			if (word_in(p, w, backends[i]->os_ids))
				return backends[i];
		p += w + (p[w] == ' ');
	}
	return NULL;
}
