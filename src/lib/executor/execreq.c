#include "patchwarden/execreq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/grow.h"

static const char *const kind_names[PW_EXEC__END] = {
	[PW_EXEC_INVENTORY] = "inventory",
	[PW_EXEC_SIMULATE] = "simulate",
	[PW_EXEC_PATCH] = "patch",
	[PW_EXEC_HOLD] = "hold",
	[PW_EXEC_UNHOLD] = "unhold",
	[PW_EXEC_ROLLBACK] = "rollback",
	[PW_EXEC_REBOOT] = "reboot",
	[PW_EXEC_HEALTH] = "health",
	[PW_EXEC_BACKUP_CHECK] = "backup_check",
};

static const char *const state_names[] = {
	[PW_PKGDB_UNKNOWN] = "unknown",
	[PW_PKGDB_CLEAN] = "clean",
	[PW_PKGDB_HALF_CONFIGURED] = "half-configured",
	[PW_PKGDB_BROKEN] = "broken",
};

static const char *const action_names[PW_CHANGE__END] = {
	[PW_CHANGE_INSTALL] = "install",     [PW_CHANGE_UPGRADE] = "upgrade",
	[PW_CHANGE_DOWNGRADE] = "downgrade", [PW_CHANGE_REMOVE] = "remove",
	[PW_CHANGE_HOLD] = "hold",           [PW_CHANGE_UNHOLD] = "unhold",
};

const char *pw_exec_kind_name(pw_exec_kind k)
{
	return k > 0 && k < PW_EXEC__END ? kind_names[k] : NULL;
}

pw_exec_kind pw_exec_kind_from_name(const char *name)
{
	for (int k = 1; name && k < PW_EXEC__END; k++)
		if (!strcmp(kind_names[k], name))
			return (pw_exec_kind)k;
	return 0;
}

const char *pw_pkgdb_state_name(pw_pkgdb_state s)
{
	return s <= PW_PKGDB_BROKEN ? state_names[s] : "unknown";
}

const char *pw_change_action_name(pw_change_action a)
{
	return a < PW_CHANGE__END ? action_names[a] : "unknown";
}

void pw_exec_result_init(pw_exec_result *r)
{
	memset(r, 0, sizeof *r);
	r->exit_code = -1;
}

void pw_exec_result_release(pw_exec_result *r)
{
	for (size_t i = 0; i < r->n_services; i++)
		free(r->services[i]);
	free(r->services);
	free(r->changes);
	pw_buf_release(&r->log);
	pw_runtime_release(r->runtime);
	free(r->runtime);
	pw_exec_result_init(r);
}

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory recording a job's result");
}

pw_err pw_exec_result_add_change(pw_exec_result *r, const pw_exec_change *c, pw_error *err)
{
	if (r->n_changes >= PW_EXEC_MAX_PACKAGES * 4)
		return pw_error_set(err, PW_ERR_TOOLARGE,
				    "more than %d package changes in one job: refusing to record "
				    "more",
				    PW_EXEC_MAX_PACKAGES * 4);
	pw_exec_change *v = pw_grow(r->changes, &r->cap_changes, r->n_changes, sizeof *v);
	if (!v)
		return nomem(err);
	r->changes = v;
	v[r->n_changes++] = *c;
	return PW_OK;
}

pw_err pw_exec_result_add_service(pw_exec_result *r, const char *unit, pw_error *err)
{
	for (size_t i = 0; i < r->n_services; i++)
		if (!strcmp(r->services[i], unit))
			return PW_OK;
	char **v = pw_grow(r->services, &r->cap_services, r->n_services, sizeof *v);
	if (!v)
		return nomem(err);
	r->services = v;
	if (!(v[r->n_services] = strdup(unit)))
		return nomem(err);
	r->n_services++;
	return PW_OK;
}

pw_err pw_exec_result_say(pw_exec_result *r, pw_exec_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	r->status = st;
	return PW_OK;
}
