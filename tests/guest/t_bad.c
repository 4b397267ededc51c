/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_bad.c - bad inputs, one row each with the errno zcopy must give, run
 * through sendfile(2) too: both must agree, except where zcopy's
 * file-to-socket contract differs (an out fd that is not a socket).
 * Then the checks only the ioctl ABI itself can reach.
 */
#include "common.h"

#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

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
	int out2;  /* > 0: sendfile(2) gets this twin of @out (stateful errors) */
};

static void check_bad(const struct bad *b)
{
	off_t off = b->off;
	ssize_t r1, r2;
	int e1, e2;

	errno = 0;
	r1 = zc_sendfile(b->out, b->in, b->use_offset ? &off : NULL, b->count);
	e1 = errno;
	off = b->off;
	errno = 0;
	r2 = sendfile(b->out2 > 0 ? b->out2 : b->out, b->in, b->use_offset ? &off : NULL, b->count);
	e2 = errno;

	if (r1 != -1 || e1 != b->want)
		report(0, b->name, "zc_sendfile returned %zd errno %s, want -1 %s", r1, errname(e1),
		       errname(b->want));
	else if (b->vs == SAME_AS_SENDFILE && (r2 != -1 || e2 != e1))
		report(0, b->name, "sendfile(2) returned %zd errno %s, zc_sendfile %s", r2,
		       errname(e2), errname(e1));
	else if (b->vs == SENDFILE_SUCCEEDS && r2 < 0)
		report(0, b->name, "sendfile(2) failed (%s) where it should work", errname(e2));
	else
		report(1, b->name, NULL);
	/* Closing an already closed or invalid descriptor is harmless. */
	close(b->out);
	close(b->in);
	if (b->extra > 0)
		close(b->extra);
	if (b->out2 > 0)
		close(b->out2);
}

static int tcp_socket(int type)
{
	int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (s < 0)
		die("socket");
	return s;
}

/* A TCP connection whose peer closed with unread data: it got a reset. */
static int reset_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	socklen_t len = sizeof(a);
	int l = tcp_socket(SOCK_STREAM), s = tcp_socket(SOCK_STREAM), c;

	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 1) || getsockname(l, (void *)&a, &len) ||
	    connect(s, (void *)&a, sizeof(a)))
		die("reset setup");
	c = accept(l, NULL, NULL);
	if (c < 0 || setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		die("reset setup");
	close(c); /* SO_LINGER 0: close sends RST */
	close(l);
	usleep(50000);
	return s;
}

/*
 * Offset pointers the caller cannot give: unmapped, read-only, straddling
 * a page boundary into either, a kernel address. sendfile(2) reads the
 * offset through the pointer (EFAULT, nothing sent, if it cannot) and
 * writes it back after the call (EFAULT, though the bytes went, if it
 * cannot); zc_sendfile() must do exactly that, never fault in the
 * library. Each case runs both ways on fresh sockets and compares the
 * return value, errno, bytes received, file position and the memory at
 * the pointer.
 */
struct ptr_outcome {
	ssize_t ret;
	int err;
	ssize_t got;
	off_t pos;
	unsigned char mem[8];
	long bad; /* first received byte that is not the file's, or -1 */
};

static void ptr_run(const struct method *m, const char *file, off_t *p, int readable,
		    struct ptr_outcome *o)
{
	unsigned char buf[64];
	int sv[2], in = open(file, O_RDONLY | O_CLOEXEC);

	memset(o, 0, sizeof(*o));
	unix_pair(sv);
	if (in < 0)
		die(file);
	lseek(in, 7, SEEK_SET); /* a sentinel the offset mode must not move */
	errno = 0;
	o->ret = m->fn(sv[0], in, p, 10, NULL);
	o->err = o->ret < 0 ? errno : 0;
	o->got = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (o->got < 0)
		o->got = 0;
	o->bad = check_pattern(buf, o->got, 5, 3);
	o->pos = lseek(in, 0, SEEK_CUR);
	if (readable)
		memcpy(o->mem, p, 8);
	close(in);
	close(sv[0]);
	close(sv[1]);
}

static void ptr_case(const char *name, const char *file, off_t *p, int readable,
		     void (*reset)(void), ssize_t want_ret, int want_err, ssize_t want_got)
{
	struct ptr_outcome z, f;

	if (reset)
		reset();
	ptr_run(&m_zcopy, file, p, readable, &z);
	if (reset)
		reset();
	ptr_run(&m_sendfile, file, p, readable, &f);
	if (z.ret != f.ret || z.err != f.err || z.got != f.got || z.pos != f.pos ||
	    memcmp(z.mem, f.mem, 8))
		report(0, name,
		       "zc_sendfile %zd %s got %zd pos %lld; sendfile(2) %zd %s got %zd pos %lld%s",
		       z.ret, errname(z.err), z.got, (long long)z.pos, f.ret, errname(f.err), f.got,
		       (long long)f.pos, memcmp(z.mem, f.mem, 8) ? "; memory differs" : "");
	else if (z.ret != want_ret || z.err != want_err || z.got != want_got || z.pos != 7 ||
		 z.bad >= 0)
		report(0, name, "both: returned %zd %s, %zd bytes received (bad at %ld), pos %lld",
		       z.ret, errname(z.err), z.got, z.bad, (long long)z.pos);
	else
		report(1, name, NULL);
}

static unsigned char *ptr_map;

/* Offset 3 at each pointer the cases write through; read-only ones keep theirs. */
static void ptr_reset(void)
{
	off_t three = 3;

	memcpy(ptr_map + PAGE - 4, &three, 8);
	memcpy(ptr_map + 16, &three, 8);
	memcpy(ptr_map + 2 * PAGE - 4, &three, 4); /* the half in the writable page */
}

static void test_bad_pointers(const char *file)
{
	/* rw | rw | ro | unmapped */
	unsigned char *m =
		mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	off_t three = 3, after;
	struct zcopy_seg seg;
	struct iovec iov;
	int sv[2];

	if (m == MAP_FAILED)
		die("mmap");
	ptr_map = m;
	/* The read-only page's first 4 bytes stay zero: the straddling offset's high half. */
	memcpy(m + 2 * PAGE + 64, &three, 8);
	memcpy(m + 3 * PAGE - 4, &three, 4);
	if (mprotect(m + 2 * PAGE, PAGE, PROT_READ) || munmap(m + 3 * PAGE, PAGE))
		die("mprotect");
	ptr_reset();
	ptr_case("offset pointer writable: 10 bytes, both ways", file, (off_t *)(m + 16), 1,
		 ptr_reset, 10, 0, 10);
	after = 0;
	memcpy(&after, m + 16, 8);
	report(after == 13, "offset pointer writable: advanced to 13", "offset %lld",
	       (long long)after);
	ptr_case("offset pointer straddling two writable pages: 10 bytes", file,
		 (off_t *)(m + PAGE - 4), 1, ptr_reset, 10, 0, 10);
	ptr_case("offset pointer unmapped: EFAULT, nothing sent", file, (off_t *)(m + 3 * PAGE), 0,
		 NULL, -1, EFAULT, 0);
	ptr_case("offset pointer read-only: EFAULT after the bytes went, as sendfile(2)", file,
		 (off_t *)(m + 2 * PAGE + 64), 1, NULL, -1, EFAULT, 10);
	ptr_case("offset pointer straddling writable into read-only: EFAULT after the bytes went",
		 file, (off_t *)(m + 2 * PAGE - 4), 1, ptr_reset, -1, EFAULT, 10);
	ptr_case("offset pointer straddling read-only into unmapped: EFAULT, nothing sent", file,
		 (off_t *)(m + 3 * PAGE - 4), 0, NULL, -1, EFAULT, 0);
	ptr_case("offset pointer to kernel memory: EFAULT, nothing sent", file,
		 (off_t *)(uintptr_t)0xffff888000000000ULL, 0, NULL, -1, EFAULT, 0);

	/* The vector goes to the kernel as writev(2)'s does. */
	unix_pair(sv);
	errno = 0;
	report(zc_sendv(sv[0], (void *)(m + 3 * PAGE), 1, 0, NULL) == -1 && errno == EFAULT,
	       "zc_sendv segments unmapped: EFAULT", "errno %s", errname(errno));
	errno = 0;
	report(writev(sv[0], (void *)(m + 3 * PAGE), 1) == -1 && errno == EFAULT,
	       "writev(2) iovec unmapped: EFAULT (the same)", "errno %s", errname(errno));
	seg = zc_seg_mem(m + 3 * PAGE, 10);
	iov = (struct iovec){ m + 3 * PAGE, 10 };
	errno = 0;
	report(zc_sendv(sv[0], &seg, 1, 0, NULL) == -1 && errno == EFAULT,
	       "zc_sendv memory segment unmapped: EFAULT", "errno %s", errname(errno));
	errno = 0;
	report(writev(sv[0], &iov, 1) == -1 && errno == EFAULT,
	       "writev(2) buffer unmapped: EFAULT (the same)", "errno %s", errname(errno));
	report(recv(sv[1], &three, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN,
	       "bad pointers: nothing reached the socket", "errno %s", errname(errno));
	close(sv[0]);
	close(sv[1]);
	munmap(m, 3 * PAGE);
}

/*
 * Sockets of the families no other test sends to. Each case makes two
 * identical sockets (one per method: a socket's state may change on
 * error); sendfile(2)'s answer and what reached the peer are the
 * reference, and the row also pins the result itself, so a kernel that
 * changes it is noticed. @peer < 0: nothing to read back.
 */
typedef int (*family_fn)(int *peer);

struct fam_outcome {
	ssize_t ret;
	int err;
	int records;
	size_t got;
	long bad;
};

static void fam_run(const struct method *m, const char *file, family_fn mk, struct fam_outcome *o)
{
	static unsigned char buf[4096];
	off_t off = 0;
	int peer = -1, in = open(file, O_RDONLY | O_CLOEXEC), out = mk(&peer);

	memset(o, 0, sizeof(*o));
	o->bad = -1;
	if (out < 0) {
		o->ret = -2; /* the socket could not be made */
		o->err = -out;
		close(in);
		return;
	}
	errno = 0;
	o->ret = m->fn(out, in, &off, 100, NULL);
	o->err = o->ret < 0 ? errno : 0;
	for (;;) {
		ssize_t n = peer < 0 ? -1 : recv(peer, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		if (o->bad < 0 && check_pattern(buf, n, 5, o->got) >= 0)
			o->bad = o->got + check_pattern(buf, n, 5, o->got);
		o->got += n;
		o->records++;
	}
	close(in);
	close(out);
	if (peer >= 0)
		close(peer);
}

static void fam_case(const char *name, const char *file, family_fn mk, ssize_t want_ret,
		     int want_err)
{
	struct fam_outcome z, f;

	fam_run(&m_zcopy, file, mk, &z);
	fam_run(&m_sendfile, file, mk, &f);
	if (z.ret == -2) {
		/* Not built into this kernel, or refused to root: nothing to compare. */
		note("%s: socket() failed (%s), not run", name, errname(z.err));
		return;
	}
	if (z.ret != f.ret || z.err != f.err || z.got != f.got || z.records != f.records)
		report(0, name,
		       "zc_sendfile %zd %s, peer got %zu in %d; sendfile(2) %zd %s, peer got %zu "
		       "in %d",
		       z.ret, errname(z.err), z.got, z.records, f.ret, errname(f.err), f.got,
		       f.records);
	else if (z.ret != want_ret || z.err != want_err || z.bad >= 0)
		report(0, name, "both: %zd %s, peer got %zu in %d records (bad byte at %ld)", z.ret,
		       errname(z.err), z.got, z.records, z.bad);
	else
		report(1, name, NULL);
}

static int mk_socket(int family, int type, int proto)
{
	int s = socket(family, type | SOCK_CLOEXEC, proto);

	return s < 0 ? -errno : s;
}

static int mk_packet_raw(int *peer)
{
	(void)peer;
	return mk_socket(AF_PACKET, SOCK_RAW, 0);
}

static int mk_packet_dgram(int *peer)
{
	(void)peer;
	return mk_socket(AF_PACKET, SOCK_DGRAM, 0);
}

/* Bound to lo with no protocol: it sends frames and receives none. */
static int mk_packet_lo(int *peer)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET,
				 .sll_ifindex = (int)if_nametoindex("lo") };
	int s = mk_socket(AF_PACKET, SOCK_RAW, 0);

	(void)peer;
	if (s >= 0 && bind(s, (void *)&a, sizeof(a)))
		die("bind AF_PACKET");
	return s;
}

/* NETLINK_USERSOCK: no kernel handler that could act on the bytes. */
static int mk_netlink(int *peer)
{
	(void)peer;
	return mk_socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
}

/* Two NETLINK_USERSOCK sockets, one connected to the other. */
static int mk_netlink_pair(int *peer)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(a);
	int s = mk_socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
	int r = mk_socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);

	if (s < 0 || r < 0 || bind(r, (void *)&a, sizeof(a)) || getsockname(r, (void *)&a, &len) ||
	    connect(s, (void *)&a, sizeof(a)))
		die("netlink pair");
	*peer = r;
	return s;
}

static int mk_vsock(int *peer)
{
	(void)peer;
	return mk_socket(AF_VSOCK, SOCK_STREAM, 0);
}

static int mk_unix_pair(int *peer, int type)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	*peer = sv[1];
	return sv[0];
}

static int mk_seqpacket(int *peer)
{
	return mk_unix_pair(peer, SOCK_SEQPACKET);
}

static int mk_unix_dgram(int *peer)
{
	return mk_unix_pair(peer, SOCK_DGRAM);
}

static int mk_seqpacket_unconnected(int *peer)
{
	(void)peer;
	return mk_socket(AF_UNIX, SOCK_SEQPACKET, 0);
}

static int mk_raw_ip(int *peer)
{
	(void)peer;
	return mk_socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
}

static void test_bad_families(const char *file)
{
	fam_case("out AF_PACKET raw, unbound: ENXIO", file, mk_packet_raw, -1, ENXIO);
	fam_case("out AF_PACKET dgram, unbound: ENXIO", file, mk_packet_dgram, -1, ENXIO);
	fam_case("out AF_PACKET raw bound to lo: a 100-byte frame: 100 bytes", file, mk_packet_lo,
		 100, 0);
	fam_case("out AF_NETLINK to the kernel: ECONNREFUSED", file, mk_netlink, -1, ECONNREFUSED);
	fam_case("out AF_NETLINK connected to a socket: 100 bytes", file, mk_netlink_pair, 100, 0);
	fam_case("out AF_VSOCK stream not connected: ENOTCONN", file, mk_vsock, -1, ENOTCONN);
	fam_case("out AF_UNIX seqpacket: 100 bytes", file, mk_seqpacket, 100, 0);
	fam_case("out AF_UNIX seqpacket not connected: ENOTCONN", file, mk_seqpacket_unconnected,
		 -1, ENOTCONN);
	fam_case("out AF_UNIX datagram pair: 100 bytes", file, mk_unix_dgram, 100, 0);
	fam_case("out AF_INET raw not connected: EDESTADDRREQ", file, mk_raw_ip, -1, EDESTADDRREQ);
}

#define ROW(...)                                                                                   \
	do {                                                                                       \
		struct bad r_ = { __VA_ARGS__ };                                                   \
		check_bad(&r_);                                                                    \
	} while (0)

void test_bad_inputs(const char *file)
{
	const char *ext4 = getenv("ZC_EXT4_DIR");
	char wpath[300];
	int sv[2], pfd[2], closed;

	snprintf(wpath, sizeof(wpath), "%s/bad-out", dir);
	/*
	 * A descriptor that was open and is closed: above the numbers the
	 * rows below allocate, so none of them can reuse it.
	 */
	closed = fcntl(0, F_DUPFD_CLOEXEC, 500);
	close(closed);

	unix_pair(sv);
	ROW(.name = "in fd closed: EBADF", .out = sv[0], .in = closed, .count = 10, .want = EBADF,
	    .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "in fd -1: EBADF", .out = sv[0], .in = -1, .count = 10, .want = EBADF,
	    .extra = sv[1]);
	ROW(.name = "out fd closed: EBADF", .out = closed, .in = open(file, O_RDONLY), .count = 10,
	    .want = EBADF);
	ROW(.name = "out fd 1000000: EBADF", .out = 1000000, .in = open(file, O_RDONLY),
	    .count = 10, .want = EBADF);
	unix_pair(sv);
	ROW(.name = "in write-only: EBADF", .out = sv[0], .in = open(file, O_WRONLY), .count = 10,
	    .want = EBADF, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "in O_PATH: EBADF", .out = sv[0], .in = open(file, O_PATH), .count = 10,
	    .want = EBADF, .extra = sv[1]);
	ROW(.name = "out read-only file: EBADF", .out = open(file, O_RDONLY),
	    .in = open(file, O_RDONLY), .count = 10, .want = EBADF);
	ROW(.name = "out regular file: ENOTSOCK (sendfile writes it)",
	    .out = open(wpath, O_WRONLY | O_CREAT | O_TRUNC, 0644), .in = open(file, O_RDONLY),
	    .count = 10, .want = ENOTSOCK, .vs = SENDFILE_SUCCEEDS);
	if (pipe(pfd))
		die("pipe");
	ROW(.name = "out pipe: ENOTSOCK (sendfile writes it)", .out = pfd[1],
	    .in = open(file, O_RDONLY), .count = 10, .want = ENOTSOCK, .vs = SENDFILE_SUCCEEDS,
	    .extra = pfd[0]);
	ROW(.name = "out /dev/null: ENOTSOCK (sendfile writes it)",
	    .out = open("/dev/null", O_WRONLY), .in = open(file, O_RDONLY), .count = 10,
	    .want = ENOTSOCK, .vs = SENDFILE_SUCCEEDS);
	unix_pair(sv);
	ROW(.name = "negative offset: EINVAL", .out = sv[0], .in = open(file, O_RDONLY),
	    .use_offset = 1, .off = -1, .count = 10, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "offset+count overflows: EINVAL", .out = sv[0], .in = open(file, O_RDONLY),
	    .use_offset = 1, .off = LLONG_MAX - 5, .count = 100, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "offset LLONG_MIN: EINVAL", .out = sv[0], .in = open(file, O_RDONLY),
	    .use_offset = 1, .off = LLONG_MIN, .count = 1, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "count SIZE_MAX: EINVAL", .out = sv[0], .in = open(file, O_RDONLY),
	    .count = SIZE_MAX, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "count SSIZE_MAX+1: EINVAL", .out = sv[0], .in = open(file, O_RDONLY),
	    .count = (size_t)SSIZE_MAX + 1, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "in directory: EINVAL", .out = sv[0], .in = open(dir, O_RDONLY | O_DIRECTORY),
	    .count = 10, .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	if (pipe(pfd))
		die("pipe");
	close(pfd[1]);
	ROW(.name = "in pipe: EINVAL", .out = sv[0], .in = pfd[0], .count = 10, .want = EINVAL,
	    .extra = sv[1]);
	unix_pair(sv);
	if (pipe(pfd))
		die("pipe");
	close(pfd[1]);
	ROW(.name = "in pipe with offset: ESPIPE", .out = sv[0], .in = pfd[0], .use_offset = 1,
	    .count = 10, .want = ESPIPE, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "in eventfd: EINVAL", .out = sv[0], .in = eventfd(1, 0), .count = 8,
	    .want = EINVAL, .extra = sv[1]);
	unix_pair(sv);
	ROW(.name = "in epoll fd: EINVAL", .out = sv[0], .in = epoll_create1(0), .count = 8,
	    .want = EINVAL, .extra = sv[1]);
	{
		int s[2], o[2];

		unix_pair(s);
		unix_pair(o);
		ROW(.name = "in AF_UNIX socket: EINVAL", .out = o[0], .in = s[0], .count = 8,
		    .want = EINVAL, .extra = s[1]);
		close(o[1]);
	}
	unix_pair(sv);
	fcntl(sv[0], F_SETFL, O_APPEND);
	ROW(.name = "out O_APPEND: EINVAL", .out = sv[0], .in = open(file, O_RDONLY), .count = 10,
	    .want = EINVAL, .extra = sv[1]);
	ROW(.name = "out TCP not connected: EPIPE", .out = tcp_socket(SOCK_STREAM),
	    .in = open(file, O_RDONLY), .count = 10, .want = EPIPE);
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int l = tcp_socket(SOCK_STREAM);

		if (bind(l, (void *)&a, sizeof(a)) || listen(l, 1))
			die("listen");
		ROW(.name = "out TCP listening: EPIPE", .out = l, .in = open(file, O_RDONLY),
		    .count = 10, .want = EPIPE);
	}
	/* A reset is reported once: each method gets a reset socket of its own. */
	ROW(.name = "out TCP reset by peer: ECONNRESET", .out = reset_socket(),
	    .out2 = reset_socket(), .in = open(file, O_RDONLY), .count = 10, .want = ECONNRESET);
	unix_pair(sv);
	shutdown(sv[0], SHUT_WR);
	ROW(.name = "out shut down for writing: EPIPE", .out = sv[0], .in = open(file, O_RDONLY),
	    .count = 10, .want = EPIPE, .extra = sv[1]);
	ROW(.name = "out AF_UNIX stream not connected: ENOTCONN",
	    .out = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), .in = open(file, O_RDONLY),
	    .count = 10, .want = ENOTCONN);
	ROW(.name = "out AF_UNIX datagram not connected: ENOTCONN",
	    .out = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), .in = open(file, O_RDONLY),
	    .count = 10, .want = ENOTCONN);
	{
		int s[2];

		unix_pair(s);
		unix_pair(sv);
		ROW(.name = "in AF_UNIX socket with offset: ESPIPE", .out = sv[0], .in = s[0],
		    .use_offset = 1, .count = 8, .want = ESPIPE, .extra = s[1]);
		close(sv[1]);
	}
	ROW(.name = "out UDP not connected: EDESTADDRREQ", .out = tcp_socket(SOCK_DGRAM),
	    .in = open(file, O_RDONLY), .count = 10, .want = EDESTADDRREQ);
	if (ext4) {
		char *f = make_file_in(ext4, "bad-ext4", 100, 9);

		/* ext4's largest offset is far below 2^63: EOVERFLOW. */
		unix_pair(sv);
		ROW(.name = "offset past the file system's limit: EOVERFLOW", .out = sv[0],
		    .in = open(f, O_RDONLY), .use_offset = 1, .off = 1LL << 60, .count = 10,
		    .want = EOVERFLOW, .extra = sv[1]);
		unlink(f);
	} else {
		report(0, "offset past the file system's limit: EOVERFLOW", "ZC_EXT4_DIR not set");
	}
	unlink(wpath);
	test_bad_pointers(file);
	test_bad_families(file);
}

/* The ABI checks only the ioctl itself can reach. */
/* ---- a struct that cannot be written back ------------------------------ */

/*
 * The module writes its outputs into the caller's struct twice: before
 * sending (a struct that cannot be written fails EFAULT with nothing
 * sent) and after. The second write can fail where the first did not:
 * another thread made the page read-only meanwhile, or forked, so that
 * the write needs a copy of the page and memory for it is short (seen
 * under the fault injectors in the stress run). The bytes have gone by
 * then, and the ioctl's return value says how many; the library must
 * return that, never the struct's @sent, which still reads 0: a caller
 * told 0 sends the bytes again.
 *
 * Shown here with the first cause. A thread sends 4 MiB over a small
 * TCP window from a stack this test mapped; once it is blocked in the
 * kernel, this thread makes every page of that stack below a mark
 * read-only: the library's frames, its struct among them. Then it reads
 * everything. The module's second write fails; the sender, back in user
 * space, faults on its first write to the stack, and its SIGSEGV handler
 * (on a stack of its own) makes the pages writable again and returns.
 */
#define WB_SIZE (4 * MiB)
/* Room for the thread's static TLS too (t_unload.c's is 1 MiB). */
#define WB_STACK (4 * MiB)

static struct {
	unsigned char *stack; /* the sender's stack, mapped here */
	uintptr_t lo, hi;     /* the part made read-only */
	int sock, fd;
	off_t off;
	ssize_t r;
	int err;
	volatile pid_t tid;
	volatile sig_atomic_t segv;
} wb;

static void wb_on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	/* Anything else is a real crash: let it be one. */
	if ((uintptr_t)si->si_addr < wb.lo || (uintptr_t)si->si_addr >= wb.hi)
		signal(SIGSEGV, SIG_DFL);
	else if (!mprotect((void *)wb.lo, wb.hi - wb.lo, PROT_READ | PROT_WRITE))
		wb.segv++;
}

/*
 * The send, below an 8 KiB gap: alloca() takes it from the bottom of
 * this frame, so the library's frames lie under it, and the pages made
 * read-only (up to one page into the gap) hold none of this frame's own.
 */
static __attribute__((noinline)) void wb_send(void)
{
	volatile char *gap = alloca(8192);

	gap[0] = 0;
	wb.hi = ((uintptr_t)gap + 4096) & ~(uintptr_t)4095;
	wb.tid = (pid_t)syscall(SYS_gettid);
	wb.r = zc_sendfile(wb.sock, wb.fd, &wb.off, WB_SIZE);
	wb.err = errno;
	/* Faults if the pages were still read-only when the call came back. */
	gap[0] = 1;
}

static void *wb_thread(void *arg)
{
	static unsigned char alt[64 * 1024];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) };

	(void)arg;
	if (sigaltstack(&ss, NULL))
		die("sigaltstack");
	wb_send();
	return NULL;
}

/* The kernel's state letter for a thread of this process. */
static char task_state(pid_t tid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void test_writeback_fails(void)
{
	struct sigaction sa = { .sa_sigaction = wb_on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	struct sigaction old;
	unsigned char *buf = malloc(WB_SIZE);
	char *path = make_file("writeback", WB_SIZE, 91);
	pthread_attr_t attr;
	pthread_t th;
	size_t got = 0;
	int sv[2], i, blocked = 0;

	memset(&wb, 0, sizeof(wb));
	wb.stack = mmap(NULL, WB_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!buf || wb.stack == MAP_FAILED)
		die("writeback: memory");
	wb.lo = (uintptr_t)wb.stack;
	tcp_lo_pair(sv, 65536);
	i = 65536;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &i, sizeof(i));
	wb.sock = sv[0];
	wb.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (wb.fd < 0)
		die("writeback: open");
	sigaction(SIGSEGV, &sa, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, wb.stack, WB_STACK);
	i = pthread_create(&th, &attr, wb_thread, NULL);
	if (i) {
		errno = i;
		die("writeback: thread");
	}

	/* Blocked in the send: bytes arrived, and the thread sleeps. */
	if (poll(&(struct pollfd){ .fd = sv[1], .events = POLLIN }, 1, 10000) == 1)
		for (i = 0; i < 1000 && !blocked; i++) {
			blocked = wb.tid && task_state(wb.tid) == 'S';
			if (!blocked)
				usleep(10000);
		}
	report(blocked, "write-back: the sender is blocked in the send, its struct written once",
	       "no data, or the thread never slept");
	if (mprotect((void *)wb.lo, wb.hi - wb.lo, PROT_READ))
		die("writeback: mprotect");

	while (got < WB_SIZE) {
		ssize_t n = read(sv[1], buf + got, WB_SIZE - got);

		if (n <= 0)
			break;
		got += n;
	}
	pthread_join(th, NULL);
	pthread_attr_destroy(&attr);
	sigaction(SIGSEGV, &old, NULL);
	report(wb.segv > 0, "write-back: the sender's stack was read-only when the call returned",
	       "no fault taken: the test proves nothing");
	report(wb.r == (ssize_t)WB_SIZE && wb.off == (off_t)WB_SIZE,
	       "write-back fails after the send: the library returns the bytes sent, the offset "
	       "moves by them",
	       "returned %zd (%s), offset %lld, %zu bytes received", wb.r, errname(wb.err),
	       (long long)wb.off, got);
	report(got == WB_SIZE && check_pattern(buf, got, 91, 0) < 0,
	       "write-back: the receiver has the file, once", "%zu bytes, first bad byte at %ld",
	       got, check_pattern(buf, got, 91, 0));
	close(wb.fd);
	close(sv[0]);
	close(sv[1]);
	munmap(wb.stack, WB_STACK);
	unlink(path);
	free(buf);
}

void test_abi(const char *file)
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
		       errname(errno));                                                            \
	} while (0)

	a = BASE();
	a.flags |= 1U << 31;
	EXPECT("ioctl unknown flag: EINVAL", ioctl(dev, ZCOPY_IOC_SENDFILE, &a), EINVAL);
	a = BASE();
	a.cookie = 1;
	EXPECT("ioctl cookie without ZCOPY_SEND_NOTIFY: EINVAL", ioctl(dev, ZCOPY_IOC_SENDFILE, &a),
	       EINVAL);
	a = BASE();
	a.pad = 1;
	EXPECT("ioctl pad set: EINVAL", ioctl(dev, ZCOPY_IOC_SENDFILE, &a), EINVAL);
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
	big.a.sent = 77; /* outputs on input are ignored */
	big.a.zc_bytes = 77;
	big.tail[0] = big.tail[1] = 0;
	r = ioctl(dev, ZCOPY_IOC_SENDFILE, &big);
	report(r == 10 && big.a.sent == 10 && big.a.offset == 15 &&
		       big.a.zc_bytes + big.a.copied_bytes == 10,
	       "ioctl newer struct with zero tail: accepted, outputs set",
	       "returned %ld sent %llu offset %lld zc %llu copied %llu (%s)", r,
	       (unsigned long long)big.a.sent, (long long)big.a.offset,
	       (unsigned long long)big.a.zc_bytes, (unsigned long long)big.a.copied_bytes,
	       errname(errno));
	{
		unsigned char got[10];

		report(read(sv[1], got, 10) == 10 && check_pattern(got, 10, 5, 5) < 0,
		       "ioctl newer struct: the right 10 bytes arrived", "bytes differ");
	}
	close(fd);
	close(sv[0]);
	close(sv[1]);
#undef BASE
#undef EXPECT
	test_writeback_fails();
}
