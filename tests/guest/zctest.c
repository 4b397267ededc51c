/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zctest - the guest test suite of zcopy, run inside the QEMU guest.
 *
 * Every test asserts on bytes received by a real peer socket, on return
 * values and on errno; wherever sendfile(2) defines the behaviour, the same
 * operation is also run through sendfile(2) and both must agree.
 *
 *   zctest [DIR]                   run the suite on files created in DIR
 *   zctest sink [-6] PORT OUTFILE  accept one TCP connection, save it
 *
 * Environment: ZC_PEER_NETNS (path of a network namespace file) and
 * ZC_PEER_ADDR (an IPv4 address inside it, reached over veth) enable the
 * veth tests; without them those tests fail, they are not skipped.
 *
 * Prints "ok - NAME" or "not ok - NAME: why" per test and ends with
 * "zctest: N passed, N failed"; exits 1 on any failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "zcopy.h"

#define KiB  1024UL
#define MiB  (1024UL * 1024UL)
#define PAGE 4096UL

static int n_passed, n_failed;
static const char *dir = "/tmp";

static void report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_passed++;
		printf("ok - %s\n", name);
	} else {
		n_failed++;
		printf("not ok - %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static void die(const char *what)
{
	printf("not ok - setup: %s: %s\n", what, strerror(errno));
	printf("zctest: %d passed, %d failed\n", n_passed, n_failed + 1);
	exit(1);
}

/* ---- file contents: a pure function of (seed, offset) ---------------- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 32);
}

/* Byte @i of the test file with @seed; never depends on the file itself. */
static void pattern(uint64_t seed, uint64_t start, unsigned char *buf, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		uint64_t i = start + k;

		buf[k] = (unsigned char)(mix(seed ^ (i >> 3)) >> ((i & 7) * 8));
	}
}

static char *make_file(const char *name, size_t size, uint64_t seed)
{
	static char path[3][256];
	static int slot;
	unsigned char *buf = malloc(MiB);
	char *p = path[slot++ % 3];
	int fd;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
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

/* ---- peers ------------------------------------------------------------ */

struct peer {
	const char *name;
	int family;
	const char *addr;
	int netns_fd; /* -1: this namespace */
};

static struct peer lo4 = { "lo", AF_INET, "127.0.0.1", -1 };
static struct peer lo6 = { "lo6", AF_INET6, "::1", -1 };
static struct peer veth = { "veth", AF_INET, NULL, -1 };

static socklen_t make_addr(const struct peer *p, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (p->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, p->addr, &s6->sin6_addr);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (void *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	inet_pton(AF_INET, p->addr, &s4->sin_addr);
	return sizeof(*s4);
}

/* A listening socket on @p's address, created inside @p's namespace. */
static int listen_on(const struct peer *p, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(p, 0, &ss);
	int self = -1, fd;

	if (p->netns_fd >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(p->netns_fd, CLONE_NEWNET) < 0)
			die("enter peer netns");
	}
	fd = socket(p->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (void *)&ss, len) < 0 || listen(fd, 4) < 0)
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
	socklen_t len = make_addr(p, port, &ss);
	int fd = socket(p->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A stalled send fails the test (EAGAIN) instead of hanging it. */
	struct timeval tv = { .tv_sec = 60 };

	if (fd < 0 || connect(fd, (void *)&ss, len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		die("connect");
	return fd;
}

/* The receiving end: accepts one connection and reads it to EOF. */
struct rx {
	int lfd;
	int gate; /* >= 0: read one byte from it before reading */
	unsigned char *buf;
	size_t cap;
	size_t got; /* all bytes received, even past cap */
	pthread_t thread;
};

static void *rx_main(void *arg)
{
	struct rx *rx = arg;
	static unsigned char scratch[64 * 1024];
	int c = accept(rx->lfd, NULL, NULL);
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
		rx->got += n;
	}
	close(c);
	return NULL;
}

/* Listen on @p, start the receiver, return a connected sending socket. */
static int rx_start(struct rx *rx, const struct peer *p, size_t cap, int gate)
{
	int port;

	memset(rx, 0, sizeof(*rx));
	rx->gate = gate;
	rx->cap = cap;
	rx->buf = malloc(cap ? cap : 1);
	if (!rx->buf)
		die("malloc");
	rx->lfd = listen_on(p, &port);
	if (pthread_create(&rx->thread, NULL, rx_main, rx))
		die("pthread_create");
	return connect_to(p, port);
}

static void rx_finish(struct rx *rx, int sock)
{
	shutdown(sock, SHUT_WR);
	close(sock);
	pthread_join(rx->thread, NULL);
	close(rx->lfd);
}

/* ---- the two methods under comparison --------------------------------- */

typedef ssize_t (*send_fn)(int out, int in, off_t *off, size_t count);

static ssize_t m_zcopy(int out, int in, off_t *off, size_t count)
{
	return zc_sendfile(out, in, off, count);
}

static ssize_t m_sendfile(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}

struct method {
	const char *name;
	send_fn fn;
};

static const struct method methods[] = {
	{ "zcopy", m_zcopy },
	{ "sendfile", m_sendfile },
};

/* ---- transfers: received bytes checked against the file, every byte -- */

struct xfer {
	size_t file_size;
	int use_offset; /* pass an offset pointer (else: file position) */
	off_t start;
	size_t count;
};

/*
 * Send @x through @m to @p, calling the method until it has sent
 * x->count bytes or reports end of file, as a real program does. Check
 * the received bytes, the offset or file position afterwards, and that
 * an offset transfer left the file position alone.
 */
static void run_xfer(const char *tname, const struct method *m, const struct peer *p,
		     const char *path, uint64_t seed, const struct xfer *x)
{
	off_t end = x->start + (off_t)x->count;
	size_t expect = 0, sent = 0;
	const off_t sentinel = 3;
	unsigned char *want;
	char name[160];
	struct rx rx;
	off_t off = x->start, pos;
	int in, sock, calls = 0;

	if (end > (off_t)x->file_size)
		end = (off_t)x->file_size;
	if (end > x->start)
		expect = (size_t)(end - x->start);
	snprintf(name, sizeof(name), "%s %s/%s", tname, m->name, p->name);

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(path);
	lseek(in, x->use_offset ? sentinel : x->start, SEEK_SET);
	sock = rx_start(&rx, p, expect + 1, -1);

	for (;;) {
		ssize_t n = m->fn(sock, in, x->use_offset ? &off : NULL, x->count - sent);

		calls++;
		if (n < 0) {
			report(0, name, "call %d failed after %zu bytes: %s", calls, sent,
			       strerror(errno));
			rx_finish(&rx, sock);
			goto out;
		}
		sent += n;
		if (n == 0 || sent >= x->count)
			break;
	}
	rx_finish(&rx, sock);

	pos = lseek(in, 0, SEEK_CUR);
	want = malloc(expect + 1);
	pattern(seed, x->start, want, expect);
	if (sent != expect) {
		report(0, name, "sent %zu bytes, expected %zu", sent, expect);
	} else if (rx.got != expect) {
		report(0, name, "peer received %zu bytes, expected %zu", rx.got, expect);
	} else if (memcmp(rx.buf, want, expect)) {
		size_t i = 0;

		while (rx.buf[i] == want[i])
			i++;
		report(0, name, "byte %zu of %zu differs (0x%02x, want 0x%02x)", i, expect,
		       rx.buf[i], want[i]);
	} else if (x->use_offset && off != x->start + (off_t)expect) {
		report(0, name, "offset is %lld, expected %lld", (long long)off,
		       (long long)(x->start + expect));
	} else if (x->use_offset && pos != sentinel) {
		report(0, name, "file position moved to %lld", (long long)pos);
	} else if (!x->use_offset && pos != x->start + (off_t)expect) {
		report(0, name, "file position is %lld, expected %lld", (long long)pos,
		       (long long)(x->start + expect));
	} else {
		report(1, name, NULL);
	}
	free(want);
out:
	free(rx.buf);
	close(in);
}

static void test_transfers(void)
{
	static const struct {
		const char *name;
		struct xfer x;
	} cases[] = {
		{ "empty file", { 0, 1, 0, 100 } },
		{ "1 byte", { 1, 1, 0, 1 } },
		{ "page-1", { PAGE - 1, 1, 0, PAGE - 1 } },
		{ "page", { PAGE, 1, 0, PAGE } },
		{ "page+1", { PAGE + 1, 1, 0, PAGE + 1 } },
		{ "unaligned start 1", { 100000, 1, 1, 99999 } },
		{ "across a page from 4095", { 100000, 1, PAGE - 1, 5000 } },
		{ "unaligned start 4097", { 100000, 0, PAGE + 1, 50000 } },
		{ "count past EOF", { MiB + 3, 1, 12345, 4 * MiB } },
		{ "count 0", { 100000, 1, 500, 0 } },
		{ "offset at EOF", { 100000, 1, 100000, 10 } },
		{ "offset past EOF", { 100000, 1, 200000, 10 } },
		{ "file position 100+1000", { 100000, 0, 100, 1000 } },
		{ "file position at EOF", { 100000, 0, 100000, 1000 } },
		{ "1 MiB batch edges", { MiB, 1, 3, MiB - 7 } },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *path = make_file("xfer", cases[c].x.file_size, 1000 + c);

		for (size_t m = 0; m < 2; m++) {
			run_xfer(cases[c].name, &methods[m], &lo4, path, 1000 + c, &cases[c].x);
			if (c < 5)
				run_xfer(cases[c].name, &methods[m], &lo6, path, 1000 + c,
					 &cases[c].x);
		}
		unlink(path);
	}
}

static void test_large(void)
{
	const size_t size = 64 * MiB + 1;
	char *path = make_file("large", size, 77);
	struct xfer whole = { size, 0, 0, size };
	struct xfer tail = { size, 1, 3 * MiB + 5, size };

	for (size_t m = 0; m < 2; m++) {
		run_xfer("64 MiB+1", &methods[m], &lo4, path, 77, &whole);
		if (veth.netns_fd >= 0) {
			run_xfer("64 MiB+1", &methods[m], &veth, path, 77, &whole);
			run_xfer("61 MiB unaligned", &methods[m], &veth, path, 77, &tail);
		} else {
			report(0, "64 MiB+1 over veth", "ZC_PEER_NETNS/ZC_PEER_ADDR not set");
		}
	}
	unlink(path);
}

/* ---- bad inputs: each row's errno, and sendfile(2)'s ------------------ */

enum { SAME_AS_SENDFILE, SENDFILE_SUCCEEDS };

struct bad {
	const char *name;
	int out, in;
	int use_offset;
	off_t off;
	size_t count;
	int want;  /* errno zc_sendfile must give */
	int vs;	   /* what sendfile(2) does with the same input */
	int extra; /* > 0: one more descriptor to close afterwards */
};

static void check_bad(struct bad *b)
{
	off_t off = b->off;
	ssize_t r1, r2;
	int e1, e2;

	errno = 0;
	r1 = zc_sendfile(b->out, b->in, b->use_offset ? &off : NULL, b->count);
	e1 = errno;
	off = b->off;
	errno = 0;
	r2 = sendfile(b->out, b->in, b->use_offset ? &off : NULL, b->count);
	e2 = errno;

	if (r1 != -1 || e1 != b->want)
		report(0, b->name, "zc_sendfile returned %zd errno %s, want -1 %s", r1,
		       strerrorname_np(e1) ?: "0", strerrorname_np(b->want));
	else if (b->vs == SAME_AS_SENDFILE && (r2 != -1 || e2 != e1))
		report(0, b->name, "sendfile(2) returned %zd errno %s, zc_sendfile %s", r2,
		       strerrorname_np(e2) ?: "0", strerrorname_np(e1));
	else if (b->vs == SENDFILE_SUCCEEDS && r2 < 0)
		report(0, b->name, "sendfile(2) failed (%s) where it should work",
		       strerrorname_np(e2));
	else
		report(1, b->name, NULL);
	/* Closing an already closed or invalid descriptor is harmless. */
	close(b->out);
	close(b->in);
	if (b->extra > 0)
		close(b->extra);
}

/* A connected AF_UNIX stream pair: a valid out socket for sendfile too. */
static void unix_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
}

static void test_bad_inputs(const char *file)
{
	char wpath[300];
	int sv[2], pfd[2], fd, closed;
	struct bad b;

	snprintf(wpath, sizeof(wpath), "%s/bad-out", dir);
#define ROW(...)                                                                                   \
	do {                                                                                       \
		struct bad r = { __VA_ARGS__ };                                                    \
		b = r;                                                                             \
		check_bad(&b);                                                                     \
	} while (0)

	/* A descriptor that was open and is closed: above the numbers the
	 * rows below allocate, so none of them can reuse it. */
	closed = fcntl(0, F_DUPFD_CLOEXEC, 500);
	close(closed);

	unix_pair(sv);
	ROW(.name = "in fd closed: EBADF", .out = sv[0], .in = closed, .count = 10, .want = EBADF,
	    .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "in fd -1: EBADF", .out = sv[0], .in = -1, .count = 10, .want = EBADF,
	    .extra = sv[1]);
	fd = open(file, O_RDONLY);
	ROW(.name = "out fd closed: EBADF", .out = closed, .in = fd, .count = 10, .want = EBADF);
	fd = open(file, O_RDONLY);
	ROW(.name = "out fd 1000000: EBADF", .out = 1000000, .in = fd, .count = 10, .want = EBADF);
	unix_pair(sv);
	fd = open(file, O_WRONLY);
	ROW(.name = "in write-only: EBADF", .out = sv[0], .in = fd, .count = 10, .want = EBADF,
	    .extra = sv[1]);
	unix_pair(sv);
	fd = open(file, O_PATH);
	ROW(.name = "in O_PATH: EBADF", .out = sv[0], .in = fd, .count = 10, .want = EBADF,
	    .extra = sv[1]);
	fd = open(file, O_RDONLY);
	{
		int ro = open(file, O_RDONLY);

		ROW(.name = "out read-only file: EBADF", .out = ro, .in = fd, .count = 10,
		    .want = EBADF);
	}
	fd = open(file, O_RDONLY);
	{
		int wo = open(wpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		ROW(.name = "out regular file: ENOTSOCK (sendfile writes it)", .out = wo, .in = fd,
		    .count = 10, .want = ENOTSOCK, .vs = SENDFILE_SUCCEEDS);
	}
	fd = open(file, O_RDONLY);
	if (pipe(pfd))
		die("pipe");
	ROW(.name = "out pipe: ENOTSOCK (sendfile writes it)", .out = pfd[1], .in = fd, .count = 10,
	    .want = ENOTSOCK, .vs = SENDFILE_SUCCEEDS, .extra = pfd[0]);
	fd = open(file, O_RDONLY);
	{
		int null = open("/dev/null", O_WRONLY);

		ROW(.name = "out /dev/null: ENOTSOCK (sendfile writes it)", .out = null, .in = fd,
		    .count = 10, .want = ENOTSOCK, .vs = SENDFILE_SUCCEEDS);
	}
	unix_pair(sv);
	fd = open(file, O_RDONLY);
	ROW(.name = "negative offset: EINVAL", .out = sv[0], .in = fd, .use_offset = 1, .off = -1,
	    .count = 10, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	fd = open(file, O_RDONLY);
	ROW(.name = "offset+count overflows: EINVAL", .out = sv[0], .in = fd, .use_offset = 1,
	    .off = LLONG_MAX - 5, .count = 100, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	fd = open(file, O_RDONLY);
	ROW(.name = "count SIZE_MAX: EINVAL", .out = sv[0], .in = fd, .count = SIZE_MAX,
	    .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	ROW(.name = "in directory: EINVAL", .out = sv[0], .in = fd, .count = 10, .want = EINVAL,
	    .extra = sv[1]);
	unix_pair(sv);
	if (pipe(pfd))
		die("pipe");
	ROW(.name = "in pipe: EINVAL", .out = sv[0], .in = pfd[0], .count = 10, .want = EINVAL,
	    .extra = sv[1]);
	close(pfd[1]);
	unix_pair(sv);
	if (pipe(pfd))
		die("pipe");
	ROW(.name = "in pipe with offset: ESPIPE", .out = sv[0], .in = pfd[0], .use_offset = 1,
	    .count = 10, .want = ESPIPE, .extra = sv[1]);
	close(pfd[1]);
	unix_pair(sv);
	fd = open(file, O_RDONLY);
	fcntl(sv[0], F_SETFL, O_APPEND);
	ROW(.name = "out O_APPEND: EINVAL", .out = sv[0], .in = fd, .count = 10, .want = EINVAL,
	    .extra = sv[1]);
	fd = open(file, O_RDONLY);
	{
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		ROW(.name = "out TCP not connected: EPIPE", .out = s, .in = fd, .count = 10,
		    .want = EPIPE);
	}
	unix_pair(sv);
	fd = open(file, O_RDONLY);
	shutdown(sv[0], SHUT_WR);
	ROW(.name = "out shut down for writing: EPIPE", .out = sv[0], .in = fd, .count = 10,
	    .want = EPIPE, .extra = sv[1]);
	unlink(wpath);
#undef ROW
}

/* The ABI checks only the ioctl itself can reach. */
static void test_abi(const char *file)
{
	struct {
		struct zcopy_sendfile a;
		uint64_t tail[2];
	} big;
	int dev = zc_device_fd(), sv[2], fd;
	struct zcopy_sendfile a;
	long r;

	unix_pair(sv);
	fd = open(file, O_RDONLY);
#define BASE()                                                                                     \
	(struct zcopy_sendfile){ .size = sizeof(a),                                                \
				 .in_fd = fd,                                                      \
				 .out_fd = sv[0],                                                  \
				 .count = 10,                                                      \
				 .flags = ZCOPY_SEND_OFFSET }
#define EXPECT(name, call, err)                                                                    \
	do {                                                                                       \
		errno = 0;                                                                         \
		r = (call);                                                                        \
		report(r == -1 && errno == (err), name, "returned %ld errno %s", r,                \
		       strerrorname_np(errno) ?: "0");                                             \
	} while (0)

	a = BASE();
	a.flags |= 1U << 31;
	EXPECT("ioctl unknown flag: EINVAL", ioctl(dev, ZCOPY_IOC_SENDFILE, &a), EINVAL);
	a = BASE();
	a.reserved[2] = 1;
	EXPECT("ioctl reserved field set: EINVAL", ioctl(dev, ZCOPY_IOC_SENDFILE, &a), EINVAL);
	a = BASE();
	a.size = 8;
	EXPECT("ioctl size too small: EINVAL", ioctl(dev, ZCOPY_IOC_SENDFILE, &a), EINVAL);
	a = BASE();
	a.size = 8192;
	EXPECT("ioctl size above a page: E2BIG", ioctl(dev, ZCOPY_IOC_SENDFILE, &a), E2BIG);
	big.a = BASE();
	big.a.size = sizeof(big);
	big.tail[0] = 0;
	big.tail[1] = 5;
	EXPECT("ioctl newer struct with unknown field set: E2BIG",
	       ioctl(dev, ZCOPY_IOC_SENDFILE, &big), E2BIG);
	EXPECT("ioctl NULL argument: EFAULT", ioctl(dev, ZCOPY_IOC_SENDFILE, NULL), EFAULT);
	EXPECT("ioctl unknown command: ENOTTY",
	       ioctl(dev, _IOWR(ZCOPY_IOC_MAGIC, 0x7f, struct zcopy_sendfile), &a), ENOTTY);
	EXPECT("ioctl wrong direction: ENOTTY",
	       ioctl(dev, _IOW(ZCOPY_IOC_MAGIC, 0x01, struct zcopy_sendfile), &a), ENOTTY);
	EXPECT("library: ZCOPY_SEND_OFFSET is not a caller flag: EINVAL",
	       zc_sendfile_flags(sv[0], fd, NULL, 10, ZCOPY_SEND_OFFSET), EINVAL);

	/* A newer caller's longer struct, tail zero: accepted, outputs set. */
	big.a = BASE();
	big.a.size = sizeof(big);
	big.a.offset = 5;
	big.tail[0] = big.tail[1] = 0;
	r = ioctl(dev, ZCOPY_IOC_SENDFILE, &big);
	report(r == 10 && big.a.sent == 10 && big.a.offset == 15,
	       "ioctl newer struct with zero tail: accepted",
	       "returned %ld sent %llu offset %lld (%s)", r, (unsigned long long)big.a.sent,
	       (long long)big.a.offset, strerrorname_np(errno) ?: "0");
	{
		unsigned char got[10], want[10];

		pattern(5, 5, want, 10);
		report(read(sv[1], got, 10) == 10 && !memcmp(got, want, 10),
		       "ioctl newer struct: the right 10 bytes arrived", "bytes differ");
	}
	close(fd);
	close(sv[0]);
	close(sv[1]);
#undef BASE
#undef EXPECT
}

/* ---- signals and non-blocking sockets --------------------------------- */

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void test_sigpipe(const char *file)
{
	struct sigaction sa = { .sa_handler = on_sigpipe }, old;
	int sv[2], fd = open(file, O_RDONLY);
	ssize_t r;
	int before;

	sigaction(SIGPIPE, &sa, &old);
	unix_pair(sv);
	close(sv[1]);

	before = sigpipes;
	r = zc_sendfile(sv[0], fd, NULL, 100);
	report(r == -1 && errno == EPIPE && sigpipes == before + 1,
	       "closed peer: EPIPE and SIGPIPE, as sendfile", "returned %zd errno %s, %d SIGPIPE",
	       r, strerrorname_np(errno) ?: "0", sigpipes - before);
	before = sigpipes;
	r = sendfile(sv[0], fd, NULL, 100);
	report(r == -1 && errno == EPIPE && sigpipes == before + 1,
	       "closed peer: sendfile(2) agrees (EPIPE and SIGPIPE)",
	       "returned %zd errno %s, %d SIGPIPE", r, strerrorname_np(errno) ?: "0",
	       sigpipes - before);
	before = sigpipes;
	r = zc_sendfile_flags(sv[0], fd, NULL, 100, ZCOPY_SEND_NOSIGNAL);
	report(r == -1 && errno == EPIPE && sigpipes == before,
	       "closed peer with ZCOPY_SEND_NOSIGNAL: EPIPE, no SIGPIPE",
	       "returned %zd errno %s, %d SIGPIPE", r, strerrorname_np(errno) ?: "0",
	       sigpipes - before);
	close(sv[0]);
	close(fd);
	sigaction(SIGPIPE, &old, NULL);
}

/*
 * A peer that never reads: the send buffer fills, then a non-blocking
 * send reports partial progress and finally EAGAIN, as sendfile(2) does.
 */
static void nonblock_case(const char *name, const char *file, int how)
{
	int sv[2], fd = open(file, O_RDONLY);
	size_t total = 0;
	int calls = 0, progress = 0;
	ssize_t r;

	unix_pair(sv);
	if (how >= 1)
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		if (how == 0)
			r = zc_sendfile_flags(sv[0], fd, NULL, 4 * MiB, ZCOPY_SEND_DONTWAIT);
		else if (how == 1)
			r = zc_sendfile(sv[0], fd, NULL, 4 * MiB);
		else
			r = sendfile(sv[0], fd, NULL, 4 * MiB);
		if (r <= 0 || ++calls > 10000)
			break;
		progress++;
		total += r;
	}
	report(r == -1 && errno == EAGAIN && progress > 0 && total < 4 * MiB &&
		       lseek(fd, 0, SEEK_CUR) == (off_t)total,
	       name, "last call %zd errno %s after %d calls, %zu bytes, pos %lld", r,
	       strerrorname_np(errno) ?: "0", progress, total, (long long)lseek(fd, 0, SEEK_CUR));
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

static void test_nonblock(const char *file)
{
	nonblock_case("ZCOPY_SEND_DONTWAIT on a full socket: progress, then EAGAIN", file, 0);
	nonblock_case("O_NONBLOCK socket full: progress, then EAGAIN", file, 1);
	nonblock_case("O_NONBLOCK socket full: sendfile(2) agrees", file, 2);
}

/* ---- proof of reference: rewrite the file after sending --------------- */

/*
 * Send 64 KiB of 'A' to a loopback peer that does not read yet, then
 * overwrite the file range with 'B', then let the peer read. Pages sent
 * by reference are still the page cache's pages, so the peer reads 'B';
 * a copy taken at send time reads 'A'. On loopback the frags travel to
 * the receive queue without a copy, which makes this visible.
 */
static size_t rewrite_after_send(const struct method *m, int use_write)
{
	const size_t len = 64 * KiB;
	char path[300];
	unsigned char *buf = malloc(len);
	struct rx rx;
	int gate[2], fd, sock;
	size_t news = 0, sent = 0;

	snprintf(path, sizeof(path), "%s/rewrite", dir);
	memset(buf, 'A', len);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pwrite(fd, buf, len, 0) != (ssize_t)len || pipe(gate))
		die("rewrite setup");
	sock = rx_start(&rx, &lo4, len, gate[0]);
	while (sent < len) {
		ssize_t n = use_write ? write(sock, buf + sent, len - sent)
				      : m->fn(sock, fd, NULL, len - sent);
		if (n <= 0)
			break;
		sent += n;
	}
	memset(buf, 'B', len);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len)
		die("rewrite");
	if (write(gate[1], "g", 1) != 1)
		die("gate");
	rx_finish(&rx, sock);
	for (size_t i = 0; i < rx.got && i < len; i++)
		news += rx.buf[i] == 'B';
	if (sent != len || rx.got != len)
		news = (size_t)-1;
	free(rx.buf);
	free(buf);
	close(fd);
	close(gate[0]);
	close(gate[1]);
	unlink(path);
	return news;
}

static void test_by_reference(void)
{
	size_t zc = rewrite_after_send(&methods[0], 0);
	size_t sf = rewrite_after_send(&methods[1], 0);
	size_t wr = rewrite_after_send(NULL, 1);

	report(wr == 0, "rewrite-after-send control: write(2) copies, peer sees old bytes",
	       "%zd of 65536 bytes were new", (ssize_t)wr);
	report(zc == 64 * KiB, "rewrite-after-send: zcopy sent by reference, peer sees new bytes",
	       "%zd of 65536 bytes were new", (ssize_t)zc);
	printf("# rewrite-after-send: sendfile(2) peer saw %zd of 65536 new bytes\n", (ssize_t)sf);
}

/* ---- sink: a plain receiver for the CLI tests ------------------------- */

static int sink(int argc, char **argv)
{
	int six = argc > 2 && !strcmp(argv[2], "-6");
	const char *port = argv[2 + six], *out;
	struct sockaddr_storage ss;
	int lfd, c, fd, one = 1;
	char buf[65536];
	ssize_t n;

	if (argc != 4 + six) {
		fprintf(stderr, "usage: zctest sink [-6] PORT OUTFILE\n");
		return 2;
	}
	out = argv[3 + six];
	memset(&ss, 0, sizeof(ss));
	if (six) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(atoi(port));
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(atoi(port));
	}
	lfd = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 ||
	    bind(lfd, (void *)&ss, six ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) <
		    0 ||
	    listen(lfd, 1) < 0) {
		perror("sink: listen");
		return 1;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	/* Tell the caller we are listening: the file exists from here on. */
	c = accept(lfd, NULL, NULL);
	if (fd < 0 || c < 0) {
		perror("sink: accept");
		return 1;
	}
	while ((n = read(c, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return 1;
	return n < 0 || close(fd) < 0;
}

int main(int argc, char **argv)
{
	const char *netns = getenv("ZC_PEER_NETNS");
	char *small;

	if (argc > 1 && !strcmp(argv[1], "sink"))
		return sink(argc, argv);
	if (argc > 1)
		dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	veth.addr = getenv("ZC_PEER_ADDR");
	if (netns && veth.addr) {
		veth.netns_fd = open(netns, O_RDONLY | O_CLOEXEC);
		if (veth.netns_fd < 0)
			die(netns);
	}
	if (zc_device_fd() < 0)
		die(ZCOPY_DEVICE_PATH);

	test_transfers();
	test_large();
	small = make_file("small", 8 * MiB, 5);
	test_bad_inputs(small);
	test_abi(small);
	test_sigpipe(small);
	test_nonblock(small);
	test_by_reference();
	unlink(small);

	printf("zctest: %d passed, %d failed\n", n_passed, n_failed);
	return n_failed ? 1 : 0;
}
