/*
 * libctor.so - another preloaded library whose constructor makes a TCP
 * connection before kashim has done anything. It checks the options
 * itself against CTOR_EXPECT ("none" or IDLE,INTVL,CNT,UTO) and ends the
 * process with status 3 when they are wrong.
 */
#include "../common.h"

__attribute__((constructor)) static void connect_early(void)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int l = listener(AF_INET, &sa, &len), c = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(c, (struct sockaddr *)&sa, len) < 0)
		FAIL("constructor connect: %s", strerror(errno));
	expect_ka("made in a constructor", c, want_from(getenv("CTOR_EXPECT")));
	close(c);
	close(l);
	if (failures)
		_exit(3);
}
