/* Replays a fuzz target's corpus without libFuzzer, so ordinary and
 * sanitizer builds run every target under ctest. Arguments are files or
 * directories; directories are read one level deep. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "patchwarden/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, &b, 0, &e)) {
		fprintf(stderr, "%s\n", pw_error_text(&e));
		return 1;
	}
	/* Copy to an exact-size allocation so ASan sees overreads. */
	uint8_t *copy = malloc(b.len ? b.len : 1);
	if (!copy)
		return 1;
	if (b.len)
		memcpy(copy, b.data, b.len);
	LLVMFuzzerTestOneInput(copy, b.len);
	free(copy);
	pw_buf_release(&b);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: no such corpus\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += replay(argv[i]);
			n++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
			bad += replay(p);
			n++;
		}
		if (d)
			closedir(d);
	}
	/* The empty input is always worth a run. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	printf("replayed %d inputs, %d unreadable\n", n, bad);
	return bad ? 1 : 0;
}
