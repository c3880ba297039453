/* patchwarden inventory: what is installed on a host, as a table or JSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/buf.h"
#include "patchwarden/inventory.h"
#include "table.h"

static struct {
	const char *root;
	bool json;
} opt = {"/", false};

static const struct pw_option options[] = {
	PW_OPT_STRING(0, "root", &opt.root, "DIR",
		      "read the system under DIR instead of / (the running kernel\n"
		      "is known only for /)"),
	PW_OPT_FLAG(0, "json", &opt.json, "print one JSON object instead of a table"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden inventory [--root DIR] [--json]\n"
	"\n"
	"Lists the packages installed on this host, or on the system whose root\n"
	"directory is DIR, from its package database: dpkg (var/lib/dpkg/status,\n"
	"updates/ and status.d/), apk (lib/apk/db/installed) or rpm (through\n"
	"'rpm --root DIR'), with the OS from os-release and the kernel state.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Malformed entries are skipped with a warning on stderr (in --json, also in\n"
	"\"warnings\"). Exit status: 0 when the database was read, 2 when DIR has no\n"
	"readable package database or the arguments are wrong.\n"
	"See patchwarden-inventory(1).\n";

const struct pw_usage cmd_inventory_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* "src" or, when the source has a version of its own, "src (version)". */
static const char *source_text(const pw_package *p, char *buf, size_t size)
{
	if (!p->source)
		return "-";
	if (!p->source_version || (p->version && !strcmp(p->source_version, p->version)))
		return p->source;
	snprintf(buf, size, "%s (%s)", p->source, p->source_version);
	return buf;
}

/* clang-format off */
static const struct pw_table_col inventory_cols[] = {
	{"NAME", PW_COL_FLEX, 0},
	{"VERSION", 0, 0},
	{"ARCH", 0, 0},
	{"SOURCE", PW_COL_FLEX, 0},
	{"STATUS", PW_COL_FLEX, 0},
};
/* clang-format on */

static int print_table(const pw_inventory *inv, FILE *out)
{
	struct pw_term term = pw_term_stdout();
	pw_buf head = PW_BUF_INIT;
	pw_buf_printf(&head, "OS: %s [%s %s %s]  Arch: %s  Kernel: running %s",
		      or_dash(inv->os_pretty_name), or_dash(inv->os_id),
		      or_dash(inv->os_version_id), or_dash(inv->os_codename), or_dash(inv->arch),
		      inv->kernel_running ? inv->kernel_running : "unknown");
	if (inv->n_kernels)
		pw_buf_printf(&head, " (newest installed: %s)",
			      inv->kernels_installed[inv->n_kernels - 1]);
	if (inv->needs_reboot)
		pw_buf_puts(&head, ", reboot needed");
	pw_buf_printf(&head, "  Packages: %zu (%s)", inv->n_pkgs, pw_scheme_name(inv->scheme));
	pw_term_wrap(out, term.width, 2, pw_buf_str(&head));
	pw_buf_release(&head);

	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, inventory_cols, sizeof inventory_cols / sizeof inventory_cols[0]);
	char buf[512];
	for (size_t i = 0; i < inv->n_pkgs; i++) {
		const pw_package *p = &inv->pkgs[i];
		const char *row[] = {p->name, p->version, p->arch, source_text(p, buf, sizeof buf),
				     p->status};
		pw_table_row(&t, PW_STYLE_NONE, row);
	}
	int rc = pw_table_print(&t, out, term);
	pw_table_release(&t);
	return rc ? pw_cli_fail("inventory", "out of memory") : PW_EXIT_OK;
}

static int print_json(const pw_inventory *inv, FILE *out)
{
	cJSON *o = pw_inventory_to_json(inv);
	char *text = o ? cJSON_Print(o) : NULL;
	cJSON_Delete(o);
	if (!text)
		return pw_cli_fail("inventory", "out of memory");
	fputs(text, out);
	fputc('\n', out);
	cJSON_free(text);
	return PW_EXIT_OK;
}

int cmd_inventory(int argc, char **argv, struct pw_setup *setup)
{
	int n = pw_cli_parse("inventory", setup, argc, argv, PW_OPT_TABLES(options), ~0u);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error("inventory", "unexpected argument '%s'", argv[0]);

	pw_inventory inv = PW_INVENTORY_INIT;
	pw_error err = PW_ERROR_INIT;
	double start = pw_cli_now();
	if (pw_inventory_read(opt.root, &inv, &err)) {
		pw_inventory_release(&inv);
		return pw_cli_fail_err("inventory", &err);
	}
	pw_cli_info("inventory", "read %zu packages under %s in %.3f s", inv.n_pkgs, opt.root,
		    pw_cli_now() - start);
	for (size_t i = 0; i < inv.n_warnings; i++)
		pw_cli_warn("inventory", "%s", inv.warnings[i]);
	int rc = opt.json ? print_json(&inv, stdout) : print_table(&inv, stdout);
	pw_inventory_release(&inv);
	if (fflush(stdout) != 0 || ferror(stdout))
		return pw_cli_fail("inventory", "cannot write the output");
	return rc;
}
