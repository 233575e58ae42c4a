/*
 * test_image.c - the maps kashim-bpf builds pick the same rule as the
 * library, for every connection tried. No kernel needed.
 *
 * Random config files (rules with overlapping port ranges, nested
 * address blocks, programs, directions, enable = false) are read by the
 * library's own loader; image.c turns each into map contents; a copy of
 * the BPF program's lookup (direction, port segment by binary search,
 * longest-prefix address and name, lowest rule bit) runs over the maps
 * and must agree with kashim_rule_for() on every port, address and
 * direction tried. Also checks what image.c must refuse.
 *
 *   test_image [SEED]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/kbpf.h"
#include "conf/conf.h"

#define EXE "test_image" /* the comm and base name the rules are matched on */

static int failures, checks;

/* The longest-prefix entry of keys (16 bytes after a prefixlen) for key. */
static uint64_t lpm(const void *keys, size_t size, const uint64_t *mask,
		    size_t n, const uint8_t *key)
{
	uint32_t best = 0;
	uint64_t m = 0;
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *k = (const uint8_t *)keys + i * size;
		uint32_t bits;
		bool match = true;

		memcpy(&bits, k, 4);
		for (uint32_t b = 0; b < bits && match; b++)
			match = !((k[4 + b / 8] ^ key[b / 8]) &
				  (0x80 >> (b % 8)));
		if (match && (!found || bits >= best)) {
			best = bits;
			m = mask[i];
			found = true;
		}
	}
	return m;
}

/* What the BPF program picks: a rule index, or -1 to leave it alone. */
static int bpf_pick(const struct kbpf_image *im, unsigned dir, uint16_t port,
		    const uint8_t *addr)
{
	uint8_t comm[KBPF_COMM_LEN] = {0};
	uint32_t lo = 0, hi = im->conf.nseg;
	uint64_t mask;
	int idx = 0;

	strncpy((char *)comm, EXE, KBPF_COMM_LEN - 1);
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (im->segs[mid].start <= port)
			lo = mid;
		else
			hi = mid;
	}
	mask = im->conf.dir_mask[dir - 1] & im->segs[lo].mask;
	mask &= im->conf.hosts_any | lpm(im->hosts, sizeof(im->hosts[0]),
					 im->host_mask, im->nhosts, addr);
	mask &= im->conf.progs_any | lpm(im->progs, sizeof(im->progs[0]),
					 im->prog_mask, im->nprogs, comm);
	if (!im->conf.enable || !mask)
		return -1;
	while (!(mask & (1ull << idx)))
		idx++;
	return im->vals[idx].flags & KBPF_V_ENABLE ? idx : -1;
}

/* What the library picks, as the same kind of index. */
static int lib_pick(const struct kashim_settings *s, unsigned dir,
		    uint16_t port, const uint8_t *addr)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
	const struct kashim_rule *r;

	memcpy(&sa.sin6_addr, addr, 16);
	r = kashim_rule_for(s, dir, port, (struct sockaddr *)&sa);
	if (!r)
		return -1;
	return r == &s->top ? (int)s->nrules : (int)(r - s->rules);
}

static const char *const hosts[] = {
	"10.0.0.0/8",	 "10.1.0.0/16",	    "10.1.2.3",	 "::1",
	"2001:db8::/32", "2001:db8:1::/48", "0.0.0.0/0", "10.1.2.0/24",
};
static const char *const progs[] = {"test_image", "test_*",	 "other",
				    "t*",	  "test_imagex", "*"};
static const char *const dirs[] = {"both", "outgoing", "incoming"};

/* One match key list of 1 to 3 random items of pool, as the file writes it. */
static void list(FILE *f, const char *key, const char *const *pool, size_t n)
{
	int k = 1 + rand() % 3;

	fprintf(f, "  %s = {", key);
	for (int i = 0; i < k; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", pool[rand() % (int)n]);
	fprintf(f, "}\n");
}

/* Random match and value keys of one section. */
static void section(FILE *f)
{
	if (rand() % 2) {
		int lo = 1000 + rand() % 100;

		fprintf(f, "  ports = {%d, \"%d-%d\"}\n", 1000 + rand() % 100,
			lo, lo + rand() % 30);
	}
	if (rand() % 5 < 2)
		list(f, "hosts", hosts, sizeof(hosts) / sizeof(hosts[0]));
	if (rand() % 10 < 3)
		list(f, "programs", progs, sizeof(progs) / sizeof(progs[0]));
	if (rand() % 3)
		fprintf(f, "  direction = %s\n", dirs[rand() % 3]);
	if (rand() % 5 == 0)
		fprintf(f, "  enable = false\n");
	fprintf(f, "  idle = %d\n", 1 + rand() % 100);
}

/* Write a random config file to path. */
static void random_conf(const char *path)
{
	FILE *f = fopen(path, "w");
	int n = rand() % 12;

	if (!f) {
		perror(path);
		exit(2);
	}
	if (rand() % 3 == 0)
		section(f);
	for (int i = 0; i < n; i++) {
		fprintf(f, "rule r%d {\n", i);
		section(f);
		fprintf(f, "}\n");
	}
	fclose(f);
}

/* The addresses tried, in their IPv6 (IPv4-mapped) form. */
static size_t addresses(uint8_t (*a)[16])
{
	static const char *const text[] = {
		"::ffff:10.1.2.3",
		"::ffff:10.1.9.9",
		"::ffff:10.9.9.9",
		"::ffff:11.0.0.1",
		"::1",
		"2001:db8:1::5",
		"2001:db8:2::5",
		"2002::1",
		"::ffff:10.1.2.200",
		"::2",
	};
	size_t n = sizeof(text) / sizeof(text[0]);

	for (size_t i = 0; i < n; i++)
		inet_pton(AF_INET6, text[i], a[i]);
	return n;
}

/* Every port from 990 to 1140 and a few far ones, both directions. */
static void compare(const struct kashim_settings *s,
		    const struct kbpf_image *im, int round)
{
	uint8_t addr[16][16];
	size_t na = addresses(addr);
	static const uint16_t far[] = {0, 1, 80, 1883, 65535};

	for (unsigned dir = 1; dir <= 2; dir++)
		for (int p = 985; p < 1150 + 5; p++) {
			uint16_t port = p < 1150 ? (uint16_t)p : far[p - 1150];

			for (size_t i = 0; i < na; i++) {
				int want = lib_pick(s, dir, port, addr[i]);
				int got = bpf_pick(im, dir, port, addr[i]);

				checks++;
				if (want != got && failures++ < 10)
					printf("FAIL: round %d dir %u port %u "
					       "addr #%zu: library rule %d, "
					       "maps rule %d\n",
					       round, dir, port, i, want, got);
			}
		}
}

/* Load path into s and finish it as the library does; false on failure. */
static bool load(const char *path, struct kashim_settings *s, int round)
{
	char err[600];

	kashim_settings_defaults(s);
	if (kashim_conf_load(path, getuid(), s, err, sizeof(err)) !=
	    KASHIM_CONF_OK) {
		printf("FAIL: round %d: the random file does not load: %s\n",
		       round, err);
		failures++;
		return false;
	}
	kashim_settings_finish(s, EXE);
	return true;
}

/*
 * One random config: load it twice, once as the library keeps it (its
 * own index, if any) and once with kashim-bpf's full index; build the
 * maps from the second and compare them with the library's matching.
 */
static void one_round(const char *path, int round)
{
	static struct kbpf_image im;
	struct kashim_settings lib, bpf;
	char err[600];

	random_conf(path);
	if (!load(path, &lib, round))
		return;
	if (!load(path, &bpf, round)) {
		kashim_settings_free(&lib);
		return;
	}
	checks++;
	if (kbpf_image_build(&bpf, "/test", &im, err, sizeof(err)) == 0 ||
	    !strstr(err, "kashim_rules_index")) {
		printf("FAIL: round %d: maps built from the library's own "
		       "index\n", round);
		failures++;
	}
	if (kashim_rules_index(&bpf) != 0 || bpf.nseg < lib.nseg) {
		printf("FAIL: round %d: the full index: %zu segments, the "
		       "library's %zu\n", round, bpf.nseg, lib.nseg);
		failures++;
	} else if (kbpf_image_build(&bpf, "/test", &im, err, sizeof(err)) < 0) {
		printf("FAIL: round %d: image: %s\n", round, err);
		failures++;
	} else {
		compare(&lib, &im, round);
	}
	kashim_settings_free(&lib);
	kashim_settings_free(&bpf);
}

/* Globs a comm cannot honour and too many rules are refused. */
static void refusals(const char *path)
{
	static struct kbpf_image im;
	static const char *const bad[] = {
		"rule g {\n programs = {\"a?c\"}\n}\n",
		"rule g {\n programs = {\"a*c\"}\n}\n",
		"rule g {\n programs = {\"[ab]c\"}\n}\n"};
	struct kashim_settings s;
	char err[600];

	for (size_t i = 0; i < 4; i++) {
		FILE *f = fopen(path, "w");

		if (!f)
			exit(2);
		if (i < 3)
			fputs(bad[i], f);
		for (int r = 0; i == 3 && r < KBPF_MAX_RULES + 1; r++)
			fprintf(f, "rule r%d {\n idle = 5\n}\n", r);
		fclose(f);
		kashim_settings_defaults(&s);
		checks++;
		if (kashim_conf_load(path, getuid(), &s, err, sizeof(err)) !=
		    KASHIM_CONF_OK)
			printf("FAIL: refusal %zu: %s\n", i, err);
		kashim_settings_finish(&s, EXE);
		if (kashim_rules_index(&s) != 0)
			printf("FAIL: refusal %zu: no port index\n", i);
		if (kbpf_image_build(&s, "/test", &im, err, sizeof(err)) == 0 ||
		    !strstr(err, i < 3 ? "comm" : "at most")) {
			printf("FAIL: refusal %zu accepted\n", i);
			failures++;
		} else {
			printf("  ok: refused: %s\n", err);
		}
		kashim_settings_free(&s);
	}
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/kashim-test-image.XXXXXX";
	int fd = mkstemp(path);
	unsigned seed = argc > 1 ? (unsigned)atoi(argv[1]) : (unsigned)getpid();

	if (fd < 0)
		return perror("mkstemp"), 2;
	close(fd);
	srand(seed);
	for (int round = 0; round < 200; round++)
		one_round(path, round);
	refusals(path);
	unlink(path);
	printf("test_image (seed %u): %d lookups compared with the library, %d "
	       "failed\n",
	       seed, checks, failures);
	return failures ? 1 : 0;
}
