/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_notify.c - completion notices (ZCOPY_SEND_NOTIFY).
 *
 * Every test sends over TCP on loopback, where the receiver gets a copy of
 * what a notified send lent (the kernel copies at local delivery), so a
 * notice comes when the data is acknowledged: a receiver that does not
 * read holds it back only once its window is closed. The tests close it
 * with a tiny receive buffer, then check: no notice while the data waits
 * unacknowledged, exactly one soon after the receiver reads, with the
 * cookie, the byte counts and ZCOPY_NOTICE_COPIED; one when the peer
 * resets, when the sender closes with data queued (reset or FIN), and
 * none left behind by an fd closed with notices in flight (the module's
 * reference count, and rmmod refused meanwhile). After a notice,
 * rewriting the range does not change what the peer receives (without
 * the flag, as control, it does). The bound (notices_max) gives ENOBUFS
 * with nothing sent; eight threads on one descriptor get every cookie
 * exactly once. Non-TCP sockets are EOPNOTSUPP.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define NSEED 14
#define PARAM "/sys/module/zcopy/parameters/notices_max"

static int ok; /* a read_check() result, taken before report() reads "bad" */

static int dev_open(void)
{
	int fd = open(ZCOPY_DEVICE_PATH, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		die(ZCOPY_DEVICE_PATH);
	return fd;
}

/* A loopback TCP connection: returns the sender; *rx is the receiver. */
static int tcp_pair(int tiny_rcvbuf, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int small = 4096, big = 8 * MiB;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || s < 0)
		die("socket");
	if (tiny_rcvbuf && setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)))
		die("SO_RCVBUF");
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)))
		die("SO_SNDBUFFORCE");
	if (bind(l, (struct sockaddr *)&a, len) || listen(l, 4) ||
	    getsockname(l, (struct sockaddr *)&a, &len) || connect(s, (struct sockaddr *)&a, len))
		die("loopback connect");
	*rx = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (*rx < 0)
		die("accept");
	close(l);
	return s;
}

static long notify_send(int dev, int sock, int fd, off_t off, size_t count, uint64_t cookie,
			struct zcopy_sendfile *out)
{
	struct zcopy_sendfile a = {
		.size = sizeof(a),
		.flags = ZCOPY_SEND_OFFSET | ZCOPY_SEND_NOSIGNAL | ZCOPY_SEND_NOTIFY,
		.in_fd = fd,
		.out_fd = sock,
		.offset = off,
		.count = count,
		.cookie = cookie,
	};
	long r = ioctl(dev, ZCOPY_IOC_SENDFILE, &a);

	if (out)
		*out = a;
	return r;
}

/* Wait up to @ms for notices on @dev; returns how many were read (0: none). */
static int wait_notices(int dev, int ms, struct zcopy_notice *n, int max)
{
	struct pollfd p = { .fd = dev, .events = POLLIN };
	ssize_t r;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	r = read(dev, n, max * sizeof(*n));
	if (r < 0)
		return errno == EAGAIN ? 0 : -1;
	return (int)(r / (ssize_t)sizeof(*n));
}

/*
 * As wait_notices(), through the library: poll zc_device_fd(), then
 * zc_notices_read(), for up to 5 s. Returns the notices read, or <= 0.
 */
static int lib_wait_notices(struct zcopy_notice *n, size_t max)
{
	int got = 0;

	for (int i = 0; i < 100 && got <= 0; i++) {
		struct pollfd p = { .fd = zc_device_fd(), .events = POLLIN };

		poll(&p, 1, 50);
		got = (int)zc_notices_read(n, max);
	}
	return got;
}

/* Read exactly @len bytes from @rx and check them against @seed at @start. */
static int read_check(int rx, size_t len, uint64_t seed, uint64_t start, long *bad)
{
	unsigned char *buf = malloc(len);
	size_t got = 0;
	int ok;

	if (!buf)
		die("malloc");
	while (got < len) {
		ssize_t r = read(rx, buf + got, len - got);

		if (r <= 0)
			break;
		got += r;
	}
	*bad = got == len ? check_pattern(buf, len, seed, start) : -2;
	ok = *bad == -1;
	free(buf);
	return ok;
}

static long module_refcnt(void)
{
	return read_long("/sys/module/zcopy/refcnt");
}

static void set_param(unsigned int v)
{
	FILE *f = fopen(PARAM, "w");

	if (!f || fprintf(f, "%u\n", v) < 0 || fclose(f))
		die(PARAM);
}

/* Held back while unacknowledged, released when read: cookie, counts, COPIED. */
static void t_held_until_read(int fd)
{
	size_t len = 256 * KiB;
	struct zcopy_sendfile a;
	struct zcopy_notice n[4];
	int dev = dev_open(), rx, s = tcp_pair(1, &rx), got;
	long r, bad;

	r = notify_send(dev, s, fd, 4096, len, 0x1400000000000001ULL, &a);
	report(r == (long)len && a.sent == len && a.zc_bytes == len,
	       "notify: notified send over loopback returns all, lent by reference",
	       "ret %ld zc %llu", r, (unsigned long long)a.zc_bytes);
	got = wait_notices(dev, 400, n, 4);
	report(got == 0, "notify: no notice while the data waits unacknowledged (window closed)",
	       "%d notices", got);
	r = read(dev, n, sizeof(n));
	report(r == -1 && errno == EAGAIN, "notify: read with none ready: EAGAIN",
	       "ret %ld errno %s", r, errname(errno));
	ok = read_check(rx, len, NSEED, 4096, &bad);
	report(ok, "notify: the peer receives the bytes", "first bad %ld", bad);
	got = wait_notices(dev, 5000, n, 4);
	report(got == 1 && n[0].size == ZCOPY_NOTICE_SIZE_VER0 &&
		       n[0].cookie == 0x1400000000000001ULL && n[0].bytes == len &&
		       n[0].zc_bytes == len,
	       "notify: exactly one notice once the peer read, with cookie and counts",
	       "%d notices, size %u cookie %llx bytes %llu zc %llu", got, got ? n[0].size : 0,
	       got ? (unsigned long long)n[0].cookie : 0ULL,
	       got ? (unsigned long long)n[0].bytes : 0ULL,
	       got ? (unsigned long long)n[0].zc_bytes : 0ULL);
	report(got == 1 && n[0].flags == ZCOPY_NOTICE_COPIED,
	       "notify: loopback delivery copied the lent pages: ZCOPY_NOTICE_COPIED", "flags %#x",
	       got ? n[0].flags : 0);
	got = wait_notices(dev, 300, n, 4);
	report(got == 0, "notify: and no second notice", "%d more", got);
	r = read(dev, n, sizeof(n[0]) - 1);
	report(r == -1 && errno == EINVAL, "notify: read buffer below one record: EINVAL",
	       "ret %ld errno %s", r, errname(errno));
	close(s);
	close(rx);
	close(dev);
}

/*
 * After the notice the range is free: a rewrite does not reach the peer,
 * though it has not read yet. Control: a plain zcopy send lends the page
 * cache itself, so the same rewrite does reach it.
 */
static void t_rewrite_after_notice(void)
{
	size_t len = 64 * KiB;
	char *path = make_file("notify-rw", len, 21);
	unsigned char *newb = malloc(len);
	struct zcopy_notice n[2];
	int fd = open(path, O_RDWR), dev = dev_open(), rx, s, got;
	long r, bad;

	if (fd < 0 || !newb)
		die(path);
	pattern(22, 0, newb, len);
	s = tcp_pair(0, &rx);
	r = notify_send(dev, s, fd, 0, len, 21, NULL);
	got = wait_notices(dev, 5000, n, 2);
	report(r == (long)len && got == 1 && n[0].cookie == 21,
	       "notify rewrite: notice arrives before the peer reads (acknowledged as a copy)",
	       "ret %ld, %d notices", r, got);
	if (pwrite(fd, newb, len, 0) != (ssize_t)len)
		die("pwrite");
	ok = read_check(rx, len, 21, 0, &bad);
	report(ok, "notify rewrite: rewriting after the notice leaves what the peer gets unchanged",
	       "first byte not the old one at %ld", bad);
	close(s);
	close(rx);

	/* Control: without the flag the peer's queue holds the page cache. */
	pattern(21, 0, newb, len);
	if (pwrite(fd, newb, len, 0) != (ssize_t)len)
		die("pwrite");
	s = tcp_pair(0, &rx);
	off_t off = 0;

	r = zc_sendfile(s, fd, &off, len);
	usleep(100000);
	pattern(22, 0, newb, len);
	if (pwrite(fd, newb, len, 0) != (ssize_t)len)
		die("pwrite");
	ok = read_check(rx, len, 22, 0, &bad);
	report(r == (long)len && ok,
	       "notify rewrite control: without the flag the rewrite reaches the peer",
	       "ret %ld first bad %ld", r, bad);
	close(s);
	close(rx);
	close(fd);
	close(dev);
	unlink(path);
	free(newb);
}

/* The peer resets, the sender resets, the sender closes with data queued. */
static void t_endings(int fd)
{
	size_t len = 256 * KiB;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct zcopy_notice n[2];
	int dev = dev_open(), rx, s, got;
	long r, bad;
	char c;

	s = tcp_pair(1, &rx);
	r = notify_send(dev, s, fd, 0, len, 31, NULL);
	got = wait_notices(dev, 300, n, 2);
	setsockopt(rx, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(rx);
	got += 10 * wait_notices(dev, 5000, n, 2);
	report(r == (long)len && got == 10 && n[0].cookie == 31,
	       "notify: peer reset with data unacknowledged: one notice, after the reset",
	       "ret %ld got %d", r, got);
	r = recv(s, &c, 1, MSG_DONTWAIT);
	report(r == -1 && errno == ECONNRESET, "notify: the sender sees ECONNRESET", "errno %s",
	       errname(errno));
	close(s);

	s = tcp_pair(1, &rx);
	r = notify_send(dev, s, fd, 0, len, 32, NULL);
	got = wait_notices(dev, 300, n, 2);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	got += 10 * wait_notices(dev, 5000, n, 2);
	report(r == (long)len && got == 10 && n[0].cookie == 32,
	       "notify: sender closed by reset with data queued: one notice", "ret %ld got %d", r,
	       got);
	close(rx);

	s = tcp_pair(1, &rx);
	r = notify_send(dev, s, fd, 0, len, 33, NULL);
	close(s);
	got = wait_notices(dev, 300, n, 2);
	report(r == (long)len && got == 0,
	       "notify: sender closed (FIN) with data queued: no notice while it waits",
	       "ret %ld got %d", r, got);
	ok = read_check(rx, len, NSEED, 0, &bad);
	report(ok && read(rx, &c, 1) == 0,
	       "notify: the orphaned socket still delivers every byte, then EOF", "first bad %ld",
	       bad);
	got = wait_notices(dev, 5000, n, 2);
	report(got == 1 && n[0].cookie == 33, "notify: then one notice", "got %d", got);
	close(rx);
	close(dev);
}

/*
 * The descriptor closed with a notice in flight: nothing to read it, so it
 * is freed when its skbs go; meanwhile it holds the module (rmmod refused).
 */
static void t_close_pending(int fd)
{
	size_t len = 256 * KiB;
	int dev = dev_open(), rx, s = tcp_pair(1, &rx);
	long base, during, after = -1, r, bad;

	close(dev);
	base = module_refcnt();
	dev = dev_open();
	r = notify_send(dev, s, fd, 0, len, 41, NULL);
	close(dev);
	during = module_refcnt();
	report(r == (long)len && base >= 0 && during == base + 1,
	       "notify: fd closed with a notice in flight: it still holds the module",
	       "refcnt %ld -> %ld", base, during);
	r = syscall(SYS_delete_module, "zcopy", O_NONBLOCK);
	report(r == -1 && (errno == EWOULDBLOCK || errno == EBUSY),
	       "notify: rmmod refused while a notice is in flight", "ret %ld errno %s", r,
	       errname(errno));
	ok = read_check(rx, len, NSEED, 0, &bad);
	report(ok, "notify: the peer still gets the bytes", "first bad %ld", bad);
	for (int i = 0; i < 100; i++) {
		after = module_refcnt();
		if (after == base)
			break;
		usleep(50000);
	}
	report(after == base, "notify: once the skbs are freed the module is released",
	       "refcnt %ld, was %ld", after, base);
	close(s);
	close(rx);
}

/* notices_max: in flight or unread; ENOBUFS beyond, nothing sent. */
static void t_overflow(int fd)
{
	struct zcopy_notice n[8];
	int dev, rx, s, got = 0;
	long r, bad;
	char c;

	set_param(4);
	dev = dev_open();
	set_param(1024);
	s = tcp_pair(0, &rx);
	for (int i = 0; i < 4; i++)
		r = notify_send(dev, s, fd, i * 4096, 4096, 50 + i, NULL);
	r = notify_send(dev, s, fd, 4 * 4096, 4096, 54, NULL);
	report(r == -1 && errno == ENOBUFS, "notify overflow: a 5th pending notice over 4: ENOBUFS",
	       "ret %ld errno %s", r, errname(errno));
	ok = read_check(rx, 4 * 4096, NSEED, 0, &bad);
	report(ok && recv(rx, &c, 1, MSG_DONTWAIT) == -1,
	       "notify overflow: the refused call sent nothing", "first bad %ld", bad);
	/* All four acknowledged, unread: still over. */
	{
		struct pollfd p = { .fd = dev, .events = POLLIN };

		poll(&p, 1, 5000);
	}
	usleep(300000);
	r = notify_send(dev, s, fd, 4 * 4096, 4096, 54, NULL);
	report(r == -1 && errno == ENOBUFS, "notify overflow: unread notices count too: ENOBUFS",
	       "ret %ld errno %s", r, errname(errno));
	got = wait_notices(dev, 1000, n, 1);
	r = notify_send(dev, s, fd, 4 * 4096, 4096, 54, NULL);
	report(got == 1 && n[0].cookie == 50 && r == 4096,
	       "notify overflow: reading one makes room for one", "got %d cookie %llu ret %ld", got,
	       got ? (unsigned long long)n[0].cookie : 0ULL, r);
	read_check(rx, 4096, NSEED, 4 * 4096, &bad);
	got = 0;
	for (int i = 0; i < 20 && got < 4; i++) {
		int k = wait_notices(dev, 500, n + got, 8 - got);

		if (k > 0)
			got += k;
	}
	report(got == 4 && n[0].cookie == 51 && n[1].cookie == 52 && n[2].cookie == 53 &&
		       n[3].cookie == 54,
	       "notify overflow: the rest arrive, in order, none lost", "got %d", got);
	close(s);
	close(rx);
	close(dev);
}

#define NTHREADS   8
#define PER_THREAD 25

struct worker {
	int dev, fd, idx, fails;
	pthread_t t;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	int rx, s = tcp_pair(0, &rx);
	long bad;

	for (int i = 0; i < PER_THREAD; i++) {
		off_t off = (off_t)((w->idx * PER_THREAD + i) % 64) * 4096;
		uint64_t cookie = ((uint64_t)w->idx << 32) | (uint64_t)i;

		if (notify_send(w->dev, s, w->fd, off, 16 * KiB, cookie, NULL) != 16 * KiB ||
		    !read_check(rx, 16 * KiB, NSEED, off, &bad))
			w->fails++;
	}
	close(s);
	close(rx);
	return NULL;
}

/* Eight threads, one descriptor, a reader: every cookie exactly once. */
static void t_threads(int fd)
{
	static unsigned char seen[NTHREADS][PER_THREAD];
	struct worker w[NTHREADS];
	struct zcopy_notice n[16];
	int dev = dev_open(), total = 0, wrong = 0, fails = 0, dup = 0;
	struct timespec t0, t;

	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .dev = dev, .fd = fd, .idx = i };
		pthread_create(&w[i].t, NULL, worker_fn, &w[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (total < NTHREADS * PER_THREAD) {
		int k = wait_notices(dev, 200, n, 16);

		for (int j = 0; j < k; j++) {
			uint64_t th = n[j].cookie >> 32, i = n[j].cookie & 0xffffffff;

			if (th >= NTHREADS || i >= PER_THREAD || n[j].bytes != 16 * KiB) {
				wrong++;
				continue;
			}
			if (seen[th][i]++)
				dup++;
			total++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			break;
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].t, NULL);
		fails += w[i].fails;
	}
	report(!fails, "notify threads: 8 threads x 25 notified sends on one fd, bytes right",
	       "%d failed", fails);
	report(total == NTHREADS * PER_THREAD && !wrong && !dup,
	       "notify threads: every cookie exactly once", "%d of %d, %d wrong, %d twice", total,
	       NTHREADS * PER_THREAD, wrong, dup);
	report(wait_notices(dev, 300, n, 16) == 0, "notify threads: and nothing more", " ");
	close(dev);
}

static void t_misc(int fd)
{
	struct zcopy_notice n[2];
	struct zcopy_seg v[2];
	struct zcopy_sendv sv = { .size = sizeof(sv) };
	int dev = dev_open(), rx, s, got, pair[2], u;
	long r, bad;
	char c;

	unix_pair(pair);
	r = notify_send(dev, pair[0], fd, 0, 4096, 1, NULL);
	report(r == -1 && errno == EOPNOTSUPP && recv(pair[1], &c, 1, MSG_DONTWAIT) == -1,
	       "notify: AF_UNIX socket: EOPNOTSUPP, nothing sent", "ret %ld errno %s", r,
	       errname(errno));
	close(pair[0]);
	close(pair[1]);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = notify_send(dev, u, fd, 0, 4096, 1, NULL);
	report(r == -1 && errno == EOPNOTSUPP, "notify: UDP socket: EOPNOTSUPP", "errno %s",
	       errname(errno));
	close(u);

	s = tcp_pair(0, &rx);
	r = notify_send(dev, s, fd, 0, 0, 2, NULL);
	got = wait_notices(dev, 300, n, 2);
	report(r == 0 && got == 0, "notify: a call that sends nothing gets no notice",
	       "ret %ld, %d notices", r, got);

	v[0] = zc_seg_mem("HDR\n", 4);
	v[1] = zc_seg_file(fd, 8192, 8192);
	sv.flags = ZCOPY_SEND_NOTIFY;
	sv.out_fd = s;
	sv.nr_segs = 2;
	sv.segs = (uint64_t)(uintptr_t)v;
	sv.cookie = 3;
	r = ioctl(dev, ZCOPY_IOC_SENDV, &sv);
	report(r == 8196 && read(rx, &c, 1) == 1 && c == 'H' && read(rx, &c, 1) == 1 &&
		       read(rx, &c, 1) == 1 && read(rx, &c, 1) == 1 &&
		       read_check(rx, 8192, NSEED, 8192, &bad),
	       "notify sendv: header and file sent", "ret %ld", r);
	got = wait_notices(dev, 5000, n, 2);
	report(got == 1 && n[0].cookie == 3 && n[0].bytes == 8196 && n[0].zc_bytes == 8192,
	       "notify sendv: one notice, bytes and zc_bytes of the call",
	       "got %d bytes %llu zc %llu", got, got ? (unsigned long long)n[0].bytes : 0ULL,
	       got ? (unsigned long long)n[0].zc_bytes : 0ULL);

	/* The library: the flags+cookie variant, and its non-blocking reader. */
	off_t off = 0;
	struct zc_stats st;

	r = zc_sendfile_notify(s, fd, &off, 4096, 0, 77, &st);
	ok = read_check(rx, 4096, NSEED, 0, &bad);
	report(r == 4096 && off == 4096 && ok, "notify lib: zc_sendfile_notify() sends", "ret %ld",
	       r);
	got = lib_wait_notices(n, 2);
	report(got == 1 && n[0].cookie == 77, "notify lib: zc_notices_read() gets its notice",
	       "got %d", got);
	r = zc_notices_read(n, 2);
	report(r == -1 && errno == EAGAIN, "notify lib: zc_notices_read() with none: EAGAIN",
	       "ret %ld errno %s", r, errname(errno));

	/*
	 * The program closes the library's descriptor and puts a file of its
	 * own on that number: zc_notices_read() must not read the file (a
	 * read would take its bytes as notices); it says EBADF, and the next
	 * notified call and read work on the device opened again.
	 */
	int lib = zc_device_fd(), mine = open(make_file("notify-victim", 4096, 5), O_RDONLY);
	char head[8];

	if (lib < 0 || mine < 0 || dup2(mine, lib) != lib)
		die("dup2 over the library fd");
	close(mine);
	errno = 0;
	r = zc_notices_read(n, 2);
	report(r == -1 && errno == EBADF && lseek(lib, 0, SEEK_CUR) == 0 &&
		       pread(lib, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
		       check_pattern((unsigned char *)head, sizeof(head), 5, 0) < 0,
	       "notify lib: zc_notices_read() on a number the program took over: EBADF, "
	       "its file not read",
	       "ret %ld errno %s, position %lld", r, errname(errno),
	       (long long)lseek(lib, 0, SEEK_CUR));
	r = zc_sendfile_notify(s, fd, &off, 4096, 0, 78, &st);
	ok = read_check(rx, 4096, NSEED, 4096, &bad);
	got = lib_wait_notices(n, 2);
	report(r == 4096 && ok && got == 1 && n[0].cookie == 78 && zc_device_fd() != lib,
	       "notify lib: ... then a notified call and its notice, on the device opened again",
	       "ret %ld, got %d, fd %d (was %d)", r, got, zc_device_fd(), lib);
	close(lib);
	close(s);
	close(rx);
	close(dev);
}

/*
 * The other routes: over veth into the peer namespace the pages are lent
 * and copied at delivery there (COPIED); over a route without
 * scatter-gather TCP copies at the call, so nothing holds the pages once
 * it returns: the notice is due at once, with zc_bytes 0.
 */
static void t_routes(int fd)
{
	const struct peer *peers[2] = { &veth, &nosg };
	size_t len = 128 * KiB;

	for (int i = 0; i < 2; i++) {
		const struct peer *p = peers[i];
		struct zcopy_sendfile a;
		struct zcopy_notice n[2];
		int dev = dev_open(), sock, got;
		struct rx rx;
		long r;

		if (!p->addr) {
			report(0, "notify routes: peer namespace set up", "%s: no address",
			       p->name);
			close(dev);
			continue;
		}
		sock = rx_start(&rx, p, len, -1);
		r = notify_send(dev, sock, fd, 0, len, 60 + i, &a);
		got = wait_notices(dev, 5000, n, 2);
		rx_finish(&rx, sock);
		ok = rx.got == len && check_pattern(rx.buf, len, NSEED, 0) == -1;
		if (p == &veth)
			report(r == (long)len && a.zc_bytes == len && got == 1 &&
				       n[0].cookie == 60 && n[0].zc_bytes == len &&
				       n[0].flags == ZCOPY_NOTICE_COPIED && ok,
			       "notify routes: veth into the peer namespace: lent, copied at "
			       "delivery",
			       "ret %ld zc %llu, %d notices, flags %#x, received %zu", r,
			       (unsigned long long)a.zc_bytes, got, got ? n[0].flags : 0, rx.got);
		else
			report(r == (long)len && a.zc_bytes == 0 && got == 1 && n[0].cookie == 61 &&
				       n[0].zc_bytes == 0 && n[0].bytes == len && n[0].flags == 0 &&
				       ok,
			       "notify routes: no scatter-gather: copied at the call, notice at "
			       "once",
			       "ret %ld zc %llu, %d notices, flags %#x, received %zu", r,
			       (unsigned long long)a.zc_bytes, got, got ? n[0].flags : 0, rx.got);
		rx_free(&rx);
		close(dev);
	}
}

/* Does this kernel's MTU probe share page fragments (6.5+)? */
static int probe_shares_frags(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		die("uname");
	return major > 6 || (major == 6 && minor >= 5);
}

/*
 * With MTU probing on, 6.5+ builds probe skbs by sharing the queued
 * pages without the notice: notified sends are refused there, and still
 * work on 6.1, whose probes copy.
 */
static void t_mtu_probing(int fd)
{
	const char *path = "/proc/sys/net/ipv4/tcp_mtu_probing";
	int dev = dev_open(), rx, s, shares = probe_shares_frags(), got;
	struct zcopy_notice n[2];
	FILE *f;
	long r, bad;

	f = fopen(path, "w");
	if (!f || fputs("1\n", f) < 0 || fclose(f))
		die(path);
	s = tcp_pair(0, &rx);
	r = notify_send(dev, s, fd, 0, 4096, 70, NULL);
	if (shares)
		report(r == -1 && errno == EOPNOTSUPP,
		       "notify: tcp_mtu_probing on, probes share pages (6.5+): EOPNOTSUPP",
		       "ret %ld errno %s", r, errname(errno));
	else
		report(r == 4096, "notify: tcp_mtu_probing on, probes copy (6.1): sent",
		       "ret %ld errno %s", r, errname(errno));
	f = fopen(path, "w");
	if (!f || fputs("0\n", f) < 0 || fclose(f))
		die(path);
	if (r == 4096) {
		ok = read_check(rx, 4096, NSEED, 0, &bad);
		got = wait_notices(dev, 5000, n, 2);
		report(ok && got == 1 && n[0].cookie == 70, "notify: and its notice comes",
		       "got %d", got);
	}
	r = notify_send(dev, s, fd, 0, 4096, 71, NULL);
	ok = read_check(rx, 4096, NSEED, 0, &bad);
	got = wait_notices(dev, 5000, n, 2);
	report(r == 4096 && ok && got == 1 && n[0].cookie == 71,
	       "notify: tcp_mtu_probing back to 0: sent, one notice", "ret %ld got %d", r, got);
	close(s);
	close(rx);
	close(dev);
}

static void *drain_fn(void *arg)
{
	int rx = *(int *)arg;
	static char buf[256 * 1024];
	long total = 0;
	ssize_t r;

	while ((r = read(rx, buf, sizeof(buf))) > 0)
		total += r;
	return (void *)total;
}

/*
 * What the flag costs over loopback, where a notified send is copied at
 * delivery: 16 x 8 MiB, plain and notified, twice each; best of each.
 * Printed, not asserted (a TCG guest's speed says little by itself; the
 * ratio is the point).
 */
static void t_cost(void)
{
	size_t len = 8 * MiB;
	char *path = make_file("notify-cost", len, 9);
	int fd = open(path, O_RDONLY), dev = dev_open();
	double best[2] = { 0, 0 };

	if (fd < 0)
		die(path);
	for (int round = 0; round < 4; round++) {
		int notify = round & 1, rx, s = tcp_pair(0, &rx), bad = 0;
		struct zcopy_notice n[16];
		struct timespec t0, t1;
		pthread_t th;
		void *got;
		double mibs;

		pthread_create(&th, NULL, drain_fn, &rx);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 16; i++) {
			off_t off = 0;
			long r = notify ? notify_send(dev, s, fd, 0, len, i, NULL)
					: zc_sendfile(s, fd, &off, len);

			bad += r != (long)len;
		}
		shutdown(s, SHUT_WR);
		pthread_join(th, &got);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		mibs = 16.0 * 8 / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (!bad && (long)got == (long)(16 * len) && mibs > best[notify])
			best[notify] = mibs;
		if (notify)
			for (int k = 0; k < 16;) {
				int m = wait_notices(dev, 2000, n, 16);

				if (m <= 0)
					break;
				k += m;
			}
		close(s);
		close(rx);
	}
	report(best[0] > 0 && best[1] > 0, "notify cost: 128 MiB plain and notified over loopback",
	       "a transfer failed");
	note("notify cost over loopback TCP, 8 MiB calls: plain %.0f MiB/s, notified %.0f MiB/s "
	     "(%.2fx)",
	     best[0], best[1], best[0] > 0 ? best[1] / best[0] : 0);
	close(fd);
	close(dev);
	unlink(path);
}

void test_notify(void)
{
	char *path = make_file("notify", 1 * MiB, NSEED);
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	t_held_until_read(fd);
	t_rewrite_after_notice();
	t_endings(fd);
	t_close_pending(fd);
	t_overflow(fd);
	t_threads(fd);
	t_misc(fd);
	t_routes(fd);
	t_mtu_probing(fd);
	t_cost();
	close(fd);
	unlink(path);
}
