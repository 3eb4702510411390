/*
** Replays a saved fuzz corpus through a libFuzzer target without libFuzzer,
** so `make check` (gcc, optionally ASan) re-runs every saved input.
** Usage: replay DIR...  Prints one TAP line per directory.
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int t = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		int files = 0, errs = 0;
		if (d) {
			struct dirent *de;
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				char p[4096];
				snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
				if (replay_file(p) != 0)
					errs++;
				files++;
			}
			closedir(d);
		}
		t++;
		if (!d || files == 0 || errs) {
			printf("not ok %d - replay %s (%d files, %d unreadable)\n", t, argv[i], files, errs);
			bad++;
		} else {
			printf("ok %d - replay %s (%d inputs)\n", t, argv[i], files);
		}
	}
	printf("1..%d\n", t);
	return bad != 0;
}
