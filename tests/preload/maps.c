/*
 * maps udp|tcp - make only non-TCP sockets ("udp") or one TCP connection
 * ("tcp"), then print whether libconfuse is mapped into the process and
 * whether its symbols are visible to the program.
 */
#include <dlfcn.h>

#include "common.h"

static bool mapped(const char *name)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, name) != NULL;
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd;

	if (argc > 1 && strcmp(argv[1], "tcp") == 0) {
		int l = listener(AF_INET, &sa, &len);

		fd = socket(AF_INET, SOCK_STREAM, 0);
		connect(fd, (struct sockaddr *)&sa, len);
		close(l);
	} else {
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(9),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		connect(fd, (struct sockaddr *)&to, sizeof(to));
		sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	}
	close(fd);
	printf("libconfuse %s\n", mapped("libconfuse") ? "mapped" : "absent");
	printf("cfg_init %s\n", dlsym(RTLD_DEFAULT, "cfg_init") ? "visible" : "hidden");
	return 0;
}
