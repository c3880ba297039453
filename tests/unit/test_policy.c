#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patchwarden/policy.h"

static pw_priority_input base(void)
{
	pw_priority_input in;
	memset(&in, 0, sizeof in);
	in.epss = -1;
	in.in_use = -1;
	in.severity = PW_SEV_MEDIUM;
	in.attack_vector = PW_AV_NETWORK;
	in.exposure = PW_EXPOSURE_INTERNAL;
	return in;
}

static void expect(const pw_policy *p, const pw_priority_input *in, pw_priority prio,
		   pw_priority_reason reason, const char *text)
{
	pw_priority_reason r;
	assert_int_equal(pw_policy_decide(p, in, &r), prio);
	assert_int_equal(r, reason);
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_policy_reason_text(p, in, r, &b), PW_OK);
	assert_string_equal(pw_buf_str(&b), text);
	pw_buf_release(&b);
}

static void test_defaults(void **state)
{
	(void)state;
	pw_policy p;
	pw_policy_defaults(&p);
	assert_true(p.epss_threshold > 0.0999 && p.epss_threshold < 0.1001);
	assert_int_equal(p.sla_days[PW_PRIO_EMERGENCY], 2);
	assert_int_equal(p.sla_days[PW_PRIO_HIGH], 14);
	assert_int_equal(p.sla_days[PW_PRIO_NORMAL], 30);
	assert_int_equal(p.sla_days[PW_PRIO_LOW], 90);
	assert_int_equal(p.default_exposure, PW_EXPOSURE_INTERNAL);
	/* A NULL config is all defaults. */
	pw_policy q;
	assert_int_equal(pw_policy_from_config(NULL, &q, NULL), PW_OK);
	assert_true(q.epss_threshold == p.epss_threshold);
	assert_memory_equal(q.sla_days, p.sla_days, sizeof p.sla_days);
	assert_true(q.unknown_vector_is_network && q.unused_is_low);
	assert_int_equal(q.default_exposure, PW_EXPOSURE_INTERNAL);
}

static void test_rules(void **state)
{
	(void)state;
	pw_policy p;
	pw_policy_defaults(&p);
	pw_priority_input in = base();

	/* KEV beats everything, also "not in use" and a local vector. */
	in.kev_cve = "CVE-2021-44228";
	in.kev_due = "2021-12-24";
	in.in_use = 0;
	in.attack_vector = PW_AV_LOCAL;
	expect(&p, &in, PW_PRIO_EMERGENCY, PW_REASON_KEV,
	       "CVE-2021-44228 is in CISA KEV (due 2021-12-24)");
	in.kev_due = NULL;
	expect(&p, &in, PW_PRIO_EMERGENCY, PW_REASON_KEV, "CVE-2021-44228 is in CISA KEV");

	/* EPSS >= threshold: emergency only when internet-facing. */
	in = base();
	in.epss = 0.5;
	in.epss_cve = "CVE-2020-1";
	expect(&p, &in, PW_PRIO_NORMAL, PW_REASON_DEFAULT,
	       "severity medium, attack vector network");
	in.exposure = PW_EXPOSURE_INTERNET;
	expect(&p, &in, PW_PRIO_EMERGENCY, PW_REASON_EPSS_INTERNET,
	       "EPSS 0.500 (CVE-2020-1) >= 0.100 on an internet-facing host");
	in.epss = 0.1; /* the threshold itself counts */
	assert_int_equal(pw_policy_decide(&p, &in, NULL), PW_PRIO_EMERGENCY);
	in.epss = 0.0999;
	assert_int_equal(pw_policy_decide(&p, &in, NULL), PW_PRIO_NORMAL);

	/* Not in use -> low, unknown (-1) is not "not in use". */
	in = base();
	in.severity = PW_SEV_CRITICAL;
	in.in_use = 0;
	expect(&p, &in, PW_PRIO_LOW, PW_REASON_NOT_IN_USE,
	       "installed, but no running process uses its files");
	in.in_use = -1;
	expect(&p, &in, PW_PRIO_HIGH, PW_REASON_NETWORK_SEVERE,
	       "severity critical, attack vector network");
	in.in_use = 1;
	assert_int_equal(pw_policy_decide(&p, &in, NULL), PW_PRIO_HIGH);
	p.unused_is_low = false;
	in.in_use = 0;
	assert_int_equal(pw_policy_decide(&p, &in, NULL), PW_PRIO_HIGH);
	p.unused_is_low = true;

	/* Local / physical only -> low; adjacent is not network. */
	in = base();
	in.severity = PW_SEV_HIGH;
	in.attack_vector = PW_AV_PHYSICAL;
	expect(&p, &in, PW_PRIO_LOW, PW_REASON_LOCAL_VECTOR, "attack vector physical only");
	in.attack_vector = PW_AV_ADJACENT;
	expect(&p, &in, PW_PRIO_NORMAL, PW_REASON_DEFAULT, "severity high, attack vector adjacent");

	/* Unknown vector counts as network unless configured otherwise. */
	in.attack_vector = PW_AV_UNKNOWN;
	expect(&p, &in, PW_PRIO_HIGH, PW_REASON_NETWORK_SEVERE,
	       "severity high, attack vector unknown (counted as network)");
	p.unknown_vector_is_network = false;
	assert_int_equal(pw_policy_decide(&p, &in, NULL), PW_PRIO_NORMAL);

	in = base();
	in.severity = PW_SEV_NEGLIGIBLE;
	expect(&p, &in, PW_PRIO_LOW, PW_REASON_NEGLIGIBLE, "severity negligible");
	in.severity = PW_SEV_UNKNOWN;
	in.attack_vector = PW_AV_UNKNOWN;
	expect(&p, &in, PW_PRIO_NORMAL, PW_REASON_DEFAULT,
	       "no KEV entry, severity and attack vector unknown");
}

static void test_config(void **state)
{
	(void)state;
	pw_config *c = pw_config_new();
	assert_non_null(c);
	assert_int_equal(pw_config_set(c, "policy", "epss_threshold", "0.3"), PW_OK);
	assert_int_equal(pw_config_set(c, "policy", "sla_high", "7"), PW_OK);
	assert_int_equal(pw_config_set(c, "policy", "unknown_vector_is_network", "false"), PW_OK);
	assert_int_equal(pw_config_set(c, "scan", "exposure", "internet"), PW_OK);
	pw_policy p;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_policy_from_config(c, &p, &e), PW_OK);
	assert_true(p.epss_threshold > 0.299 && p.epss_threshold < 0.301);
	assert_int_equal(p.sla_days[PW_PRIO_HIGH], 7);
	assert_int_equal(p.sla_days[PW_PRIO_LOW], 90);
	assert_false(p.unknown_vector_is_network);
	assert_int_equal(p.default_exposure, PW_EXPOSURE_INTERNET);

	assert_int_equal(pw_config_set(c, "policy", "epss_threshold", "1.5"), PW_OK);
	assert_int_equal(pw_policy_from_config(c, &p, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "epss_threshold"));
	assert_int_equal(pw_config_set(c, "policy", "epss_threshold", "high"), PW_OK);
	assert_int_not_equal(pw_policy_from_config(c, &p, &e), PW_OK);
	assert_int_equal(pw_config_set(c, "policy", "epss_threshold", "0.2"), PW_OK);
	assert_int_equal(pw_config_set(c, "policy", "sla_low", "-1"), PW_OK);
	assert_int_equal(pw_policy_from_config(c, &p, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "sla_low"));
	assert_int_equal(pw_config_set(c, "policy", "sla_low", "60"), PW_OK);
	assert_int_equal(pw_config_set(c, "scan", "exposure", "dmz"), PW_OK);
	assert_int_equal(pw_policy_from_config(c, &p, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "[scan] exposure"));
	pw_config_free(c);
}

static void test_names(void **state)
{
	(void)state;
	pw_priority pr;
	for (int i = 0; i < PW_PRIO__COUNT; i++) {
		assert_int_equal(pw_priority_from_name(pw_priority_name((pw_priority)i), &pr, NULL),
				 PW_OK);
		assert_int_equal(pr, i);
	}
	assert_true(PW_PRIO_EMERGENCY > PW_PRIO_HIGH && PW_PRIO_HIGH > PW_PRIO_NORMAL &&
		    PW_PRIO_NORMAL > PW_PRIO_LOW);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_priority_from_name("urgent", &pr, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "urgent"));
	assert_int_equal(pw_priority_from_name(NULL, &pr, NULL), PW_ERR_INVALID);
	pw_exposure x;
	assert_int_equal(pw_exposure_from_name("isolated", &x, NULL), PW_OK);
	assert_int_equal(x, PW_EXPOSURE_ISOLATED);
	assert_string_equal(pw_exposure_name(PW_EXPOSURE_INTERNET), "internet");
	assert_int_equal(pw_exposure_from_name("public", &x, NULL), PW_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
