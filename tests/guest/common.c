/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common.c - the helpers of zctest: see common.h.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <unistd.h>

int n_passed, n_failed;
int corrupt_rx;
const char *dir = "/tmp";

void report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_passed++;
		printf("ok - %s\n", name);
		return;
	}
	n_failed++;
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void die(const char *what)
{
	printf("not ok - setup: %s: %s\n", what, strerror(errno));
	printf("zctest: %d passed, %d failed\n", n_passed, n_failed + 1);
	exit(1);
}

long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

const char *errname(int err)
{
	const char *s = err ? strerrorname_np(err) : "0";

	return s ? s : "?";
}

/*
 * One descriptor of /proc/thread-self/make-it-fail per thread, opened once
 * and kept: opening it allocates (a struct file), and with the mark set
 * that allocation could fail and leave the thread marked for good. It is
 * reopened in a forked child, whose thread is another one. The byte
 * written is on the stack, which is mapped: a first touch of another page
 * would need a page table, whose allocation could fail and turn the write
 * into EFAULT.
 */
int make_it_fail(int on)
{
	static __thread int fd = -1;
	static __thread pid_t tid;
	int err = errno, ret = 0;
	char c = on ? '1' : '0';

	if (fd < 0 || tid != gettid()) {
		fd = open("/proc/thread-self/make-it-fail", O_WRONLY | O_CLOEXEC);
		tid = gettid();
	}
	if (fd < 0 || pwrite(fd, &c, 1, 0) != 1)
		ret = -1;
	else
		errno = err;
	return ret;
}

/* ---- file contents ------------------------------------------------------ */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 32);
}

/* Byte i of a file with @seed is byte (i % 8) of mix(seed ^ i / 8). */
void pattern(uint64_t seed, uint64_t start, unsigned char *buf, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		uint64_t i = start + k;

		buf[k] = (unsigned char)(mix(seed ^ (i >> 3)) >> ((i & 7) * 8));
	}
}

long check_pattern(const unsigned char *got, size_t len, uint64_t seed, uint64_t start)
{
	unsigned char want[4096];

	for (size_t off = 0; off < len; off += sizeof(want)) {
		size_t n = len - off < sizeof(want) ? len - off : sizeof(want);

		pattern(seed, start + off, want, n);
		if (memcmp(got + off, want, n))
			for (size_t i = 0; i < n; i++)
				if (got[off + i] != want[i])
					return (long)(off + i);
	}
	return -1;
}

char *make_file_in(const char *in_dir, const char *name, size_t size, uint64_t seed)
{
	static char path[4][256];
	static int slot;
	char *p = path[slot++ % 4];
	unsigned char *buf = malloc(MiB);
	int fd;

	snprintf(p, sizeof(path[0]), "%s/%s", in_dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || !buf)
		die(p);
	for (size_t off = 0; off < size; off += MiB) {
		size_t n = size - off < MiB ? size - off : MiB;

		pattern(seed, off, buf, n);
		if (write(fd, buf, n) != (ssize_t)n)
			die("write test file");
	}
	close(fd);
	free(buf);
	return p;
}

char *make_file(const char *name, size_t size, uint64_t seed)
{
	return make_file_in(dir, name, size, seed);
}

/* ---- peers ------------------------------------------------------------ */

struct peer lo4 = { .name = "lo", .family = AF_INET, .addr = "127.0.0.1", .netns_fd = -1, .zc = 1 };
struct peer lo6 = { .name = "lo6", .family = AF_INET6, .addr = "::1", .netns_fd = -1, .zc = 1 };
struct peer unix_peer = { .name = "unix", .family = AF_UNIX, .netns_fd = -1, .zc = 1 };
/* Filled in by main() from the environment the guest script sets up. */
struct peer veth = { .name = "veth", .family = AF_INET, .netns_fd = -1, .zc = 1 };
struct peer nosg = { .name = "veth-nosg-md5", .family = AF_INET, .netns_fd = -1, .md5 = 1 };

uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void unix_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
}

void tcp_lo_pair(int sv[2], int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* Set on the listener, so the accepted socket advertises it from the start. */
	if (rcvbuf)
		setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || sv[0] < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &len) || connect(sv[0], (void *)&a, sizeof(a)))
		die("tcp pair");
	sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (sv[1] < 0)
		die("accept");
	close(l);
}

static socklen_t make_addr(int family, const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (void *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	inet_pton(AF_INET, addr, &s4->sin_addr);
	return sizeof(*s4);
}

/* TCP_MD5SIG: both ends must agree on a key for the other's address. */
static void set_md5(int fd, int family, const char *other)
{
	struct tcp_md5sig md5 = { .tcpm_keylen = 6 };

	make_addr(family, other, 0, &md5.tcpm_addr);
	memcpy(md5.tcpm_key, "zcopy!", 6);
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof(md5)))
		die("TCP_MD5SIG");
}

/* A listening socket on @p's address, created inside @p's namespace. */
static int listen_on(const struct peer *p, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(p->family, p->addr, 0, &ss);
	int self = -1, fd;

	if (p->netns_fd >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(p->netns_fd, CLONE_NEWNET) < 0)
			die("enter peer netns");
	}
	fd = socket(p->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (p->md5)
		set_md5(fd, p->family, p->from);
	if (bind(fd, (void *)&ss, len) < 0 || listen(fd, 4) < 0)
		die("listen");
	if (self >= 0) {
		if (setns(self, CLONE_NEWNET) < 0)
			die("leave peer netns");
		close(self);
	}
	len = sizeof(ss);
	getsockname(fd, (void *)&ss, &len);
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int connect_to(const struct peer *p, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(p->family, p->addr, port, &ss);
	int fd = socket(p->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A stalled send fails the test (EAGAIN) instead of hanging it. */
	struct timeval tv = { .tv_sec = 60 };

	if (fd < 0)
		die("socket");
	if (p->md5)
		set_md5(fd, p->family, p->addr);
	if (connect(fd, (void *)&ss, len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		die("connect");
	return fd;
}

static void *rx_main(void *arg)
{
	struct rx *rx = arg;
	static __thread unsigned char scratch[64 * 1024];
	int c = rx->lfd >= 0 ? accept(rx->lfd, NULL, NULL) : rx->conn;
	char ch;

	if (c < 0)
		return NULL;
	if (rx->gate >= 0 && read(rx->gate, &ch, 1) != 1)
		return NULL;
	for (;;) {
		unsigned char *to = rx->got < rx->cap ? rx->buf + rx->got : scratch;
		size_t room = rx->got < rx->cap ? rx->cap - rx->got : sizeof(scratch);
		ssize_t n = read(c, to, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (corrupt_rx && rx->got <= 100 && rx->got + n > 100 && rx->cap > 100)
			rx->buf[100] ^= 1;
		rx->got += n;
	}
	close(c);
	return NULL;
}

int rx_start(struct rx *rx, const struct peer *p, size_t cap, int gate)
{
	int port = 0, sock = -1;

	memset(rx, 0, sizeof(*rx));
	rx->gate = gate;
	rx->cap = cap;
	rx->buf = malloc(cap ? cap : 1);
	if (!rx->buf)
		die("malloc");
	if (p->family == AF_UNIX) {
		int sv[2];

		unix_pair(sv);
		rx->lfd = -1;
		rx->conn = sv[1];
		sock = sv[0];
	} else {
		rx->lfd = listen_on(p, &port);
	}
	if (pthread_create(&rx->thread, NULL, rx_main, rx))
		die("pthread_create");
	if (p->family != AF_UNIX)
		sock = connect_to(p, port);
	return sock;
}

void rx_finish(struct rx *rx, int sock)
{
	shutdown(sock, SHUT_WR);
	close(sock);
	pthread_join(rx->thread, NULL);
	if (rx->lfd >= 0)
		close(rx->lfd);
}

void rx_free(struct rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
}

/* ---- the methods -------------------------------------------------------- */

static ssize_t do_zcopy(int out, int in, off_t *off, size_t count, struct zc_stats *st)
{
	return zc_sendfile_ex(out, in, off, count, 0, st);
}

static ssize_t do_sendfile(int out, int in, off_t *off, size_t count, struct zc_stats *st)
{
	if (st)
		*st = (struct zc_stats){ 0 };
	return sendfile(out, in, off, count);
}

const struct method m_zcopy = { "zcopy", do_zcopy, 1 };
const struct method m_sendfile = { "sendfile", do_sendfile, 0 };
const struct method *const methods[2] = { &m_zcopy, &m_sendfile };
