/* pw_exec_request_check: what the privileged parent (and the executor
 * in-process) accepts before anything runs. */
#include <stdbool.h>
#include <string.h>

#include "patchwarden/executor.h"
#include "patchwarden/pkgname.h"
#include "patchwarden/vercmp.h"

/* Flags each kind may carry; PW_EXEC_ALLOW_REBOOT only where a reboot can
 * follow. */
static const uint32_t kind_flags[PW_EXEC__END] = {
	[PW_EXEC_SIMULATE] = PW_EXEC_ALL_SECURITY | PW_EXEC_ALLOW_REMOVE,
	[PW_EXEC_PATCH] = PW_EXEC_ALL_SECURITY | PW_EXEC_ALLOW_REBOOT | PW_EXEC_ALLOW_REMOVE |
			  PW_EXEC_CONFIGURE_PENDING,
	[PW_EXEC_ROLLBACK] = PW_EXEC_ALLOW_REMOVE | PW_EXEC_CONFIGURE_PENDING,
	[PW_EXEC_REBOOT] = PW_EXEC_ALLOW_REBOOT,
};

/* What a package field may never hold, whatever the grammar says: option
 * and shell syntax and blanks. */
static const char *forbidden(const char *s)
{
	if (s[0] == '-')
		return "starts with '-'";
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "holds a blank, control or non-ASCII byte";
		else if (strchr(";&|$`<>(){}[]*?!'\"\\#=,/@%", *p))
			return "holds a shell or option character";
	return NULL;
}

static pw_err check_field(const char *what, size_t i, const char *s, size_t size, pw_error *err)
{
	if (!memchr(s, '\0', size))
		return pw_error_set(err, PW_ERR_INVALID, "packages[%zu].%s: not terminated", i,
				    what);
	const char *why = forbidden(s);
	if (why)
		return pw_error_set(err, PW_ERR_INVALID, "packages[%zu].%s: %s", i, what, why);
	return PW_OK;
}

static pw_err check_package(const pw_exec_request *req, size_t i, pw_scheme scheme, pw_error *err)
{
	const pw_exec_package *p = &req->packages[i];
	if (check_field("name", i, p->name, sizeof p->name, err) ||
	    check_field("version", i, p->version, sizeof p->version, err))
		return err->code;
	if (pw_pkgname_check(scheme, p->name, err))
		return pw_error_prefix(err, "packages[%zu].name", i);
	bool versioned = req->kind == PW_EXEC_SIMULATE || req->kind == PW_EXEC_PATCH ||
			 req->kind == PW_EXEC_ROLLBACK;
	if (!versioned && (p->version[0] || p->at_least))
		return pw_error_set(err, PW_ERR_INVALID,
				    "packages[%zu].version: %s takes package names only", i,
				    pw_exec_kind_name(req->kind));
	if (req->kind == PW_EXEC_ROLLBACK && (!p->version[0] || p->at_least))
		return pw_error_set(err, PW_ERR_INVALID,
				    "packages[%zu].version: rollback needs the exact version to "
				    "install",
				    i);
	if (p->at_least && !p->version[0])
		return pw_error_set(err, PW_ERR_INVALID,
				    "packages[%zu].at_least: without a version", i);
	if (p->version[0] && pw_pkgversion_check(scheme, p->version, err))
		return pw_error_prefix(err, "packages[%zu].version", i);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(req->packages[j].name, p->name))
			return pw_error_set(err, PW_ERR_INVALID,
					    "packages[%zu].name: %s is also packages[%zu]", i,
					    p->name, j);
	return PW_OK;
}

pw_err pw_exec_request_check(const pw_exec_request *req, const char *ecosystem_scheme,
			     pw_error *err)
{
	const char *kind = pw_exec_kind_name(req->kind);
	if (!kind)
		return pw_error_set(err, PW_ERR_INVALID, "kind: %d is not one of the requests",
				    (int)req->kind);
	if (req->flags & ~kind_flags[req->kind])
		return pw_error_set(err, PW_ERR_INVALID, "flags: 0x%x not allowed on %s",
				    (unsigned)(req->flags & ~kind_flags[req->kind]), kind);
	if (req->kind == PW_EXEC_REBOOT && !(req->flags & PW_EXEC_ALLOW_REBOOT))
		return pw_error_set(err, PW_ERR_INVALID,
				    "flags: a reboot needs the job's allow_reboot");
	if (req->n_packages > PW_EXEC_MAX_PACKAGES)
		return pw_error_set(err, PW_ERR_INVALID, "packages: %zu, more than %d",
				    req->n_packages, PW_EXEC_MAX_PACKAGES);
	bool lists = req->kind == PW_EXEC_SIMULATE || req->kind == PW_EXEC_PATCH ||
		     req->kind == PW_EXEC_HOLD || req->kind == PW_EXEC_UNHOLD ||
		     req->kind == PW_EXEC_ROLLBACK;
	bool all = req->flags & PW_EXEC_ALL_SECURITY;
	if (!lists && req->n_packages)
		return pw_error_set(err, PW_ERR_INVALID, "packages: %s takes none", kind);
	if (lists && all && req->n_packages)
		return pw_error_set(err, PW_ERR_INVALID,
				    "packages: either a list or all_security, not both");
	if (lists && !all && !req->n_packages)
		return pw_error_set(err, PW_ERR_INVALID, "packages: %s needs at least one", kind);
	if (!req->n_packages)
		return PW_OK;
	pw_scheme scheme;
	if (!ecosystem_scheme || pw_scheme_from_name(ecosystem_scheme, &scheme, err))
		return pw_error_set(err, PW_ERR_INVALID,
				    "packages: no package scheme known for this host (%s)",
				    ecosystem_scheme ? ecosystem_scheme : "none");
	for (size_t i = 0; i < req->n_packages; i++)
		if (check_package(req, i, scheme, err))
			return err->code;
	return PW_OK;
}
