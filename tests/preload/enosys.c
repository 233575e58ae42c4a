/*
 * enosys - run with libnodlsym.so before libkashim.so: every wrapped call
 * returns -1 with ENOSYS, and the program goes on to exit 0.
 */
#include "common.h"

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	errno = 0;
	EXPECT(socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == ENOSYS,
	       "socket: errno %d", errno);
	errno = 0;
	EXPECT(connect(0, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
		       errno == ENOSYS,
	       "connect: errno %d", errno);
	errno = 0;
	EXPECT(accept(0, NULL, NULL) == -1 && errno == ENOSYS, "accept: errno %d",
	       errno);
	errno = 0;
	EXPECT(setsockopt(0, SOL_SOCKET, SO_KEEPALIVE, &(int){ 1 }, sizeof(int)) == -1 &&
		       errno == ENOSYS,
	       "setsockopt: errno %d", errno);
	return failures ? 1 : 0;
}
