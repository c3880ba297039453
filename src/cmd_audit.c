/* patchwarden audit: check and read the hash-chained audit log. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/audit.h"
#include "patchwarden/schema.h"

#define LIST_DEFAULT 100

enum { VERIFY = 1 << 0, LIST = 1 << 1 };

static struct {
	bool json;
	int64_t after, limit;
} opt = {false, -1, LIST_DEFAULT};

static const struct pw_option options[] = {
	PW_OPT_FLAG(0, "json", &opt.json, "print JSON instead of text"),
	{.kind = PW_OPT_INT,
	 .long_name = "after",
	 .value = &opt.after,
	 .argh = "ID",
	 .help = "list the events after event ID",
	 .scope = LIST,
	 .min = 0,
	 .max = INT64_MAX},
	{.kind = PW_OPT_INT,
	 .long_name = "limit",
	 .value = &opt.limit,
	 .argh = "N",
	 .help = "list at most N events (default 100)",
	 .scope = LIST,
	 .min = 1,
	 .max = INT64_MAX},
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden audit verify [--db URL] [--json]\n"
	"       patchwarden audit list [--db URL] [--json] [--after ID] [--limit N]\n"
	"\n"
	"verify walks the whole audit log and checks every event against its hash\n"
	"and its link to the event before it, and the newest event against the\n"
	"chain head. It names the first event that was edited, deleted or moved.\n"
	"It prints the head hash: keep a copy elsewhere to detect a rewrite of\n"
	"the whole log.\n"
	"\n"
	"list prints events oldest first: those after event ID, or the newest N.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Exit status: 0 intact (verify) or listed, 1 the log was tampered with,\n"
	"2 bad usage or unreadable database.\n"
	"See patchwarden-audit(1).\n";

const struct pw_usage cmd_audit_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

#define CMD "audit"
/* Table cells for before/after are cut to this many bytes. */
#define CHANGE_WIDTH 60

static int verify(pw_db *db, bool json)
{
	pw_audit_report r;
	pw_error err = PW_ERROR_INIT;
	pw_err rc = pw_audit_verify(db, &r, &err);
	if (rc && rc != PW_ERR_INTEGRITY)
		return pw_cli_fail_err(CMD, &err);
	if (json) {
		cJSON *o = pw_audit_report_to_json(&r, !rc);
		char *text = o ? cJSON_Print(o) : NULL;
		cJSON_Delete(o);
		if (!text)
			return pw_cli_fail(CMD, "out of memory");
		puts(text);
		cJSON_free(text);
	} else if (rc) {
		printf("audit log TAMPERED: %s\n", r.reason);
	} else {
		printf("audit log intact: %" PRId64 " event(s), head %s\n", r.events, r.head_hash);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return pw_cli_fail(CMD, "cannot write the output");
	return rc ? PW_EXIT_FALSE : PW_EXIT_OK;
}

/* "before -> after", cut to the cell width at a character boundary. */
static void change_text(const pw_audit_event *e, char *buf, size_t size)
{
	if (e->before_json && e->after_json)
		snprintf(buf, size, "%s -> %s", e->before_json, e->after_json);
	else
		snprintf(buf, size, "%s",
			 e->after_json    ? e->after_json
			 : e->before_json ? e->before_json
					  : "-");
	size_t n = strlen(buf);
	if (n > CHANGE_WIDTH) {
		n = CHANGE_WIDTH - 3;
		while (n && ((unsigned char)buf[n] & 0xC0) == 0x80)
			n--;
		memcpy(buf + n, "...", 4);
	}
}

static cJSON *event_json(const void *e)
{
	return pw_audit_event_to_json(e);
}

static int list(pw_db *db, bool json, int64_t after, bool have_after, int64_t limit)
{
	pw_error err = PW_ERROR_INIT;
	if (!have_after) {
		int64_t last;
		char head[PW_AUDIT_HASH_HEX + 1];
		if (pw_audit_head(db, &last, head, &err))
			return pw_cli_fail_err(CMD, &err);
		after = last > limit ? last - limit : 0;
	}
	pw_audit_list l = PW_AUDIT_LIST_INIT;
	if (pw_audit_read(db, after, (size_t)limit, &l, &err)) {
		pw_audit_list_release(&l);
		return pw_cli_fail_err(CMD, &err);
	}
	if (json) {
		int rc = pw_cli_print_json_array(CMD, l.v, l.n, sizeof *l.v, event_json);
		if (rc) {
			pw_audit_list_release(&l);
			return rc;
		}
	} else {
		printf("%-6s  %-24s  %-20s  %-20s  %-16s  %s\n", "ID", "TIME", "ACTOR", "ACTION",
		       "TARGET", "CHANGE");
		for (size_t i = 0; i < l.n; i++) {
			const pw_audit_event *e = &l.v[i];
			char change[CHANGE_WIDTH + 512];
			change_text(e, change, sizeof change);
			printf("%-6" PRId64 "  %-24s  %-20s  %-20s  %-16s  %s\n", e->id, e->ts,
			       e->actor, e->action, e->target, change);
		}
	}
	pw_audit_list_release(&l);
	if (fflush(stdout) != 0 || ferror(stdout))
		return pw_cli_fail(CMD, "cannot write the output");
	return PW_EXIT_OK;
}

int cmd_audit(int argc, char **argv, struct pw_setup *setup)
{
	if (argc < 2)
		return pw_cli_usage_error(CMD, "which subcommand? verify or list");
	bool is_list = !strcmp(argv[1], "list");
	if (!is_list && strcmp(argv[1], "verify") != 0)
		return pw_cli_usage_error(CMD, "unknown subcommand '%s'; use verify or list",
					  argv[1]);
	int n = pw_cli_parse(CMD, setup, argc - 1, argv + 1, PW_OPT_TABLES(options),
			     is_list ? LIST : VERIFY);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error(CMD, "unexpected argument '%s'", argv[1]);
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	return is_list ? list(db, opt.json, opt.after, opt.after >= 0, opt.limit)
		       : verify(db, opt.json);
}
