/*
 * test_ring.c - the command's io_uring of socket options (src/cmd/uring.c)
 * on real loopback sockets, read back with getsockopt(): reads, sets,
 * a chain stopped at the first set the kernel refuses, a full ring, a
 * closed one. Needs Linux 6.7 or later with io_uring on;
 * anywhere else the first test fails and says why.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/uring.h"

static struct kashim_ring r;
static int cli = -1, srv = -1, lst = -1;

/* A connected loopback pair, and the ring. */
static void setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int rc = kashim_ring_open(&r);

	ck_assert_msg(rc == 0, "no io_uring with socket commands here: %s",
		      strerror(-rc));
	lst = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lst, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lst, 1), 0);
	ck_assert_int_eq(getsockname(lst, (struct sockaddr *)&a, &len), 0);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(cli, (struct sockaddr *)&a, sizeof(a)), 0);
	srv = accept(lst, NULL, NULL);
	ck_assert_int_ge(srv, 0);
}

static void teardown(void)
{
	kashim_ring_close(&r);
	close(cli);
	close(srv);
	close(lst);
}

static int get(int s, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(s, level, name, &v, &len), 0);
	return v;
}

START_TEST(reads_what_getsockopt_reads)
{
	uint64_t cookie = 0, direct = 0;
	socklen_t len = sizeof(direct);
	int ka = -1, res[2];

	ck_assert_int_eq(kashim_ring_get(&r, cli, SOL_SOCKET, SO_COOKIE, &cookie,
					 sizeof(cookie), &res[0]), 0);
	ck_assert_int_eq(kashim_ring_get(&r, cli, SOL_SOCKET, SO_KEEPALIVE, &ka,
					 sizeof(ka), &res[1]), 0);
	ck_assert_int_eq(kashim_ring_submit(&r), 0);
	ck_assert_int_eq(res[0], (int)sizeof(cookie));
	ck_assert_int_eq(res[1], (int)sizeof(ka));
	ck_assert_int_eq(getsockopt(cli, SOL_SOCKET, SO_COOKIE, &direct, &len), 0);
	ck_assert_uint_ne(cookie, 0);
	ck_assert_uint_eq(cookie, direct);
	ck_assert_int_eq(ka, 0);
}
END_TEST

START_TEST(sets_tcp_options_in_one_submit)
{
	int one = 1, idle = 77, intvl = 9, cnt = 5, res[4];

	kashim_ring_set(&r, srv, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one),
			&res[0], true);
	kashim_ring_set(&r, srv, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle),
			&res[1], true);
	kashim_ring_set(&r, srv, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
			sizeof(intvl), &res[2], true);
	kashim_ring_set(&r, srv, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt),
			&res[3], false);
	ck_assert_int_eq(kashim_ring_submit(&r), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(res[i], 0);
	ck_assert_int_eq(get(srv, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(get(srv, IPPROTO_TCP, TCP_KEEPIDLE), 77);
	ck_assert_int_eq(get(srv, IPPROTO_TCP, TCP_KEEPINTVL), 9);
	ck_assert_int_eq(get(srv, IPPROTO_TCP, TCP_KEEPCNT), 5);
	ck_assert_int_eq(get(cli, SOL_SOCKET, SO_KEEPALIVE), 0); /* the other end */
}
END_TEST

/* A refused set stops its socket's chain, as one set at a time would;
 * the next socket's chain runs. */
START_TEST(a_refused_set_stops_the_chain)
{
	int idle = 30, bad = 1000, intvl = 7, one = 1, res[4];
	int before = get(cli, IPPROTO_TCP, TCP_KEEPINTVL);

	kashim_ring_set(&r, cli, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle),
			&res[0], true);
	kashim_ring_set(&r, cli, IPPROTO_TCP, TCP_KEEPCNT, &bad, sizeof(bad),
			&res[1], true); /* over 127: EINVAL */
	kashim_ring_set(&r, cli, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
			sizeof(intvl), &res[2], false);
	kashim_ring_set(&r, srv, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one),
			&res[3], false);
	ck_assert_int_eq(kashim_ring_submit(&r), 0);
	ck_assert_int_eq(res[0], 0);
	ck_assert_int_eq(res[1], -EINVAL);
	ck_assert_int_eq(res[2], -ECANCELED);
	ck_assert_int_eq(res[3], 0);
	ck_assert_int_eq(get(cli, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	ck_assert_int_eq(get(cli, IPPROTO_TCP, TCP_KEEPINTVL), before);
	ck_assert_int_eq(get(srv, SOL_SOCKET, SO_KEEPALIVE), 1);
}
END_TEST

START_TEST(a_full_ring_says_so_and_runs_what_it_holds)
{
	static int ka[KASHIM_RING_ENTRIES + 1], res[KASHIM_RING_ENTRIES + 1];
	int n = 0;

	while (kashim_ring_get(&r, cli, SOL_SOCKET, SO_KEEPALIVE, &ka[n],
			       sizeof(ka[n]), &res[n]) == 0)
		ck_assert_int_le(++n, KASHIM_RING_ENTRIES);
	ck_assert_int_eq(n, KASHIM_RING_ENTRIES);
	ck_assert_int_eq(kashim_ring_submit(&r), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(res[i], (int)sizeof(int));
	/* Empty again, and nothing to run. */
	ck_assert_int_eq(kashim_ring_submit(&r), 0);
	ck_assert_int_eq(kashim_ring_get(&r, cli, SOL_SOCKET, SO_KEEPALIVE,
					 &ka[0], sizeof(ka[0]), &res[0]), 0);
	ck_assert_int_eq(kashim_ring_submit(&r), 0);
	ck_assert_int_eq(res[0], (int)sizeof(int));
}
END_TEST

START_TEST(a_closed_ring_takes_nothing)
{
	int ka, res = 1;

	kashim_ring_close(&r);
	ck_assert_int_eq(r.fd, -1);
	ck_assert_int_eq(kashim_ring_get(&r, cli, SOL_SOCKET, SO_KEEPALIVE, &ka,
					 sizeof(ka), &res), -ENOSPC);
	ck_assert_int_eq(kashim_ring_submit(&r), 0);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *su = suite_create("ring");
	TCase *tc = tcase_create("sockets");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reads_what_getsockopt_reads);
	tcase_add_test(tc, sets_tcp_options_in_one_submit);
	tcase_add_test(tc, a_refused_set_stops_the_chain);
	tcase_add_test(tc, a_full_ring_says_so_and_runs_what_it_holds);
	tcase_add_test(tc, a_closed_ring_takes_nothing);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
