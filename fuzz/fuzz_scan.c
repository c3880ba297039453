/* The scan on any inventory a client may send (`scan --inventory`, an
 * agent's check-in): the JSON is read with pw_inventory_from_json, then
 * scanned against a small index of real-looking statements for the deb,
 * rpm (module builds, kernels) and apk schemes, then written as JSON.
 * Nothing may crash, and a scan that succeeds must be consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "patchwarden/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pw_advindex *idx;

static void add(const char *id, const char *cve, const char *eco, const char *pkg, bool by_source,
		pw_fix_state state, const char *fixed, const char *summary)
{
	const char *cves[] = {cve};
	pw_affected af = {eco, pkg, by_source, state, fixed, NULL};
	pw_advisory a = {.id = id,
			 .source = "fuzz",
			 .summary = summary,
			 .cves = cves,
			 .n_cves = 1,
			 .severity = PW_SEV_HIGH,
			 .attack_vector = PW_AV_NETWORK,
			 .affected = &af,
			 .n_affected = 1};
	if (pw_advindex_add(idx, &a, NULL))
		abort();
}

static void build_index(void)
{
	if (pw_advindex_new(&idx, NULL))
		abort();
	add("DSA-1", "CVE-2021-1", "debian:11", "openssl", true, PW_FIX_FIXED, "1.1.1n-0+deb11u4",
	    NULL);
	add("DSA-2", "CVE-2021-2", "debian:11", "openssl", true, PW_FIX_FIXED, "1.1.1n-0+deb11u5",
	    NULL);
	add("DSA-3", "CVE-2021-3", "debian:11", "bash", true, PW_FIX_UNFIXED, NULL, NULL);
	add("DSA-4", "CVE-2021-4", "debian:11", "linux", true, PW_FIX_FIXED, "5.10.158-2", NULL);
	add("CVE-2020-5", "CVE-2020-5", "ubuntu:18.04", "linux-signed", true, PW_FIX_FIXED,
	    "4.15.0-101.102", NULL);
	add("CVE-2020-6", "CVE-2020-6", "ubuntu:18.04", "wayland", true, PW_FIX_FIXED,
	    "1.16.0-1ubuntu1.1~18.04.4", NULL);
	add("ALSA-1", "CVE-2022-7", "almalinux:8", "postgresql", false, PW_FIX_FIXED,
	    "13.20-1.module_el8.10.0+3967+334cd65a", "Important: postgresql:13 security update");
	add("ALSA-2", "CVE-2022-8", "almalinux:8", "postgresql", false, PW_FIX_FIXED,
	    "15.3-1.module_el8.8.0+3610+f1fe5820", "Important: postgresql:15 security update");
	add("ALSA-3", "CVE-2022-9", "almalinux:8", "kernel-core", false, PW_FIX_FIXED,
	    "4.18.0-348.el8", NULL);
	add("ALSA-4", "CVE-2022-10", "almalinux:8", "bash", false, PW_FIX_FIXED, "0:4.4.20-1.el8_4",
	    NULL);
	add("ALPINE-1", "CVE-2022-11", "alpine:3.15", "zlib", false, PW_FIX_FIXED, "1.2.12-r2",
	    NULL);
	add("ALPINE-2", "CVE-2022-12", "alpine:3.15", "openssl", false, PW_FIX_FIXED, "1.1.1q-r0",
	    NULL);
	add("ALPINE-3", "CVE-2022-13", "alpine:3.15", "linux-lts", false, PW_FIX_FIXED,
	    "5.15.40-r0", NULL);
	pw_kev_entry k = {.cve = "CVE-2021-1", .due_date = "2022-01-01"};
	pw_epss_entry ep = {"CVE-2022-7", 0.5, 0.9};
	if (pw_advindex_add_kev(idx, &k, NULL) || pw_advindex_add_epss(idx, &ep, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!idx)
		build_index();
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	if (!j)
		return 0;
	pw_inventory inv = PW_INVENTORY_INIT;
	if (pw_inventory_from_json(&inv, j, NULL) == PW_OK) {
		pw_policy pol;
		pw_policy_defaults(&pol);
		pw_scan_host host = {size % 2 ? PW_EXPOSURE_INTERNET : PW_EXPOSURE_INTERNAL, NULL};
		pw_scan_result r = PW_SCAN_RESULT_INIT;
		pw_error e = PW_ERROR_INIT;
		pw_err rc = pw_scan_inventory(idx, &inv, &host, &pol, &r, &e);
		if (rc && !e.msg[0])
			__builtin_trap(); /* a failure always explains itself */
		if (rc == PW_OK) {
			size_t sum = 0;
			for (int p = 0; p < PW_PRIO__COUNT; p++)
				sum += r.counts[p];
			if (sum != r.n_findings)
				__builtin_trap();
			for (size_t i = 0; i < r.n_findings; i++)
				if (!r.findings[i].fixed || !r.findings[i].installed ||
				    !r.findings[i].n_binaries)
					__builtin_trap();
			cJSON *out = pw_scan_result_to_json(&r, &pol);
			char *text = out ? cJSON_PrintUnformatted(out) : NULL;
			free(text);
			cJSON_Delete(out);
		}
		pw_scan_result_release(&r);
	}
	pw_inventory_release(&inv);
	cJSON_Delete(j);
	return 0;
}
