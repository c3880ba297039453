/* The floor under the agent's memory (bench/agent_rss.sh): a process that
 * only links libcurl, then initialises it, then makes two HTTPS requests
 * verified against a CA file, as the agent's check-ins do. Prints a row
 * of the agent_rss.sh table after each step.
 *
 *   curl_floor URL CA-FILE */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value in KiB of `key` in a /proc file of "Key:   N kB" lines. */
static long field(const char *path, const char *key)
{
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen(path, "r");
	while (f && v < 0 && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static int shared_objects(void)
{
	char line[512], last[512] = "";
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof line, f)) {
		const char *p = strchr(line, '/');
		if (p && strstr(p, ".so") && strcmp(p, last)) {
			snprintf(last, sizeof last, "%s", p);
			n++;
		}
	}
	if (f)
		fclose(f);
	return n;
}

static void row(const char *what)
{
	const char *st = "/proc/self/status", *ro = "/proc/self/smaps_rollup";
	printf("| %s | %ld | %ld | %ld | %ld | %ld | %ld | %d |\n", what, field(st, "VmHWM"),
	       field(st, "VmRSS"), field(st, "RssAnon"), field(st, "RssFile"), field(ro, "Pss"),
	       field(ro, "Private_Dirty"), shared_objects());
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: curl_floor URL CA-FILE\n");
		return 2;
	}
	row("libcurl linked, not called");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	row("+ curl_global_init");
	CURL *c = curl_easy_init();
	if (!c)
		return 2;
	curl_easy_setopt(c, CURLOPT_URL, argv[1]);
	curl_easy_setopt(c, CURLOPT_CAINFO, argv[2]);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	for (int i = 0; i < 2; i++) {
		CURLcode rc = curl_easy_perform(c);
		if (rc != CURLE_OK) {
			fprintf(stderr, "curl_floor: %s: %s\n", argv[1], curl_easy_strerror(rc));
			return 2;
		}
	}
	row("+ 2 HTTPS requests");
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return 0;
}
