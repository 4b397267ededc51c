/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_fuzz.c - a seeded fuzzer for /dev/zcopy's ioctls and read(2).
 *
 * Each round builds one request at random: an ioctl number around zcopy's
 * (its own two, their direction and size bits changed, the numbers next to
 * them, the types next to 0xB9, now and then any number outside the few
 * the VFS itself serves), a struct of a random size with every field drawn
 * from boundary and random values, descriptors of every kind (files on
 * tmpfs and ext4, procfs, /dev/zero, a directory, O_PATH, write-only,
 * pipes, eventfd, epoll, memfd, /dev/zcopy itself, sockets of each family
 * the guest has, closed and absurd numbers), and pointers to the argument
 * or to an offset or a vector or a memory segment that are fine, NULL,
 * unmapped, read-only, straddling a page into unmapped memory, or the
 * kernel's. Sockets are non-blocking or have a 20 ms send timeout, so
 * no round waits long.
 *
 * Every answer must be a count no larger than the request's, or -1 with
 * an errno from the documented set (README.md's tables). The argument is
 * pre-filled with a pattern, and after each call every byte of it must
 * be either what the caller put there or a value the kernel may write
 * there: inputs unchanged, @sent equal to the return value and the
 * zero-copy/copied split adding up to it, @stop a known reason, bytes
 * past the fields this module knows untouched. So no kernel byte can
 * reach the caller through the argument unnoticed. read(2) of notices
 * into a pre-filled buffer: whole well-formed records, nothing written
 * past them. The debug kernels watch the kernel side (KASAN, lockdep,
 * kmemleak: their reports fail the run from the console log).
 *
 * Environment: ZC_FUZZ_SEED (default: the time; printed either way),
 * ZC_FUZZ_COUNT (rounds, default 50000), ZC_FUZZ_SECONDS (a time budget,
 * default 40: a slow kernel runs fewer rounds, and says so).
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng;

static uint64_t rnd64(void)
{
	return splitmix64(&rng);
}

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)(rnd64() % n);
}

#define PICK(a) ((a)[rnd(sizeof(a) / sizeof((a)[0]))])

/* ---- descriptors -------------------------------------------------------- */

struct fdent {
	int fd;
	int peer; /* >= 0: read and discarded now and then */
	const char *what;
};

static struct fdent fds[64];
static int nfds;

static void add_fd(int fd, int peer, const char *what)
{
	if (fd < 0 || nfds == (int)(sizeof(fds) / sizeof(fds[0]))) {
		if (fd < 0)
			note("fuzz: no %s (%s)", what, errname(errno));
		return;
	}
	fds[nfds++] = (struct fdent){ fd, peer, what };
}

/* A send timeout instead of blocking forever on a peer nobody reads. */
static int timed(int s)
{
	struct timeval tv = { .tv_usec = 20000 };

	if (s >= 0)
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return s;
}

static void add_ip(int family, int type, int nonblock, const char *what)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len =
		family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int l = socket(family, type | SOCK_CLOEXEC, 0);
	int s = socket(family, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int r = -1;

	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (l < 0 || s < 0 || bind(l, (void *)&ss, len) || getsockname(l, (void *)&ss, &len) ||
	    (type == SOCK_STREAM && listen(l, 4))) {
		note("fuzz: no %s (%s)", what, errname(errno));
		close(l);
		close(s);
		return;
	}
	/* A non-blocking connect on loopback completes at once or soon. */
	if (connect(s, (void *)&ss, len) && errno != EINPROGRESS) {
		note("fuzz: no %s (connect %s)", what, errname(errno));
		close(l);
		close(s);
		return;
	}
	if (type == SOCK_STREAM) {
		r = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		close(l);
	} else {
		r = l;
		fcntl(r, F_SETFL, O_NONBLOCK);
	}
	add_fd(timed(s), r, what);
}

static void add_pair(int type, const char *what)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv)) {
		note("fuzz: no %s (%s)", what, errname(errno));
		return;
	}
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	add_fd(timed(sv[0]), sv[1], what);
}

static void open_fds(const char *file, int dev)
{
	const char *ext4 = getenv("ZC_EXT4_DIR");
	int p[2], closed;

	add_fd(open(file, O_RDONLY | O_CLOEXEC), -1, "tmpfs file");
	add_fd(open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK), -1, "tmpfs file, O_NONBLOCK");
	add_fd(open(file, O_WRONLY | O_CLOEXEC), -1, "tmpfs file, write-only");
	add_fd(open(file, O_PATH | O_CLOEXEC), -1, "O_PATH");
	if (ext4) {
		char *f = make_file_in(ext4, "fuzz-ext4", 300 * KiB, 21);

		add_fd(open(f, O_RDONLY | O_CLOEXEC), -1, "ext4 file");
		add_fd(open(f, O_RDONLY | O_CLOEXEC | O_DIRECT), -1, "ext4 file, O_DIRECT");
		unlink(f);
	}
	add_fd(open("/proc/self/status", O_RDONLY | O_CLOEXEC), -1, "procfs");
	add_fd(open("/dev/zero", O_RDONLY | O_CLOEXEC), -1, "/dev/zero");
	add_fd(open("/dev/null", O_RDWR | O_CLOEXEC), -1, "/dev/null");
	add_fd(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), -1, "directory");
	add_fd(dev, -1, "/dev/zcopy");
	add_fd(memfd_create("fuzz", MFD_CLOEXEC), -1, "memfd");
	if (!pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		add_fd(p[0], -1, "pipe, read end");
		add_fd(p[1], p[0], "pipe, write end");
	}
	add_fd(eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK), -1, "eventfd");
	add_fd(epoll_create1(EPOLL_CLOEXEC), -1, "epoll");
	add_ip(AF_INET, SOCK_STREAM, 0, "TCP v4");
	add_ip(AF_INET, SOCK_STREAM, 1, "TCP v4, non-blocking");
	add_ip(AF_INET6, SOCK_STREAM, 0, "TCP v6");
	add_ip(AF_INET, SOCK_DGRAM, 0, "UDP v4");
	add_ip(AF_INET6, SOCK_DGRAM, 1, "UDP v6, non-blocking");
	add_fd(timed(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), -1, "TCP, not connected");
	add_fd(timed(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)), -1, "UDP, not connected");
	add_pair(SOCK_STREAM, "AF_UNIX stream");
	add_pair(SOCK_DGRAM, "AF_UNIX datagram");
	add_pair(SOCK_SEQPACKET, "AF_UNIX seqpacket");
	add_fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), -1, "AF_UNIX, not connected");
	/* Unbound: a frame cannot leave (ENXIO), whatever bytes it holds. */
	add_fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), -1, "AF_PACKET");
	/* NETLINK_USERSOCK: no kernel handler that could act on the bytes. */
	add_fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK), -1, "AF_NETLINK");
	{
		int v = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (v >= 0)
			add_fd(v, -1, "AF_VSOCK");
		else
			note("fuzz: no AF_VSOCK (%s)", errname(errno));
	}
	closed = fcntl(0, F_DUPFD_CLOEXEC, 900);
	close(closed);
	add_fd(closed, -1, "closed");
}

/* A descriptor that may well work: a readable file, or a socket. */
static int pick_plausible(int socket_wanted)
{
	for (int tries = 0; tries < 100; tries++) {
		const struct fdent *f = &fds[rnd(nfds)];
		int is_sock = !strncmp(f->what, "TCP", 3) || !strncmp(f->what, "UDP", 3) ||
			      !strncmp(f->what, "AF_UNIX", 7);

		if (socket_wanted ? is_sock : strstr(f->what, "file") && !strstr(f->what, "write"))
			return f->fd;
	}
	return fds[0].fd;
}

static int pick_fd(void)
{
	static const int odd[] = { -1, -2, INT_MIN, INT_MAX, 1 << 20, 0, 1, 2 };

	if (rnd(10) == 0)
		return PICK(odd);
	return fds[rnd(nfds)].fd;
}

static void drain(void)
{
	static unsigned char buf[65536];

	for (int i = 0; i < nfds; i++)
		if (fds[i].peer >= 0)
			while (read(fds[i].peer, buf, sizeof(buf)) > 0)
				;
}

/* ---- memory -------------------------------------------------------------- */

/*
 * One memfd mapped twice: a writable view and a read-only one of the same
 * pages (an argument the kernel can read but not write back), then an
 * unmapped page after the writable view (straddling).
 */
static unsigned char *rw, *ro;
#define ARENA (4 * PAGE)

static void map_arena(void)
{
	int m = memfd_create("fuzz-arena", MFD_CLOEXEC);

	if (m < 0 || ftruncate(m, ARENA))
		die("memfd");
	rw = mmap(NULL, ARENA + PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	if (rw == MAP_FAILED)
		die("mmap");
	munmap(rw + ARENA, PAGE); /* the hole past the writable view */
	ro = mmap(NULL, ARENA, PROT_READ, MAP_SHARED, m, 0);
	if (ro == MAP_FAILED)
		die("mmap");
	close(m);
}

/* A pointer for a field that points somewhere: good (into @good) or not. */
static uint64_t pick_ptr(void *good, size_t good_len)
{
	switch (rnd(8)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)(rw + ARENA); /* unmapped */
	case 2:
		return (uintptr_t)(rw + ARENA - rnd((unsigned int)good_len + 1)); /* straddling */
	case 3:
		return 0xffff888000000000ULL + rnd(1 << 20); /* the kernel's */
	case 4:
		return rnd64();
	default:
		return (uintptr_t)good;
	}
}

/* ---- the rounds ---------------------------------------------------------- */

static const uint64_t counts[] = { 0,
				   1,
				   10,
				   4095,
				   4096,
				   4097,
				   65536,
				   1 << 20,
				   0x7ffff000,
				   0x80000000,
				   ~0ULL,
				   ~0ULL >> 1,
				   (~0ULL >> 1) + 1 };
static const int64_t offsets[] = { 0,  1,	  4095,	     4096,	    300 * 1024, 8 << 20,
				   -1, LLONG_MIN, LLONG_MAX, LLONG_MAX - 5, 1LL << 40,	1LL << 62 };

static uint64_t pick_count(void)
{
	return rnd(3) ? PICK(counts) : rnd64() >> rnd(64);
}

static int64_t pick_offset(void)
{
	return rnd(3) ? PICK(offsets) : (int64_t)(rnd64() >> rnd(64));
}

static uint32_t pick_flags(uint32_t all)
{
	switch (rnd(6)) {
	case 0:
		return (uint32_t)rnd64();
	case 1:
		return 0;
	default:
		/* Known flags mostly, DONTWAIT often, an unknown bit seldom. */
		return ((uint32_t)rnd64() & all) | (rnd(2) ? ZCOPY_SEND_DONTWAIT : 0) |
		       (rnd(20) ? 0 : 1U << (6 + rnd(26)));
	}
}

static uint32_t pick_size(uint32_t ver0, uint32_t ver1)
{
	const uint32_t sizes[] = { 0,	 4,    8,	 ver0 - 1, ver0, ver0 + 4, ver1 - 1,  ver1,
				   ver1, ver1, ver1 + 8, 256,	   PAGE, PAGE + 1, 0xffffffff };

	return rnd(8) ? PICK(sizes) : (uint32_t)rnd64() >> rnd(32);
}

static const int allowed[] = { EBADF,	     ENOTSOCK,	   ESPIPE,   EINVAL, EOPNOTSUPP, ENOBUFS,
			       EOVERFLOW,    E2BIG,	   EFAULT,   ENOTTY, EPIPE,	 ENOTCONN,
			       EDESTADDRREQ, ECONNRESET,   EMSGSIZE, EAGAIN, EBUSY,	 EINTR,
			       ENXIO,	     ECONNREFUSED, EISDIR };

static int errno_allowed(int e)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i] == e)
			return 1;
	return 0;
}

struct tally {
	unsigned long rounds, ok, failed, unexpected, by_errno[160];
	unsigned long notices;
};

static void unexpected(struct tally *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void unexpected(struct tally *t, const char *fmt, ...)
{
	va_list ap;

	if (t->unexpected++ < 10) {
		va_start(ap, fmt);
		printf("# fuzz round %lu: ", t->rounds);
		vprintf(fmt, ap);
		printf("\n");
		va_end(ap);
	}
}

#define FILL   0xa5
#define FILL64 0xa5a5a5a5a5a5a5a5ULL

static int filled(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++ != FILL)
			return 0;
	return 1;
}

static void answer(struct tally *t, long r, int e, uint64_t limit, const char *what)
{
	if (r >= 0) {
		t->ok++;
		if ((uint64_t)r > limit)
			unexpected(t, "%s returned %ld, more than the %llu asked for", what, r,
				   (unsigned long long)limit);
		return;
	}
	t->failed++;
	if (e >= 0 && e < 160)
		t->by_errno[e]++;
	if (!errno_allowed(e))
		unexpected(t, "%s failed with %s", what, errname(e));
}

static long do_ioctl(int dev, unsigned long cmd, uint64_t arg, int *e)
{
	long r;

	errno = 0;
	r = ioctl(dev, cmd, (void *)(uintptr_t)arg);
	*e = errno;
	return r;
}

/*
 * The argument after a call, against the bytes the caller put there
 * (@before, @size of them): inputs and anything past the struct this
 * module knows unchanged; outputs either untouched or values the kernel
 * may write. @o is the struct as the kernel left it, read as far as
 * @size covers it (the fill beyond).
 */
static int tail_kept(const unsigned char *got, const unsigned char *before, size_t known,
		     size_t size)
{
	return size <= known || !memcmp(got + known, before + known, size - known);
}

static void outputs_sane(struct tally *t, const char *what, long r, uint64_t sent, uint64_t zc,
			 uint64_t copied, int has_stop, uint32_t stop, uint32_t stop_in)
{
	if (r >= 0 && (sent != (uint64_t)r || zc + copied != sent))
		unexpected(t, "%s returned %ld: sent %llu zc %llu copied %llu", what, r,
			   (unsigned long long)sent, (unsigned long long)zc,
			   (unsigned long long)copied);
	/* Failed: untouched (the fill), or written as "nothing sent" first. */
	if (r < 0 && !(sent == FILL64 && zc == FILL64 && copied == FILL64) &&
	    (sent || zc || copied))
		unexpected(t, "%s failed but left sent %llu zc %llu copied %llu", what,
			   (unsigned long long)sent, (unsigned long long)zc,
			   (unsigned long long)copied);
	if (has_stop && stop > ZCOPY_STOP_ERROR && (r >= 0 || stop != stop_in))
		unexpected(t, "%s returned %ld (%s) and left stop %#x (in: %#x)", what, r,
			   errname(errno), stop, stop_in);
}

static void check_sendfile(struct tally *t, const unsigned char *before, const unsigned char *got,
			   size_t size, long r)
{
	struct zcopy_sendfile in, o;
	size_t known = sizeof(o) < size ? sizeof(o) : size;

	memset(&in, FILL, sizeof(in));
	memset(&o, FILL, sizeof(o));
	memcpy(&in, before, known);
	memcpy(&o, got, known);
	if (o.size != in.size || o.flags != in.flags || o.in_fd != in.in_fd ||
	    o.out_fd != in.out_fd || o.count != in.count || o.cookie != in.cookie ||
	    o.readahead != in.readahead || o.pad != in.pad)
		unexpected(t, "SENDFILE changed an input field");
	if (!tail_kept(got, before, sizeof(o), size))
		unexpected(t, "SENDFILE wrote past the struct it knows");
	if (r >= 0 &&
	    (in.flags & (ZCOPY_SEND_OFFSET | ZCOPY_SEND_OFFSET_PTR)) == ZCOPY_SEND_OFFSET &&
	    o.offset != in.offset + r)
		unexpected(t, "SENDFILE from %lld returned %ld, offset %lld", (long long)in.offset,
			   r, (long long)o.offset);
	char what[64];

	snprintf(what, sizeof(what), "SENDFILE size %u flags %#x", in.size, in.flags);
	outputs_sane(t, what, r, o.sent, o.zc_bytes, o.copied_bytes,
		     in.size >= ZCOPY_SENDFILE_SIZE_VER1, o.stop, in.stop);
}

static void check_sendv(struct tally *t, const unsigned char *before, const unsigned char *got,
			size_t size, long r)
{
	struct zcopy_sendv in, o;
	size_t known = sizeof(o) < size ? sizeof(o) : size;

	memset(&in, FILL, sizeof(in));
	memset(&o, FILL, sizeof(o));
	memcpy(&in, before, known);
	memcpy(&o, got, known);
	if (o.size != in.size || o.flags != in.flags || o.out_fd != in.out_fd ||
	    o.nr_segs != in.nr_segs || o.segs != in.segs || o.cookie != in.cookie ||
	    o.readahead != in.readahead || o.pad != in.pad)
		unexpected(t, "SENDV changed an input field");
	if (!tail_kept(got, before, sizeof(o), size))
		unexpected(t, "SENDV wrote past the struct it knows");
	char what[64];

	snprintf(what, sizeof(what), "SENDV size %u flags %#x", in.size, in.flags);
	outputs_sane(t, what, r, o.sent, o.zc_bytes, o.copied_bytes,
		     in.size >= ZCOPY_SENDV_SIZE_VER1, o.stop, in.stop);
}

/*
 * Where an argument of @size bytes goes: mostly a good place in the
 * writable view; sometimes its read-only alias (the kernel can read it,
 * not write back: EFAULT, nothing sent), straddling the hole after the
 * view, or another pointer altogether. @p and @len: the bytes to fill
 * and check afterwards (a straddling argument has fewer of them).
 */
struct placed {
	unsigned char *p;
	size_t len;
	uint64_t arg;
	int good; /* arg == p and all @size bytes there */
};

static void place(struct placed *pl, const void *bytes, size_t size)
{
	unsigned int where = rnd(10);

	pl->p = rw + 2 * PAGE + 8 * rnd(16);
	if (where == 0) /* straddling: 1 to @size bytes before the hole */
		pl->p = rw + ARENA - 1 - rnd((unsigned int)size);
	pl->len = (size_t)(rw + ARENA - pl->p) < size ? (size_t)(rw + ARENA - pl->p) : size;
	memcpy(pl->p, bytes, pl->len);
	pl->arg = (uintptr_t)pl->p;
	if (where == 1)
		pl->arg = (uintptr_t)(ro + (pl->p - rw));
	else if (where == 2)
		pl->arg = pick_ptr(pl->p, size);
	pl->good = where && pl->arg == (uintptr_t)pl->p;
}

/* Up to this much of an argument is built and checked (sizes run to a page). */
#define SPAN 512

static void round_sendfile(struct tally *t, int dev)
{
	unsigned char buf[SPAN], before[SPAN];
	struct zcopy_sendfile a;
	struct placed pl;
	uint64_t off_slot = (uintptr_t)(rw + PAGE + 8 * rnd(8));
	uint32_t size = pick_size(ZCOPY_SENDFILE_SIZE_VER0, ZCOPY_SENDFILE_SIZE_VER1);
	size_t span = size < sizeof(a) ? sizeof(a) : size < SPAN ? size : SPAN;
	int e;
	long r;

	memset(&a, FILL, sizeof(a));
	a.size = size;
	a.flags = pick_flags(ZCOPY_SEND_ALL_FLAGS);
	a.in_fd = pick_fd();
	a.out_fd = pick_fd();
	a.offset = pick_offset();
	a.count = pick_count();
	a.cookie = (a.flags & ZCOPY_SEND_NOTIFY) || !rnd(20) ? rnd64() : 0;
	a.readahead = rnd(4) ? 0 : rnd64() >> rnd(64);
	a.stop = rnd(10) ? 0 : (uint32_t)rnd64();
	a.pad = rnd(20) ? 0 : (uint32_t)rnd64();
	if (rnd(2)) {
		/* Half the rounds: a call that may well get through. */
		a.size = ZCOPY_SENDFILE_SIZE_VER1;
		a.flags &= ZCOPY_SEND_ALL_FLAGS;
		a.in_fd = pick_plausible(0);
		a.out_fd = pick_plausible(1);
		a.offset = rnd(300 * 1024);
		a.count = rnd(3) ? rnd(70000) : PICK(counts);
		a.cookie = a.flags & ZCOPY_SEND_NOTIFY ? a.cookie : 0;
		a.stop = a.pad = 0;
		size = a.size;
		span = sizeof(a);
	}
	if (a.flags & ZCOPY_SEND_OFFSET_PTR) {
		int64_t v = rnd(2) ? (int64_t)rnd(300 * 1024) : pick_offset();

		memcpy((void *)(uintptr_t)off_slot, &v, 8);
		a.offset = (int64_t)pick_ptr((void *)(uintptr_t)off_slot, 8);
	}
	/* Past the known struct: zero mostly (accepted), the fill now and then (E2BIG). */
	memset(buf, rnd(4) ? 0 : FILL, sizeof(buf));
	memcpy(buf, &a, sizeof(a));
	place(&pl, buf, span);
	memcpy(before, pl.p, pl.len);
	r = do_ioctl(dev, ZCOPY_IOC_SENDFILE, pl.arg, &e);
	answer(t, r, e, a.count, "SENDFILE");
	if (r >= 0 && pl.arg == (uintptr_t)(ro + (pl.p - rw)))
		unexpected(t, "SENDFILE with a read-only argument returned %ld", r);
	if (pl.good)
		check_sendfile(t, before, pl.p, size < span ? size : span, r);
	else if (pl.arg != (uintptr_t)pl.p && memcmp(before, pl.p, pl.len))
		unexpected(t, "SENDFILE wrote the caller's memory through a bad argument");
}

static void round_sendv(struct tally *t, int dev)
{
	/* The vector lives at the start of the writable view's first page. */
	struct zcopy_seg *segs = (void *)rw;
	unsigned int nr = rnd(4) ? rnd(6) : (rnd(2) ? (unsigned int)rnd64() : 1025);
	unsigned int fill = nr < PAGE / sizeof(*segs) ? nr : PAGE / sizeof(*segs);
	unsigned char buf[SPAN], before[SPAN];
	struct zcopy_sendv a;
	struct placed pl;
	uint64_t total = 0;
	uint32_t size;
	size_t span;
	int e;
	long r;

	int plausible = rnd(2);

	for (unsigned int i = 0; i < fill; i++) {
		struct zcopy_seg *s = &segs[i];

		s->type = rnd(8) || plausible ? 1 + rnd(2) : rnd(5);
		s->fd = s->type == ZCOPY_SEG_MEM && (rnd(8) || plausible) ? 0
			: plausible					  ? pick_plausible(0)
									  : pick_fd();
		if (s->type == ZCOPY_SEG_MEM)
			s->addr = plausible && rnd(4) ? (uintptr_t)(rw + 3 * PAGE + rnd(512))
						      : pick_ptr(rw + 3 * PAGE, 512);
		else
			s->offset = plausible ? rnd(300 * 1024) : pick_offset();
		s->len = rnd(3) || plausible ? rnd(600) : pick_count();
		s->reserved = rnd(20) || plausible ? 0 : rnd64();
		total += s->len;
	}
	size = pick_size(ZCOPY_SENDV_SIZE_VER0, ZCOPY_SENDV_SIZE_VER1);
	span = size < sizeof(a) ? sizeof(a) : size < SPAN ? size : SPAN;
	memset(&a, FILL, sizeof(a));
	a.size = size;
	a.flags = pick_flags(ZCOPY_SENDV_ALL_FLAGS);
	a.out_fd = pick_fd();
	a.nr_segs = nr;
	a.segs = rnd(5) ? (uintptr_t)segs : pick_ptr(segs, fill * sizeof(*segs));
	a.cookie = (a.flags & ZCOPY_SEND_NOTIFY) || !rnd(20) ? rnd64() : 0;
	a.readahead = rnd(4) ? 0 : rnd64() >> rnd(64);
	a.stop = rnd(10) ? 0 : (uint32_t)rnd64();
	a.pad = rnd(20) ? 0 : (uint32_t)rnd64();
	if (plausible) {
		a.size = ZCOPY_SENDV_SIZE_VER1;
		a.flags &= ZCOPY_SENDV_ALL_FLAGS;
		a.out_fd = pick_plausible(1);
		a.segs = (uintptr_t)segs;
		a.cookie = a.flags & ZCOPY_SEND_NOTIFY ? a.cookie : 0;
		a.stop = a.pad = 0;
		size = a.size;
		span = sizeof(a);
	}
	memset(buf, rnd(4) ? 0 : FILL, sizeof(buf));
	memcpy(buf, &a, sizeof(a));
	place(&pl, buf, span);
	memcpy(before, pl.p, pl.len);
	r = do_ioctl(dev, ZCOPY_IOC_SENDV, pl.arg, &e);
	/* Lengths may wrap: the limit only means something while they did not. */
	answer(t, r, e, total < (1ULL << 62) ? total : ~0ULL, "SENDV");
	if (r > 0 && pl.arg == (uintptr_t)(ro + (pl.p - rw)))
		unexpected(t, "SENDV with a read-only argument returned %ld", r);
	if (pl.good)
		check_sendv(t, before, pl.p, size < span ? size : span, r);
	else if (pl.arg != (uintptr_t)pl.p && memcmp(before, pl.p, pl.len))
		unexpected(t, "SENDV wrote the caller's memory through a bad argument");
}

/* Numbers near zcopy's, and now and then any but those the VFS serves itself. */
static unsigned long pick_cmd(void)
{
	static const unsigned long vfs[] = { FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE };
	unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE };
	unsigned long cmd;

	switch (rnd(4)) {
	case 0:
		cmd = _IOC(PICK(dirs), ZCOPY_IOC_MAGIC + rnd(3) - 1, rnd(8),
			   rnd(2) ? sizeof(struct zcopy_sendfile) : rnd(1 << 14));
		break;
	case 1:
		cmd = (uint32_t)rnd64();
		break;
	default:
		cmd = _IOC(PICK(dirs), ZCOPY_IOC_MAGIC, 1 + rnd(2), rnd(1 << 14));
		break;
	}
	/* FIFREEZE and its kind act on the file system the device is on: never. */
	for (size_t i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++)
		if (cmd == vfs[i])
			return ZCOPY_IOC_SENDFILE;
	if (_IOC_TYPE(cmd) == 'X' || _IOC_TYPE(cmd) == 'f' || _IOC_TYPE(cmd) == 0x94 ||
	    _IOC_TYPE(cmd) == 'T' || _IOC_TYPE(cmd) == 0x12 || _IOC_TYPE(cmd) == 0x15 ||
	    _IOC_TYPE(cmd) == 0)
		return _IOC(_IOC_NONE, ZCOPY_IOC_MAGIC, 0x7f, 0);
	return cmd;
}

static void round_cmd(struct tally *t, int dev)
{
	unsigned long cmd = pick_cmd();
	unsigned char *p = rw + 2 * PAGE, before[512];
	uint64_t arg = rnd(2) ? (uintptr_t)p : pick_ptr(p, 512);
	int e;
	long r;

	for (int i = 0; i < 512; i++)
		p[i] = (unsigned char)rnd64();
	memcpy(before, p, sizeof(before));
	r = do_ioctl(dev, cmd, arg, &e);
	if (_IOC_TYPE(cmd) == ZCOPY_IOC_MAGIC && (_IOC_NR(cmd) == 1 || _IOC_NR(cmd) == 2) &&
	    _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE)) {
		answer(t, r, e, ~0ULL, "ioctl");
		return;
	}
	/* Not a zcopy command: ENOTTY, and the memory left alone. */
	t->failed += r < 0;
	if (r != -1 || (e != ENOTTY && e != EINVAL))
		unexpected(t, "ioctl %#lx returned %ld %s, want ENOTTY", cmd, r, errname(e));
	else if (memcmp(before, p, sizeof(before)))
		unexpected(t, "ioctl %#lx wrote the caller's memory", cmd);
}

/* Notices, read into a pre-filled buffer: whole records, nothing past them. */
static void round_read(struct tally *t, int dev)
{
	static const size_t lens[] = { 0, 1, 31, 32, 33, 64, 100, 4096 };
	unsigned char *p = rw + 2 * PAGE;
	size_t len = PICK(lens);
	int bad = rnd(8) == 0;
	ssize_t n;

	memset(p, FILL, 4096 + 64);
	errno = 0;
	n = read(dev, bad ? (void *)(uintptr_t)pick_ptr(p, len) : p, len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINVAL && errno != EFAULT)
			unexpected(t, "read(%zu) failed with %s", len, errname(errno));
		if (!filled(p, len + 64))
			unexpected(t, "a failed read(%zu) wrote the buffer", len);
		return;
	}
	if (n % sizeof(struct zcopy_notice) || (size_t)n > len) {
		unexpected(t, "read(%zu) returned %zd", len, n);
		return;
	}
	if (bad)
		return;
	for (ssize_t i = 0; i < n; i += sizeof(struct zcopy_notice)) {
		struct zcopy_notice z;

		memcpy(&z, p + i, sizeof(z));
		t->notices++;
		if (z.size != ZCOPY_NOTICE_SIZE_VER0 || z.flags & ~ZCOPY_NOTICE_COPIED ||
		    z.zc_bytes > z.bytes || !z.bytes)
			unexpected(t, "notice size %u flags %#x bytes %llu zc %llu", z.size,
				   z.flags, (unsigned long long)z.bytes,
				   (unsigned long long)z.zc_bytes);
	}
	if (!filled(p + n, 64))
		unexpected(t, "read(%zu) wrote past the %zd bytes it returned", len, n);
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void test_fuzz(void)
{
	char *file = make_file("fuzz", 1 * MiB, 5);
	uint64_t seed = env_ul("ZC_FUZZ_SEED", (unsigned long)time(NULL));
	unsigned long count = env_ul("ZC_FUZZ_COUNT", 50000);
	double seconds = (double)env_ul("ZC_FUZZ_SECONDS", 40), start = now();
	/* Its own descriptor: the notices it asks for are read here only. */
	int dev = open(ZCOPY_DEVICE_PATH, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct tally t = { 0 };
	char line[512];
	int len = 0;

	if (dev < 0)
		die(ZCOPY_DEVICE_PATH);
	note("fuzz seed %llu, %lu rounds, %.0f s at most", (unsigned long long)seed, count,
	     seconds);
	rng = seed;
	map_arena();
	open_fds(file, dev);
	while (t.rounds < count) {
		unsigned int k = rnd(16);

		if (k < 7)
			round_sendfile(&t, dev);
		else if (k < 12)
			round_sendv(&t, dev);
		else if (k < 14)
			round_cmd(&t, dev);
		else
			round_read(&t, dev);
		t.rounds++;
		if (!(t.rounds % 64)) {
			drain();
			if (now() - start > seconds)
				break;
		}
	}
	drain();
	if (t.rounds < count)
		note("fuzz: the time budget ran out after %lu of %lu rounds", t.rounds, count);
	for (int e = 0; e < 160 && len < (int)sizeof(line) - 32; e++)
		if (t.by_errno[e])
			len += snprintf(line + len, sizeof(line) - len, " %s:%lu", errname(e),
					t.by_errno[e]);
	note("fuzz: %lu rounds in %.1f s: %lu returned a count, %lu failed (%s ), %lu notices read",
	     t.rounds, now() - start, t.ok, t.failed, len ? line : " none", t.notices);
	report(!t.unexpected && t.ok > 0 && t.failed > 0,
	       "fuzz: every answer a count or a documented errno, outputs initialised",
	       "%lu unexpected (seed %llu)", t.unexpected, (unsigned long long)seed);
	/* The device still works after it all: one plain transfer. */
	{
		int sv[2], in = open(file, O_RDONLY | O_CLOEXEC);
		unsigned char buf[100];
		off_t off = 0;

		unix_pair(sv);
		report(zc_sendfile(sv[0], in, &off, 100) == 100 && read(sv[1], buf, 100) == 100 &&
			       check_pattern(buf, 100, 5, 0) < 0,
		       "fuzz: a transfer afterwards sends the right 100 bytes", "%s",
		       errname(errno));
		close(sv[0]);
		close(sv[1]);
		close(in);
	}
	for (int i = 0; i < nfds; i++) {
		if (fds[i].fd != dev)
			close(fds[i].fd);
		if (fds[i].peer >= 0)
			close(fds[i].peer);
	}
	nfds = 0;
	close(dev);
	munmap(rw, ARENA);
	munmap(ro, ARENA);
	unlink(file);
}
