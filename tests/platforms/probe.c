/*
 * probe - one TCP connection on the loopback, then one line on stdout:
 * the program's word size, the keep-alive options the kernel holds on the
 * connected socket, and which kashim library and config module are
 * mapped into the process (from /proc/self/maps; "-" when none):
 *
 *   bits=32 keepalive=1 idle=43 intvl=7 cnt=5 uto=9000 lib=PATH module=PATH
 */
#include "../preload/common.h"

/* The path of the first mapping whose name ends in name, or "-". */
static void mapped(const char *name, char *out, size_t n)
{
	char line[1024];
	FILE *f = fopen("/proc/self/maps", "r");

	snprintf(out, n, "-");
	while (f && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/'), *end;

		line[strcspn(line, "\n")] = '\0';
		end = path ? strrchr(path, '/') : NULL;
		if (end && strcmp(end + 1, name) == 0) {
			snprintf(out, n, "%s", path);
			break;
		}
	}
	if (f)
		fclose(f);
}

int main(void)
{
	char lib[512], module[512];
	struct sockaddr_storage sa;
	socklen_t len;
	int l = listener(AF_INET, &sa, &len), c = socket(AF_INET, SOCK_STREAM, 0);
	struct ka k;

	if (connect(c, (struct sockaddr *)&sa, len) < 0) {
		perror("probe: connect");
		return 2;
	}
	k = ka_read(c);
	mapped("libkashim.so", lib, sizeof(lib));
	mapped("kashim-conf.so", module, sizeof(module));
	printf("bits=%zu keepalive=%d idle=%d intvl=%d cnt=%d uto=%d lib=%s module=%s\n",
	       sizeof(void *) * 8, k.on, k.idle, k.intvl, k.cnt, k.uto, lib,
	       module);
	close(c);
	close(l);
	return 0;
}
