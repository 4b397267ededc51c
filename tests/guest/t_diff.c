/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_diff.c - the differential test: a few hundred generated cases (file
 * size, offset mode, start, count, socket type, blocking or not), each run
 * once through sendfile(2) and once through zcopy on identical fresh
 * setups. Return value, errno, offset, file position and the bytes (or
 * datagrams) the peer received must be identical, and the bytes must be
 * the file's. Prints failures in full and a "differential:" summary.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

enum sink { S_TCP, S_UNIX, S_UDP };
static const char *const sink_name[] = { "tcp", "unix", "udp" };

struct dcase {
	size_t size;
	int use_offset;
	off_t start;
	size_t count;
	enum sink sink;
	int nonblock;
};

struct outcome {
	ssize_t ret;
	int err;
	off_t off, pos;
	size_t got;    /* stream: bytes received */
	uint64_t hash; /* of those bytes */
	long bad;      /* first byte that is not the file's, or -1 */
	int nd;	       /* udp: datagrams received */
	size_t dlen[4];
};

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

/*
 * UDP: send, flush, then an empty datagram as an end marker through the same
 * socket (loopback keeps one socket's datagrams in order), and read until
 * the marker. No method under test sends an empty datagram.
 */
static void udp_run(const struct method *m, const struct dcase *c, int in, off_t *offp,
		    uint64_t seed, struct outcome *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	socklen_t len = sizeof(a);
	int r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	static unsigned char buf[70000];
	off_t at = c->start;
	int bufsz = 1 << 20;

	setsockopt(r, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(r, (void *)&a, sizeof(a)) || getsockname(r, (void *)&a, &len) ||
	    connect(s, (void *)&a, sizeof(a)))
		die("udp");
	if (c->nonblock)
		fcntl(s, F_SETFL, O_NONBLOCK);
	errno = 0;
	o->ret = m->fn(s, in, offp, c->count, NULL);
	o->err = o->ret < 0 ? errno : 0;
	/*
	 * A datagram the call left corked (MSG_MORE, then an error) is part
	 * of the outcome: uncorking sends it.
	 */
	setsockopt(s, IPPROTO_UDP, UDP_CORK, &(int){ 0 }, sizeof(int));
	if (send(s, "", 0, 0) != 0)
		die("udp marker");
	o->bad = -1;
	for (;;) {
		ssize_t n = recv(r, buf, sizeof(buf), MSG_TRUNC);

		if (n <= 0)
			break; /* the marker, or a timeout */
		if (o->nd < 4)
			o->dlen[o->nd] = n;
		o->nd++;
		if (o->bad < 0 && n <= (ssize_t)sizeof(buf))
			o->bad = check_pattern(buf, n, seed, at);
		o->hash ^= fnv(buf, n < (ssize_t)sizeof(buf) ? (size_t)n : sizeof(buf)) + o->nd;
		at += n;
	}
	close(r);
	close(s);
}

static void run_one(const struct method *m, const struct dcase *c, const char *path, uint64_t seed,
		    struct outcome *o)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	off_t off = c->start;

	memset(o, 0, sizeof(*o));
	if (in < 0)
		die(path);
	/* Offset mode: the file position is a sentinel that must not move. */
	lseek(in, c->use_offset ? 7 : c->start, SEEK_SET);
	if (c->sink == S_UDP) {
		udp_run(m, c, in, c->use_offset ? &off : NULL, seed, o);
	} else {
		size_t cap = c->count < c->size + 1 ? c->count + 1 : c->size + 1;
		struct rx rx;
		int sock = rx_start(&rx, c->sink == S_TCP ? &lo4 : &unix_peer, cap, -1);

		if (c->nonblock)
			fcntl(sock, F_SETFL, O_NONBLOCK);
		errno = 0;
		o->ret = m->fn(sock, in, c->use_offset ? &off : NULL, c->count, NULL);
		o->err = o->ret < 0 ? errno : 0;
		rx_finish(&rx, sock);
		o->got = rx.got;
		o->hash = fnv(rx.buf, rx.got < cap ? rx.got : cap);
		o->bad = rx.got <= cap ? check_pattern(rx.buf, rx.got, seed, c->start) : 0;
		rx_free(&rx);
	}
	o->off = off;
	o->pos = lseek(in, 0, SEEK_CUR);
	close(in);
}

static int same(const struct outcome *a, const struct outcome *b)
{
	if (a->ret != b->ret || a->err != b->err || a->off != b->off || a->pos != b->pos ||
	    a->got != b->got || a->hash != b->hash || a->nd != b->nd)
		return 0;
	for (int i = 0; i < a->nd && i < 4; i++)
		if (a->dlen[i] != b->dlen[i])
			return 0;
	return 1;
}

static void describe(const char *who, const struct outcome *o)
{
	printf("#   %-8s ret %zd %s off %lld pos %lld got %zu hash %016llx bad %ld dgrams %d", who,
	       o->ret, errname(o->err), (long long)o->off, (long long)o->pos, o->got,
	       (unsigned long long)o->hash, o->bad, o->nd);
	for (int i = 0; i < o->nd && i < 4; i++)
		printf(" %zu", o->dlen[i]);
	printf("\n");
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t pick(const size_t *v, size_t n)
{
	return v[next() % n];
}

static void gen(struct dcase *c)
{
	static const size_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 65536, 100000, MiB + 3 };
	size_t s;

	c->size = pick(sizes, sizeof(sizes) / sizeof(sizes[0]));
	s = c->size;
	c->use_offset = next() & 1;
	c->sink = (enum sink)(next() % 3);
	c->nonblock = next() % 4 == 0;
	{
		size_t starts[] = { 0,	  1,   s / 2, s ? s - 1 : 0, s, s + 1, s ? next() % s : 0,
				    4095, 4097 };

		c->start = (off_t)pick(starts, sizeof(starts) / sizeof(starts[0]));
	}
	{
		size_t rest = s > (size_t)c->start ? s - c->start : 0;
		size_t counts[] = { 0,	   1,	 4096, rest, s, 2 * s + 1, next() % (2 * s + 2),
				    65507, 65508 };

		c->count = pick(counts, sizeof(counts) / sizeof(counts[0]));
	}
	/*
	 * A non-blocking stream send may stop short whenever the socket's
	 * buffer fills, at a moment that differs from run to run: keep
	 * those counts small enough to fit a fresh socket's buffer, so that
	 * both methods must send everything.
	 */
	if (c->nonblock && c->sink != S_UDP && c->count > 8192)
		c->count = 8192;
}

void test_differential(void)
{
	/* Fixed cases first (UDP datagram boundaries), then generated ones. */
	static const struct dcase fixed[] = {
		{ 100000, 1, 0, 1, S_UDP, 0 },	   { 100000, 1, 0, 1000, S_UDP, 0 },
		{ 100000, 1, 5, 4096, S_UDP, 0 },  { 100000, 1, 100, 20000, S_UDP, 0 },
		{ 100000, 1, 3, 65507, S_UDP, 0 }, { 100000, 1, 0, 65508, S_UDP, 0 },
		{ 100000, 0, 0, 70000, S_UDP, 0 }, { 100000, 1, 99990, 100, S_UDP, 0 },
		{ 100000, 1, 0, 65507, S_UDP, 1 }, { 0, 0, 0, 10, S_UDP, 0 },
	};
	const int generated = 300;
	int pass = 0, fail = 0;

	for (int i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])) + generated; i++) {
		struct dcase c;
		struct outcome z, s;
		uint64_t seed = 5000 + i;
		char *path;
		int ok;

		if (i < (int)(sizeof(fixed) / sizeof(fixed[0])))
			c = fixed[i];
		else
			gen(&c);
		path = make_file("diff", c.size, seed);
		run_one(&m_sendfile, &c, path, seed, &s);
		run_one(&m_zcopy, &c, path, seed, &z);
		unlink(path);

		ok = same(&z, &s) && z.bad < 0;
		if (ok) {
			pass++;
			n_passed++;
			continue;
		}
		fail++;
		n_failed++;
		printf("not ok - differential case %d: %s%s size %zu %s start %lld count %zu\n", i,
		       sink_name[c.sink], c.nonblock ? " nonblocking" : "", c.size,
		       c.use_offset ? "offset" : "f_pos", (long long)c.start, c.count);
		describe("sendfile", &s);
		describe("zcopy", &z);
	}
	printf("differential: %d passed, %d failed\n", pass, fail);
}
