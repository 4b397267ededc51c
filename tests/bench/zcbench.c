/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcbench - every way Linux moves a file to a socket, side by side.
 *
 * Runs in the QEMU guest (tests/bench/guest.sh). For each link (loopback
 * TCP; TCP over veth into a second network namespace) and each file size,
 * it sends the same file (on tmpfs, or whatever --dir is on: make bench
 * runs it again on ext4) with every method of the method table below to
 * a receiver process, interleaving the methods (A B C .. A B C ..,
 * rotating which one goes first), and reports per method: throughput,
 * sender CPU time per GiB, syscalls per GiB and the ratio to sendfile(2)
 * measured in the same round.
 *
 *   zcbench run OUTDIR [--sizes 4K,64K,..] [--reps N] [--target SIZE]
 *                      [--links lo,veth] [--methods ID,..] [--dir DIR]
 *                      [--no-pin]
 *       the benchmark; writes OUTDIR/table.txt, results.json, and two
 *       gnuplot data files per link (OUTDIR/LINK.dat: throughput;
 *       OUTDIR/LINK-ratio.dat: ratio to sendfile). The files are made
 *       in --dir (default /tmp); the tables and the JSON name its file
 *       system type (from /proc/self/mounts)
 *   zcbench profile METHOD [--sizes ..] [--reps N] [--target SIZE]
 *                          [--links ..] [--dir DIR] [--no-pin]
 *       METHOD alone, --reps samples per size and link (default: 4 KiB
 *       over lo, 3 samples), for a profiler to watch (make bench with
 *       ZC_BENCH_PERF runs it under perf record in the guest)
 *   zcbench smoke [--corrupt] [--dir DIR]
 *       the check of `make check`: every method, two odd sizes, both
 *       links; passes only if every received checksum equals the file's.
 *       --corrupt makes the receiver flip one bit: the smoke must fail.
 *
 * What makes the numbers fair:
 *  - every method sends exactly the same bytes (the whole file, from
 *    offset 0, as many times as the size's sample asks), the receiver
 *    counts them in every sample, and once per (link, size, method) it
 *    reads them and compares a checksum with the file's;
 *  - in timed samples the receiver does not copy: it splices from the
 *    socket into a pipe and from the pipe into /dev/null, so the sender
 *    is what is measured;
 *  - sender CPU is getrusage(RUSAGE_SELF) of the sending process, which
 *    holds no other thread of ours (the receiver is a separate process):
 *    RUSAGE_THREAD would miss io_uring's io-wq workers, which do
 *    IORING_OP_SPLICE's work. On loopback the sender's CPU time also
 *    holds the receive-side TCP softirq work its transmits trigger; that
 *    is true of every method alike;
 *  - syscalls are counted by the harness around each call it makes
 *    (io_uring_enter() included, counted only when liburing enters);
 *  - the guest runs under TCG software emulation: absolute numbers say
 *    little about real hardware, ratios within one run say a lot.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zcopy.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
/* liburing 2.3's header predates these; the kernels have them. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

#define MAX_METHODS 16
#define MAX_SIZES   12
#define MAX_REPS    15

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "zcbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ULL + (uint64_t)tv.tv_usec * 1000ULL;
}

/* ---- checksum: position-dependent, so a reordered byte fails it too ---- */

/*
 * Fletcher-style over little-endian 64-bit words, streamed: @carry holds
 * the bytes of an incomplete word between calls, so the result does not
 * depend on how reads split the stream.
 */
struct csum {
	uint64_t a, b;
	unsigned char carry[8];
	unsigned n;
};

static void csum_word(struct csum *c, uint64_t w)
{
	c->a += w;
	c->b += c->a;
}

static void csum_add(struct csum *c, const unsigned char *p, size_t len)
{
	while (len && c->n) {
		c->carry[c->n++] = *p++;
		len--;
		if (c->n == 8) {
			uint64_t w;

			memcpy(&w, c->carry, 8);
			csum_word(c, w);
			c->n = 0;
		}
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		csum_word(c, w);
	}
	while (len--)
		c->carry[c->n++] = *p++;
}

static uint64_t csum_end(struct csum *c)
{
	uint64_t w = 0;

	if (c->n) {
		memcpy(&w, c->carry, c->n);
		csum_word(c, w ^ ((uint64_t)c->n << 56));
	}
	return c->a ^ (c->b * 0x9e3779b97f4a7c15ULL);
}

/* ---- links and the receiver process ------------------------------------ */

struct link {
	const char *name;  /* "lo", "veth" */
	const char *label; /* for the table */
	const char *addr;  /* IPv4 address the receiver listens on */
	const char *netns; /* namespace file of the receiver, or NULL */
	int ctl;	   /* socketpair to the receiver process */
	int port;
	pid_t pid;
};

struct rcmd {
	uint64_t expect; /* bytes the sender will send */
	uint32_t verify; /* read and checksum them (else splice to /dev/null) */
	uint32_t corrupt;
};

struct rrep {
	uint64_t got;
	uint64_t sum;
	int32_t err;
	uint32_t pad;
};

static int corrupt_rx;

/*
 * CPU placement: the sender on CPU 0, the receivers on CPU 1, as netperf
 * -T does, when the machine has two CPUs or more (--no-pin: leave it to
 * the scheduler). Left alone, the scheduler sometimes runs both on one
 * CPU for a whole sample (wake-affine), and a method's samples then fall
 * into two clusters far apart; which cluster a sample lands in says
 * nothing about the method. Pinned, every method runs in the same
 * placement: the receive-side TCP work of loopback and veth runs on the
 * sender's CPU, in softirq, and the receiving process on the other.
 */
static int pin_cpus = 1;

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (!pin_cpus || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fatal("sched_setaffinity(CPU %d)", cpu);
}

/* Read the connection into a buffer and checksum it. */
static int rx_verify(int c, struct rrep *rep, int corrupt)
{
	static unsigned char buf[256 * 1024];
	struct csum cs = { 0 };
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (corrupt && rep->got == 0)
			buf[0] ^= 1;
		csum_add(&cs, buf, (size_t)n);
		rep->got += (uint64_t)n;
	}
	rep->sum = csum_end(&cs);
	return n < 0 ? -errno : 0;
}

/*
 * Drain the connection without copying: socket -> pipe -> /dev/null.
 * The pipe's pages are the skb's pages; /dev/null drops them.
 */
static int rx_drain(int c, struct rrep *rep, int devnull, int p[2])
{
	for (;;) {
		ssize_t n = splice(c, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE);

		if (n == 0)
			return 0;
		if (n < 0)
			return -errno;
		rep->got += (uint64_t)n;
		while (n > 0) {
			ssize_t m = splice(p[0], NULL, devnull, NULL, (size_t)n, SPLICE_F_MOVE);

			if (m <= 0)
				return m < 0 ? -errno : -EIO;
			n -= m;
		}
	}
}

static void receiver_main(struct link *l, int ctl)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int lfd, devnull, p[2];
	struct rcmd cmd;

	pin_to(1);
	if (l->netns) {
		int ns = open(l->netns, O_RDONLY | O_CLOEXEC);

		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
			fatal("enter %s", l->netns);
		close(ns);
	}
	inet_pton(AF_INET, l->addr, &sa.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (void *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0)
		fatal("listen on %s", l->addr);
	getsockname(lfd, (void *)&sa, &len);
	l->port = ntohs(sa.sin_port);
	if (write(ctl, &l->port, sizeof(l->port)) != sizeof(l->port))
		fatal("ctl");
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(p, O_CLOEXEC) < 0)
		fatal("receiver setup");
	/* A large pipe: fewer trips for the receiver, which is not measured. */
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);

	while (read(ctl, &cmd, sizeof(cmd)) == sizeof(cmd)) {
		struct rrep rep = { 0 };
		int c = accept(lfd, NULL, NULL);

		if (c < 0) {
			rep.err = -errno;
		} else {
			rep.err = cmd.verify ? rx_verify(c, &rep, cmd.corrupt)
					     : rx_drain(c, &rep, devnull, p);
			close(c);
		}
		if (write(ctl, &rep, sizeof(rep)) != sizeof(rep))
			break;
	}
	exit(0);
}

/* The sender's ends of the receivers' control sockets, for the children. */
static int ctl_fds[4];
static int n_ctl_fds;

static void link_start(struct link *l)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("socketpair");
	l->pid = fork();
	if (l->pid < 0)
		fatal("fork");
	if (l->pid == 0) {
		/* Hold no other receiver's control socket open: each must
		 * see EOF when the sender closes its end. */
		for (int i = 0; i < n_ctl_fds; i++)
			close(ctl_fds[i]);
		close(sv[0]);
		receiver_main(l, sv[1]);
	}
	close(sv[1]);
	l->ctl = sv[0];
	ctl_fds[n_ctl_fds++] = l->ctl;
	if (read(l->ctl, &l->port, sizeof(l->port)) != sizeof(l->port))
		fatal("receiver for %s did not start", l->name);
}

static void link_stop(struct link *l)
{
	close(l->ctl);
	waitpid(l->pid, NULL, 0);
	for (int i = 0; i < n_ctl_fds; i++)
		if (ctl_fds[i] == l->ctl)
			ctl_fds[i] = ctl_fds[--n_ctl_fds];
}

static int link_connect(struct link *l)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(l->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, l->addr, &sa.sin_addr);
	if (fd < 0 || connect(fd, (void *)&sa, sizeof(sa)) < 0)
		fatal("connect to %s", l->name);
	return fd;
}

/* ---- the methods -------------------------------------------------------- */

/*
 * One connection's worth of state. A method's send() sends the whole
 * file once, from offset 0, and counts every syscall it makes.
 */
struct xfer {
	int fd; /* the file, O_RDONLY */
	size_t size;
	int sock;
	int more; /* more copies of the file follow on this connection */
	uint64_t syscalls;
	uint64_t zc_bytes, copied_bytes; /* zcopy's own accounting */
	uint64_t notif, notif_copied;	 /* MSG_ZEROCOPY / SEND_ZC completions */
	int pipe[2];
	size_t pipe_size;
	unsigned char *map; /* MSG_ZEROCOPY, SEND_ZC: the file, mapped once */
	uint64_t zc_calls;  /* MSG_ZEROCOPY sends; SEND_ZC notifications due */
};

/* Count one syscall and return its value. */
#define SYS(x, call) ((x)->syscalls++, (call))

static unsigned char rw_buf[128 * 1024] __attribute__((aligned(4096)));

static int write_all(struct xfer *x, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = SYS(x, write(x->sock, p, len));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int rw_send(struct xfer *x, size_t bs)
{
	for (off_t off = 0; (size_t)off < x->size;) {
		ssize_t n = SYS(x, pread(x->fd, rw_buf, bs, off));

		if (n <= 0 || write_all(x, rw_buf, (size_t)n))
			return -1;
		off += n;
	}
	return 0;
}

static int rw4k_send(struct xfer *x)
{
	return rw_send(x, 4096);
}

static int rw128k_send(struct xfer *x)
{
	return rw_send(x, sizeof(rw_buf));
}

static void *map_file(struct xfer *x)
{
	void *p = SYS(x, mmap(NULL, x->size, PROT_READ, MAP_SHARED, x->fd, 0));

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The zero-copy sends from user memory map the file once per connection,
 * as a server keeping its hot files mapped would, and collect completions
 * as they come; only after the last copy do they wait for every one, as
 * they must before munmap(). Waiting after each copy would put one round
 * trip of the peer's (delayed) ACK into every file.
 */
static unsigned char *map_once(struct xfer *x)
{
	if (!x->map)
		x->map = map_file(x);
	return x->map;
}

static void unmap_last(struct xfer *x)
{
	if (x->more || !x->map)
		return;
	SYS(x, munmap(x->map, x->size));
	x->map = NULL;
}

static int mmap_send(struct xfer *x)
{
	unsigned char *p = map_file(x);
	int ret;

	if (!p)
		return -1;
	ret = write_all(x, p, x->size);
	SYS(x, munmap(p, x->size));
	return ret;
}

static int sendfile_send(struct xfer *x)
{
	off_t off = 0;

	while ((size_t)off < x->size) {
		ssize_t n = SYS(x, sendfile(x->sock, x->fd, &off, x->size - (size_t)off));

		if (n <= 0)
			return -1;
	}
	return 0;
}

static int pipe_prepare(struct xfer *x, size_t size)
{
	if (pipe2(x->pipe, O_CLOEXEC) < 0)
		return -1;
	if (size && fcntl(x->pipe[1], F_SETPIPE_SZ, (int)size) < 0)
		return -1;
	x->pipe_size = (size_t)fcntl(x->pipe[1], F_GETPIPE_SZ);
	return 0;
}

static int pipe64k_prepare(struct xfer *x)
{
	return pipe_prepare(x, 0); /* the default: 16 slots, 64 KiB */
}

static int pipe1m_prepare(struct xfer *x)
{
	return pipe_prepare(x, 1 << 20);
}

static void pipe_finish(struct xfer *x)
{
	close(x->pipe[0]);
	close(x->pipe[1]);
}

/* What sendfile(2) does inside, from userspace: file -> pipe -> socket. */
static int splice_send(struct xfer *x)
{
	off_t off = 0;

	while ((size_t)off < x->size) {
		size_t want = x->size - (size_t)off;
		ssize_t n =
			SYS(x, splice(x->fd, &off, x->pipe[1], NULL,
				      want < x->pipe_size ? want : x->pipe_size, SPLICE_F_MOVE));

		if (n <= 0)
			return -1;
		while (n > 0) {
			int more = (size_t)off < x->size || x->more ? SPLICE_F_MORE : 0;
			ssize_t m = SYS(x, splice(x->pipe[0], NULL, x->sock, NULL, (size_t)n,
						  SPLICE_F_MOVE | more));

			if (m <= 0)
				return -1;
			n -= m;
		}
	}
	return 0;
}

/* ---- MSG_ZEROCOPY: send from an mmap of the file, completions on the error queue */

#define MSGZC_CHUNK (256 * 1024)

static int msgzc_prepare(struct xfer *x)
{
	int one = 1;

	return setsockopt(x->sock, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one));
}

/*
 * Read the error queue: each notification covers the send calls with
 * ids [ee_info, ee_data]. SO_EE_CODE_ZEROCOPY_COPIED says the kernel
 * copied them after all (as loopback does, on delivery to the receiver).
 */
static int msgzc_reap(struct xfer *x, int wait)
{
	char control[128];
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };

	if (wait) {
		struct pollfd pfd = { .fd = x->sock, .events = 0 };

		if (SYS(x, poll(&pfd, 1, 10000)) != 1)
			return -1;
	}
	if (SYS(x, recvmsg(x->sock, &msg, MSG_ERRQUEUE | MSG_DONTWAIT)) < 0)
		return errno == EAGAIN ? 0 : -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		struct sock_extended_err *ee = (void *)CMSG_DATA(cm);

		if (cm->cmsg_level != SOL_IP || cm->cmsg_type != IP_RECVERR ||
		    ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee->ee_errno)
			continue;
		x->notif += ee->ee_data - ee->ee_info + 1;
		if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
			x->notif_copied += ee->ee_data - ee->ee_info + 1;
	}
	return 0;
}

static int msgzc_send(struct xfer *x)
{
	unsigned char *p = map_once(x);
	size_t off = 0;
	int ret = 0;

	if (!p)
		return -1;
	while (off < x->size && !ret) {
		size_t len = x->size - off < MSGZC_CHUNK ? x->size - off : MSGZC_CHUNK;
		int more = off + len < x->size || x->more ? MSG_MORE : 0;
		ssize_t n = SYS(x, send(x->sock, p + off, len, MSG_ZEROCOPY | more));

		if (n < 0 && errno == ENOBUFS) {
			/* Too many notifications pending (optmem): collect some. */
			ret = msgzc_reap(x, 1);
			continue;
		}
		if (n <= 0) {
			ret = -1;
			break;
		}
		off += (size_t)n;
		x->zc_calls++;
		/* Collect completions now and then rather than after each send. */
		if (x->zc_calls - x->notif > 64)
			ret = msgzc_reap(x, 0);
	}
	/* The pages may be unmapped once every send is completed. */
	while (!ret && !x->more && x->notif < x->zc_calls)
		ret = msgzc_reap(x, 1);
	unmap_last(x);
	return ret;
}

/* ---- io_uring -------------------------------------------------------- */

static struct io_uring ring;
static int ring_ok = -1; /* -1: not tried yet */
static char ring_why[96];
static unsigned sendzc_flags = IORING_SEND_ZC_REPORT_USAGE;

static int ring_get(void)
{
	if (ring_ok < 0) {
		int err = io_uring_queue_init(64, &ring, 0);

		ring_ok = err == 0;
		if (err)
			snprintf(ring_why, sizeof(ring_why), "io_uring_queue_init: %s",
				 strerror(-err));
	}
	return ring_ok;
}

static const char *uring_op_missing(int op, const char *name)
{
	static char why[96];
	struct io_uring_probe *probe;
	int ok;

	if (!ring_get())
		return ring_why;
	probe = io_uring_get_probe_ring(&ring);
	ok = probe && io_uring_opcode_supported(probe, op);
	io_uring_free_probe(probe);
	if (ok)
		return NULL;
	snprintf(why, sizeof(why), "kernel has no %s", name);
	return why;
}

static const char *uring_splice_missing(void)
{
	return uring_op_missing(IORING_OP_SPLICE, "IORING_OP_SPLICE");
}

static const char *uring_sendzc_missing(void)
{
	return uring_op_missing(IORING_OP_SEND_ZC, "IORING_OP_SEND_ZC");
}

static int uring_submit(struct xfer *x, unsigned wait)
{
	x->syscalls++;
	return io_uring_submit_and_wait(&ring, wait);
}

static int uring_cqe(struct xfer *x, struct io_uring_cqe **cqe)
{
	if (io_uring_peek_cqe(&ring, cqe) == 0)
		return 0;
	x->syscalls++;
	return io_uring_wait_cqe(&ring, cqe);
}

#define URING_PAIRS 8

/*
 * IORING_OP_SPLICE: up to 8 (file -> pipe, pipe -> socket) pairs per
 * submission, all linked so they run in order. A short splice cancels
 * the rest of the chain; what is left in the pipe is then sent alone.
 */
static int uring_splice_send(struct xfer *x)
{
	size_t off = 0;

	while (off < x->size) {
		struct io_uring_cqe *cqe;
		size_t in = 0, out = 0;
		unsigned n = 0, i;
		int err = 0;

		for (size_t o = off; o < x->size && n < URING_PAIRS; n++) {
			size_t len = x->size - o < x->pipe_size ? x->size - o : x->pipe_size;
			int more = o + len < x->size || x->more ? SPLICE_F_MORE : 0;
			struct io_uring_sqe *a = io_uring_get_sqe(&ring);
			struct io_uring_sqe *b = io_uring_get_sqe(&ring);

			io_uring_prep_splice(a, x->fd, (int64_t)o, x->pipe[1], -1, (unsigned)len,
					     SPLICE_F_MOVE);
			a->flags |= IOSQE_IO_LINK;
			a->user_data = 0;
			io_uring_prep_splice(b, x->pipe[0], -1, x->sock, -1, (unsigned)len,
					     SPLICE_F_MOVE | more);
			b->user_data = 1;
			o += len;
			if (o < x->size && n + 1 < URING_PAIRS)
				b->flags |= IOSQE_IO_LINK;
		}
		if (uring_submit(x, 2 * n) < 0)
			return -1;
		for (i = 0; i < 2 * n; i++) {
			if (uring_cqe(x, &cqe))
				return -1;
			if (cqe->res > 0)
				*(cqe->user_data ? &out : &in) += (size_t)cqe->res;
			else if (cqe->res < 0 && cqe->res != -ECANCELED)
				err = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
		if (err || !in)
			return -1;
		while (out < in) {
			struct io_uring_sqe *b = io_uring_get_sqe(&ring);

			io_uring_prep_splice(b, x->pipe[0], -1, x->sock, -1, (unsigned)(in - out),
					     SPLICE_F_MOVE | SPLICE_F_MORE);
			if (uring_submit(x, 1) < 0 || uring_cqe(x, &cqe))
				return -1;
			if (cqe->res <= 0)
				return -1;
			out += (size_t)cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
		off += in;
	}
	return 0;
}

#define SENDZC_CHUNK (256 * 1024)

/*
 * IORING_OP_SEND_ZC from an mmap of the file: up to 8 linked sends of
 * 256 KiB per submission (MSG_WAITALL: a stream send completes whole or
 * fails). Each send posts its result, then a notification when the
 * kernel is done with the pages; all are collected before munmap().
 */
static int uring_sendzc_send(struct xfer *x)
{
	unsigned char *p = map_once(x);
	size_t off = 0;
	int ret = 0;

	if (!p)
		return -1;
	while (off < x->size && !ret) {
		struct io_uring_cqe *cqe;
		unsigned n = 0, results = 0;
		size_t o = off, done = 0;

		for (; o < x->size && n < URING_PAIRS; n++) {
			size_t len = x->size - o < SENDZC_CHUNK ? x->size - o : SENDZC_CHUNK;
			int more = o + len < x->size || x->more ? MSG_MORE : 0;
			struct io_uring_sqe *s = io_uring_get_sqe(&ring);

			io_uring_prep_send_zc(s, x->sock, p + o, len, MSG_WAITALL | more,
					      sendzc_flags);
			o += len;
			if (o < x->size && n + 1 < URING_PAIRS)
				s->flags |= IOSQE_IO_LINK;
		}
		if (uring_submit(x, n) < 0) {
			ret = -1;
			break;
		}
		while (results < n) {
			if (uring_cqe(x, &cqe)) {
				ret = -1;
				break;
			}
			if (cqe->flags & IORING_CQE_F_NOTIF) {
				x->notif++;
				if (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED)
					x->notif_copied++;
			} else {
				results++;
				if (cqe->flags & IORING_CQE_F_MORE)
					x->zc_calls++;
				if (cqe->res == -EINVAL && sendzc_flags && off == 0 && !done) {
					/* A kernel without usage reports: go on without. */
					sendzc_flags = 0;
				} else if (cqe->res > 0) {
					done += (size_t)cqe->res;
				} else if (cqe->res != -ECANCELED) {
					ret = -1;
				}
			}
			io_uring_cqe_seen(&ring, cqe);
		}
		off += done;
	}
	while (!ret && !x->more && x->notif < x->zc_calls) {
		struct io_uring_cqe *cqe;

		if (uring_cqe(x, &cqe)) {
			ret = -1;
			break;
		}
		if (cqe->flags & IORING_CQE_F_NOTIF) {
			x->notif++;
			if (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED)
				x->notif_copied++;
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	unmap_last(x);
	return ret;
}

/* ---- zcopy ------------------------------------------------------------ */

static const char *zcopy_missing(void)
{
	static char why[96];

	if (zc_device_fd() >= 0)
		return NULL;
	snprintf(why, sizeof(why), "%s: %s", ZCOPY_DEVICE_PATH, strerror(errno));
	return why;
}

static int zcopy_send(struct xfer *x)
{
	off_t off = 0;

	while ((size_t)off < x->size) {
		struct zc_stats st;
		ssize_t n =
			SYS(x, zc_sendfile_ex(x->sock, x->fd, &off, x->size - (size_t)off, 0, &st));

		if (n <= 0)
			return -1;
		x->zc_bytes += st.zc_bytes;
		x->copied_bytes += st.copied_bytes;
	}
	return 0;
}

/*
 * The method table: adding a method is adding one entry. @missing says
 * why a method cannot run on this kernel (NULL: it can); @prepare and
 * @finish set up per-connection state outside the timed region.
 */
struct method {
	const char *id;	   /* JSON key and plot title */
	const char *col;   /* table column, at most 9 characters */
	const char *about; /* one line for the legend */
	const char *(*missing)(void);
	int (*prepare)(struct xfer *x);
	int (*send)(struct xfer *x);
	void (*finish)(struct xfer *x);
};

static const struct method methods[] = {
	{ "read_write_4k", "rw 4K", "pread()+write(), 4 KiB buffer", NULL, NULL, rw4k_send, NULL },
	{ "read_write_128k", "rw 128K", "pread()+write(), 128 KiB buffer", NULL, NULL, rw128k_send,
	  NULL },
	{ "mmap_write", "mmap+wr", "mmap() the file, write() the mapping, munmap()", NULL, NULL,
	  mmap_send, NULL },
	{ "sendfile", "sendfile", "sendfile(2)", NULL, NULL, sendfile_send, NULL },
	{ "splice", "splice", "splice(2) file->pipe->socket, default 64 KiB pipe", NULL,
	  pipe64k_prepare, splice_send, pipe_finish },
	{ "splice_1m", "splice 1M", "splice(2) file->pipe->socket, pipe grown to 1 MiB", NULL,
	  pipe1m_prepare, splice_send, pipe_finish },
	{ "msg_zerocopy", "MSG_ZC",
	  "send(MSG_ZEROCOPY) of the file mmap()ed per connection, 256 KiB", NULL, msgzc_prepare,
	  msgzc_send, NULL },
	{ "uring_splice", "ur splice", "io_uring IORING_OP_SPLICE, 8 linked pairs per submit",
	  uring_splice_missing, pipe64k_prepare, uring_splice_send, pipe_finish },
	{ "uring_send_zc", "ur sendzc",
	  "io_uring IORING_OP_SEND_ZC of the mmap()ed file, 8 x 256 KiB", uring_sendzc_missing,
	  NULL, uring_sendzc_send, NULL },
	{ "zcopy", "zcopy", "zcopy ZCOPY_IOC_SENDFILE (zc_sendfile_ex)", zcopy_missing, NULL,
	  zcopy_send, NULL },
	/* zcopy's vectored header+file+trailer send goes here once it exists. */
};

#define N_METHODS (sizeof(methods) / sizeof(methods[0]))
#define SENDFILE  3 /* index of the reference method */

/* ---- files ------------------------------------------------------------ */

struct bfile {
	char path[256];
	size_t size;
	uint64_t sum;
	int fd;
};

static void file_make(struct bfile *f, const char *dir, size_t size)
{
	static unsigned char buf[1 << 20];
	uint64_t s = 0x2545f4914f6cdd1dULL ^ size;
	struct csum cs = { 0 };
	int fd;

	snprintf(f->path, sizeof(f->path), "%s/zcbench-%zu", dir, size);
	f->size = size;
	fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fatal("%s", f->path);
	for (size_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		for (size_t i = 0; i < sizeof(buf); i += 8) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			memcpy(buf + i, &s, 8);
		}
		csum_add(&cs, buf, n);
		if (write(fd, buf, n) != (ssize_t)n)
			fatal("write %s", f->path);
	}
	f->sum = csum_end(&cs);
	/* On a disk file system, so that no writeback runs during the
	 * samples: the file stays in the page cache, clean. */
	if (fsync(fd))
		fatal("fsync %s", f->path);
	close(fd);
	f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		fatal("%s", f->path);
}

static void file_drop(struct bfile *f)
{
	close(f->fd);
	unlink(f->path);
}

/*
 * The type of the file system @dir is on ("tmpfs", "ext4", ..., "?"):
 * that of the longest mount point in /proc/self/mounts that holds it.
 */
static const char *fs_type(const char *dir)
{
	static char type[64];
	char real[PATH_MAX], line[1024], mnt[512], t[64];
	size_t best = 0;
	FILE *f;

	snprintf(type, sizeof(type), "?");
	if (!realpath(dir, real) || !(f = fopen("/proc/self/mounts", "r")))
		return type;
	while (fgets(line, sizeof(line), f)) {
		size_t n;

		if (sscanf(line, "%*s %511s %63s", mnt, t) != 2)
			continue;
		n = strlen(mnt);
		if (n >= best && !strncmp(real, mnt, n) &&
		    (real[n] == '/' || !real[n] || !strcmp(mnt, "/"))) {
			best = n;
			snprintf(type, sizeof(type), "%s", t);
		}
	}
	fclose(f);
	return type;
}

/* ---- one sample ------------------------------------------------------- */

struct sample {
	int ok;
	uint64_t bytes, ns, user_ns, sys_ns, syscalls;
	uint64_t zc_bytes, copied_bytes, notif, notif_copied;
	char why[160];
};

/*
 * Send @copies copies of @f through @m over a fresh connection of @l.
 * The clock runs from the first send to the receiver's report that it
 * has every byte; CPU is the sender process's over the same interval.
 */
static void run_sample(struct link *l, const struct method *m, struct bfile *f, unsigned copies,
		       int verify, struct sample *s)
{
	struct rcmd cmd = { .expect = (uint64_t)copies * f->size,
			    .verify = (uint32_t)verify,
			    .corrupt = (uint32_t)corrupt_rx };
	struct xfer x = { .fd = f->fd, .size = f->size, .pipe = { -1, -1 } };
	struct rusage r0, r1;
	struct rrep rep;
	uint64_t t0, t1;
	int failed = 0;

	memset(s, 0, sizeof(*s));
	if (write(l->ctl, &cmd, sizeof(cmd)) != sizeof(cmd))
		fatal("ctl");
	x.sock = link_connect(l);
	/* A stalled transfer fails its sample instead of hanging the run. */
	setsockopt(x.sock, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ .tv_sec = 60 },
		   sizeof(struct timeval));
	if (m->prepare && m->prepare(&x) < 0) {
		snprintf(s->why, sizeof(s->why), "prepare: %s", strerror(errno));
		failed = 1;
	}

	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ns();
	for (unsigned c = 0; c < copies && !failed; c++) {
		x.more = c + 1 < copies;
		if (m->send(&x) < 0) {
			snprintf(s->why, sizeof(s->why), "copy %u: send failed: %s", c,
				 strerror(errno));
			failed = 1;
		}
	}
	shutdown(x.sock, SHUT_WR);
	if (read(l->ctl, &rep, sizeof(rep)) != sizeof(rep))
		fatal("receiver of %s died", l->name);
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &r1);
	if (m->finish)
		m->finish(&x);
	if (x.map) /* a failed zero-copy send left it mapped */
		munmap(x.map, x.size);
	close(x.sock);

	s->bytes = cmd.expect;
	s->ns = t1 - t0;
	s->user_ns = tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime);
	s->sys_ns = tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime);
	s->syscalls = x.syscalls;
	s->zc_bytes = x.zc_bytes;
	s->copied_bytes = x.copied_bytes;
	s->notif = x.notif;
	s->notif_copied = x.notif_copied;
	if (failed)
		return;
	if (rep.err)
		snprintf(s->why, sizeof(s->why), "receiver: %s", strerror(-rep.err));
	else if (rep.got != cmd.expect)
		snprintf(s->why, sizeof(s->why),
			 "receiver got %" PRIu64 " bytes, expected %" PRIu64, rep.got, cmd.expect);
	else if (verify && rep.sum != f->sum)
		snprintf(s->why, sizeof(s->why), "checksum %016" PRIx64 ", file has %016" PRIx64,
			 rep.sum, f->sum);
	else if (m->send == zcopy_send && x.zc_bytes + x.copied_bytes != s->bytes)
		snprintf(s->why, sizeof(s->why), "zcopy accounted %" PRIu64 " bytes of %" PRIu64,
			 x.zc_bytes + x.copied_bytes, s->bytes);
	else
		s->ok = 1;
}

/* ---- statistics -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, minimum and maximum of @n values (n > 0). */
static void stats(const double *v, int n, double *med, double *lo, double *hi)
{
	double s[MAX_REPS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	*med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	*lo = s[0];
	*hi = s[n - 1];
}

struct cell {
	const char *missing; /* n/a: why */
	int failed;	     /* a sample failed: why */
	char why[200];
	int verified;
	struct sample s[MAX_REPS];
	/* derived */
	double mibps, mibps_lo, mibps_hi;
	double ratio, ratio_lo, ratio_hi; /* to sendfile, per round */
	double cpu_user, cpu_sys, cpu;	  /* seconds per GiB, medians */
	double cpu_ratio;		  /* to sendfile, per round */
	double calls;			  /* syscalls per GiB */
};

static double mibps_of(const struct sample *s)
{
	return (double)s->bytes / MiB / ((double)s->ns / 1e9);
}

static double per_gib(uint64_t v, uint64_t bytes)
{
	return (double)v * (double)GiB / (double)bytes;
}

static void derive(struct cell *c, const struct cell *ref, int reps)
{
	double tp[MAX_REPS], r[MAX_REPS], u[MAX_REPS], sy[MAX_REPS], cpu[MAX_REPS], cr[MAX_REPS],
		calls[MAX_REPS], dummy1, dummy2;

	if (c->missing || c->failed)
		return;
	for (int i = 0; i < reps; i++) {
		const struct sample *s = &c->s[i], *f = &ref->s[i];
		double mycpu = (double)(s->user_ns + s->sys_ns) / 1e9;
		double refcpu = (double)(f->user_ns + f->sys_ns) / 1e9;

		tp[i] = mibps_of(s);
		r[i] = ref->failed ? 0 : tp[i] / mibps_of(f);
		u[i] = per_gib(s->user_ns, s->bytes) / 1e9;
		sy[i] = per_gib(s->sys_ns, s->bytes) / 1e9;
		cpu[i] = u[i] + sy[i];
		cr[i] = ref->failed || refcpu <= 0
				? 0
				: (mycpu / (double)s->bytes) / (refcpu / (double)f->bytes);
		calls[i] = per_gib(s->syscalls, s->bytes);
	}
	stats(tp, reps, &c->mibps, &c->mibps_lo, &c->mibps_hi);
	stats(r, reps, &c->ratio, &c->ratio_lo, &c->ratio_hi);
	stats(u, reps, &c->cpu_user, &dummy1, &dummy2);
	stats(sy, reps, &c->cpu_sys, &dummy1, &dummy2);
	stats(cpu, reps, &c->cpu, &dummy1, &dummy2);
	stats(cr, reps, &c->cpu_ratio, &dummy1, &dummy2);
	stats(calls, reps, &c->calls, &dummy1, &dummy2);
}

/* ---- options ---------------------------------------------------------- */

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K':
		v *= KiB;
		break;
	case 'M':
		v *= MiB;
		break;
	case 'G':
		v *= GiB;
		break;
	}
	return (size_t)v;
}

static void size_name(size_t v, char *buf, size_t len)
{
	if (v >= GiB && v % GiB == 0)
		snprintf(buf, len, "%zu GiB", (size_t)(v / GiB));
	else if (v >= MiB && v % MiB == 0)
		snprintf(buf, len, "%zu MiB", (size_t)(v / MiB));
	else if (v >= KiB && v % KiB == 0)
		snprintf(buf, len, "%zu KiB", (size_t)(v / KiB));
	else
		snprintf(buf, len, "%zu B", v);
}

/* The largest power of two that fits a third of the guest's free memory. */
static size_t largest_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[128];
	size_t v = MiB;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	while (v * 2 <= kb * KiB / 3 && v < GiB)
		v *= 2;
	return v;
}

struct opts {
	const char *outdir;
	const char *dir;
	size_t sizes[MAX_SIZES];
	int n_sizes;
	int reps;
	size_t target;
	struct link *links[2];
	int n_links;
	int smoke;
	const char *only; /* --methods: comma-separated ids, or NULL for all */
};

/* Is method @m in --methods? sendfile always is: it is the reference. */
static int selected(const struct opts *o, size_t m)
{
	size_t n = strlen(methods[m].id);

	if (!o->only || m == SENDFILE)
		return 1;
	for (const char *p = o->only; (p = strstr(p, methods[m].id)); p += n)
		if ((p == o->only || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/*
 * Copies of a file of @size per sample: small files are sent several
 * times, so that each sample moves at least --target bytes.
 */
static unsigned sample_copies(const struct opts *o, size_t size)
{
	return size >= o->target ? 1 : (unsigned)(o->target / size);
}

static struct link lo = { "lo", "loopback TCP (127.0.0.1)", "127.0.0.1", NULL, -1, 0, 0 };
static struct link veth = {
	"veth", "TCP over veth, receiver in another netns", NULL, NULL, -1, 0, 0
};

static void parse_links(struct opts *o, char *s)
{
	o->n_links = 0;
	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		if (!strcmp(t, "lo"))
			o->links[o->n_links++] = &lo;
		else if (!strcmp(t, "veth") && veth.addr && veth.netns)
			o->links[o->n_links++] = &veth;
		else if (!strcmp(t, "veth"))
			fprintf(stderr, "zcbench: no veth peer (ZC_PEER_NETNS, ZC_PEER_ADDR)\n");
		if (o->n_links == 2)
			break;
	}
}

/* ---- output ---------------------------------------------------------- */

static const char *kernel_release(void)
{
	static struct utsname u;

	uname(&u);
	return u.release;
}

typedef void (*cell_fmt)(const struct cell *c, char *buf, size_t len);

static void fmt_tp(const struct cell *c, char *b, size_t n)
{
	double spread = c->mibps > 0 ? 50 * (c->mibps_hi - c->mibps_lo) / c->mibps : 0;

	snprintf(b, n, "%.0f±%.0f%%", c->mibps, spread);
}

static void fmt_ratio(const struct cell *c, char *b, size_t n)
{
	snprintf(b, n, "%.2fx", c->ratio);
}

static void fmt_cpu(const struct cell *c, char *b, size_t n)
{
	snprintf(b, n, "%.2f", c->cpu);
}

static void fmt_cpu_ratio(const struct cell *c, char *b, size_t n)
{
	snprintf(b, n, "%.2fx", c->cpu_ratio);
}

static void fmt_calls(const struct cell *c, char *b, size_t n)
{
	if (c->calls >= 10000)
		snprintf(b, n, "%.0fk", c->calls / 1000);
	else
		snprintf(b, n, "%.0f", c->calls);
}

/* Pad @s to @w display columns (± counts as one, though it is 2 bytes). */
static void put_col(FILE *out, const char *s, int w)
{
	int len = 0;

	for (const char *p = s; *p; p++)
		len += ((unsigned char)*p & 0xc0) != 0x80;
	fprintf(out, "%*s%s", w - len > 0 ? w - len : 0, "", s);
}

static void table(FILE *out, const struct opts *o, struct link *l, struct cell (*cells)[N_METHODS],
		  const char *title, cell_fmt fmt)
{
	char buf[64];

	fprintf(out, "\n%s\n", title);
	fprintf(out, "%-9s", "size");
	for (size_t m = 0; m < N_METHODS; m++)
		put_col(out, methods[m].col, 11);
	fprintf(out, "\n");
	for (int z = 0; z < o->n_sizes; z++) {
		size_name(o->sizes[z], buf, sizeof(buf));
		fprintf(out, "%-9s", buf);
		for (size_t m = 0; m < N_METHODS; m++) {
			const struct cell *c = &cells[z][m];

			if (c->missing)
				snprintf(buf, sizeof(buf), "n/a");
			else if (c->failed)
				snprintf(buf, sizeof(buf), "FAILED");
			else
				fmt(c, buf, sizeof(buf));
			put_col(out, buf, 11);
		}
		fprintf(out, "\n");
	}
	(void)l;
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void json_cell(FILE *out, const struct cell *c, int reps)
{
	if (c->missing) {
		fprintf(out, "{\"available\": false, \"why\": ");
		json_str(out, c->missing);
		fprintf(out, "}");
		return;
	}
	if (c->failed) {
		fprintf(out, "{\"available\": true, \"failed\": true, \"why\": ");
		json_str(out, c->why);
		fprintf(out, "}");
		return;
	}
	fprintf(out,
		"{\"available\": true, \"verified\": %s, \"MiBps_median\": %.2f, \"MiBps_min\": "
		"%.2f, \"MiBps_max\": %.2f, \"ratio_to_sendfile_median\": %.4f, "
		"\"ratio_to_sendfile_min\": %.4f, \"ratio_to_sendfile_max\": %.4f, "
		"\"cpu_s_per_GiB_user\": %.4f, \"cpu_s_per_GiB_sys\": %.4f, \"cpu_s_per_GiB\": "
		"%.4f, \"cpu_per_byte_ratio_to_sendfile\": %.4f, \"syscalls_per_GiB\": %.1f, "
		"\"samples\": [",
		c->verified ? "true" : "false", c->mibps, c->mibps_lo, c->mibps_hi, c->ratio,
		c->ratio_lo, c->ratio_hi, c->cpu_user, c->cpu_sys, c->cpu, c->cpu_ratio, c->calls);
	for (int i = 0; i < reps; i++) {
		const struct sample *s = &c->s[i];

		fprintf(out,
			"%s{\"bytes\": %" PRIu64 ", \"ns\": %" PRIu64 ", \"user_ns\": %" PRIu64
			", \"sys_ns\": %" PRIu64 ", \"syscalls\": %" PRIu64
			", \"zc_bytes\": %" PRIu64 ", \"copied_bytes\": %" PRIu64
			", \"zc_notifications\": %" PRIu64 ", \"zc_notifications_copied\": %" PRIu64
			"}",
			i ? ", " : "", s->bytes, s->ns, s->user_ns, s->sys_ns, s->syscalls,
			s->zc_bytes, s->copied_bytes, s->notif, s->notif_copied);
	}
	fprintf(out, "]}");
}

/*
 * OUTDIR/LINK[SUFFIX].dat, for gnuplot: a header line naming the methods,
 * then a line per size: the size, then each method's median throughput
 * (MiB/s) or, with @ratio, its median ratio to sendfile(2); NaN where the
 * method did not run.
 */
static void dat_file(const struct opts *o, const char *link, const char *suffix,
		     struct cell (*cells)[N_METHODS], int ratio)
{
	char path[512];
	FILE *df;

	snprintf(path, sizeof(path), "%s/%s%s.dat", o->outdir, link, suffix);
	df = fopen(path, "w");
	if (!df)
		fatal("%s", path);
	fprintf(df, "# size");
	for (size_t m = 0; m < N_METHODS; m++)
		fprintf(df, " %s", methods[m].id);
	fprintf(df, "\n");
	for (int z = 0; z < o->n_sizes; z++) {
		fprintf(df, "%zu", o->sizes[z]);
		for (size_t m = 0; m < N_METHODS; m++) {
			const struct cell *c = &cells[z][m];

			if (c->missing || c->failed)
				fprintf(df, " NaN");
			else
				fprintf(df, ratio ? " %.4f" : " %.2f", ratio ? c->ratio : c->mibps);
		}
		fprintf(df, "\n");
	}
	fclose(df);
}

static const char *const honesty =
	"The guest runs under QEMU TCG (software emulation, 2 vCPUs): absolute numbers mean "
	"little; ratios measured in the same run, with methods interleaved, mean a lot.";

/* ---- the benchmark ----------------------------------------------------- */

static int bench(struct opts *o)
{
	static struct cell cells[2][MAX_SIZES][N_METHODS];
	const char *missing[N_METHODS];
	char path[512], buf[64];
	FILE *tf, *jf;
	int failures = 0;
	uint64_t t_start = now_ns();
	char fs[64];

	snprintf(fs, sizeof(fs), "%s", fs_type(o->dir));
	fprintf(stderr, "# zcbench run: files in %s, on %s\n", o->dir, fs);

	for (size_t m = 0; m < N_METHODS; m++)
		missing[m] = !selected(o, m)	  ? "not selected (--methods)"
			     : methods[m].missing ? methods[m].missing()
						  : NULL;

	for (int li = 0; li < o->n_links; li++)
		link_start(o->links[li]);

	for (int z = 0; z < o->n_sizes; z++) {
		struct bfile f;
		size_t size = o->sizes[z];
		unsigned copies = sample_copies(o, size);

		file_make(&f, o->dir, size);
		for (int li = 0; li < o->n_links; li++) {
			struct link *l = o->links[li];
			struct cell *row = cells[li][z];

			size_name(size, buf, sizeof(buf));
			fprintf(stderr, "# %s %s: %u cop%s per sample, %d rounds\n", l->name, buf,
				copies, copies == 1 ? "y" : "ies", o->reps);
			/* Verification (also the warm-up): one copy, read and
			 * checksummed by the receiver. */
			for (size_t m = 0; m < N_METHODS; m++) {
				struct sample s;

				row[m].missing = missing[m];
				if (missing[m])
					continue;
				run_sample(l, &methods[m], &f, 1, 1, &s);
				row[m].verified = s.ok;
				if (!s.ok) {
					row[m].failed = 1;
					snprintf(row[m].why, sizeof(row[m].why), "verify: %s",
						 s.why);
					fprintf(stderr, "zcbench: %s %s %s: %s\n", l->name, buf,
						methods[m].id, row[m].why);
					failures++;
				}
			}
			/* Timed rounds: A B C .., each round starting one later. */
			for (int r = 0; r < o->reps; r++) {
				for (size_t k = 0; k < N_METHODS; k++) {
					size_t m = (k + (size_t)r) % N_METHODS;
					struct sample *s = &row[m].s[r];

					if (row[m].missing || row[m].failed)
						continue;
					run_sample(l, &methods[m], &f, copies, 0, s);
					if (s->ok)
						fprintf(stderr,
							"#   %s %s round %d %s: %.0f MiB/s\n",
							l->name, buf, r, methods[m].id,
							mibps_of(s));
					if (!s->ok) {
						row[m].failed = 1;
						snprintf(row[m].why, sizeof(row[m].why),
							 "round %d: %s", r, s->why);
						fprintf(stderr, "zcbench: %s %s %s: %s\n", l->name,
							buf, methods[m].id, row[m].why);
						failures++;
					}
				}
			}
			for (size_t m = 0; m < N_METHODS; m++)
				derive(&row[m], &row[SENDFILE], o->reps);
		}
		file_drop(&f);
	}
	for (int li = 0; li < o->n_links; li++)
		link_stop(o->links[li]);

	/* table.txt */
	snprintf(path, sizeof(path), "%s/table.txt", o->outdir);
	tf = fopen(path, "w");
	if (!tf)
		fatal("%s", path);
	fprintf(tf,
		"zcbench on Linux %s, files on %s (%s): %d rounds, methods interleaved; "
		"medians.\n",
		kernel_release(), fs, o->dir, o->reps);
	fprintf(tf, "%s\n", honesty);
	for (int li = 0; li < o->n_links; li++) {
		struct link *l = o->links[li];
		char title[256];

		snprintf(title, sizeof(title),
			 "== Linux %s, %s, files on %s: throughput, MiB/s (median ± half the "
			 "min-max spread)",
			 kernel_release(), l->label, fs);
		table(tf, o, l, cells[li], title, fmt_tp);
		table(tf, o, l, cells[li],
		      "ratio of throughput to sendfile(2) (median of the per-round ratios)",
		      fmt_ratio);
		table(tf, o, l, cells[li], "sender CPU, seconds per GiB (user + system)", fmt_cpu);
		table(tf, o, l, cells[li],
		      "sender CPU per byte, ratio to sendfile(2) (below 1: less CPU)",
		      fmt_cpu_ratio);
		table(tf, o, l, cells[li], "syscalls per GiB", fmt_calls);
	}
	fprintf(tf, "\nmethods:\n");
	for (size_t m = 0; m < N_METHODS; m++)
		fprintf(tf, "  %-10s %s%s%s\n", methods[m].col, methods[m].about,
			missing[m] ? "; n/a here: " : "", missing[m] ? missing[m] : "");
	fprintf(tf, "(%.0f s)\n", (double)(now_ns() - t_start) / 1e9);
	fclose(tf);

	/* results.json */
	snprintf(path, sizeof(path), "%s/results.json", o->outdir);
	jf = fopen(path, "w");
	if (!jf)
		fatal("%s", path);
	fprintf(jf, "{\"kernel\": ");
	json_str(jf, kernel_release());
	fprintf(jf, ", \"fs\": ");
	json_str(jf, fs);
	fprintf(jf, ", \"dir\": ");
	json_str(jf, o->dir);
	fprintf(jf, ", \"note\": ");
	json_str(jf, honesty);
	fprintf(jf, ", \"rounds\": %d, \"target_bytes_per_sample\": %zu, \"methods\": [", o->reps,
		o->target);
	for (size_t m = 0; m < N_METHODS; m++) {
		fprintf(jf, "%s{\"id\": ", m ? ", " : "");
		json_str(jf, methods[m].id);
		fprintf(jf, ", \"about\": ");
		json_str(jf, methods[m].about);
		fprintf(jf, "}");
	}
	fprintf(jf, "], \"links\": [");
	for (int li = 0; li < o->n_links; li++) {
		fprintf(jf, "%s{\"link\": ", li ? ", " : "");
		json_str(jf, o->links[li]->name);
		fprintf(jf, ", \"about\": ");
		json_str(jf, o->links[li]->label);
		fprintf(jf, ", \"sizes\": [");
		for (int z = 0; z < o->n_sizes; z++) {
			fprintf(jf, "%s{\"size\": %zu, \"methods\": {", z ? ", " : "", o->sizes[z]);
			for (size_t m = 0; m < N_METHODS; m++) {
				fprintf(jf, "%s\"%s\": ", m ? ", " : "", methods[m].id);
				json_cell(jf, &cells[li][z][m], o->reps);
			}
			fprintf(jf, "}}");
		}
		fprintf(jf, "]}");
	}
	fprintf(jf, "]}\n");
	fclose(jf);

	/* LINK.dat and LINK-ratio.dat, for the plots (bench.sh). */
	for (int li = 0; li < o->n_links; li++) {
		dat_file(o, o->links[li]->name, "", cells[li], 0);
		dat_file(o, o->links[li]->name, "-ratio", cells[li], 1);
	}
	return failures ? 1 : 0;
}

/*
 * zcbench profile: one method alone, so that a profiler sampling the
 * sender's CPU sees that method's work and nothing else. Each sample is
 * verified like a timed sample (byte count); its throughput is printed.
 */
static int profile(struct opts *o, const char *id)
{
	const struct method *m = NULL;
	const char *why;
	int failed = 0;
	char buf[64];

	for (size_t i = 0; i < N_METHODS; i++)
		if (!strcmp(methods[i].id, id))
			m = &methods[i];
	if (!m) {
		fprintf(stderr, "zcbench: no method %s\n", id);
		return 2;
	}
	why = m->missing ? m->missing() : NULL;
	if (why) {
		fprintf(stderr, "zcbench: %s: n/a here: %s\n", id, why);
		return 1;
	}
	printf("# zcbench profile %s: files in %s, on %s\n", id, o->dir, fs_type(o->dir));
	for (int li = 0; li < o->n_links; li++)
		link_start(o->links[li]);
	for (int z = 0; z < o->n_sizes; z++) {
		struct bfile f;
		size_t size = o->sizes[z];
		unsigned copies = sample_copies(o, size);

		file_make(&f, o->dir, size);
		size_name(size, buf, sizeof(buf));
		for (int li = 0; li < o->n_links; li++) {
			for (int r = 0; r < o->reps; r++) {
				struct sample s;

				run_sample(o->links[li], m, &f, copies, 0, &s);
				if (s.ok) {
					printf("%s %s %s sample %d: %.0f MiB/s\n", id,
					       o->links[li]->name, buf, r, mibps_of(&s));
				} else {
					printf("%s %s %s sample %d: %s\n", id, o->links[li]->name,
					       buf, r, s.why);
					failed = 1;
				}
			}
		}
		file_drop(&f);
	}
	for (int li = 0; li < o->n_links; li++)
		link_stop(o->links[li]);
	return failed;
}

/*
 * The smoke test of `make check`: each method sends two odd-sized files
 * over each link, and the receiver's checksum must equal the file's.
 * Then one short timed sample per method, whose byte count must match.
 */
static int smoke(struct opts *o)
{
	static const size_t sizes[] = { 4097, MiB + 12345 };
	int passed = 0, failed = 0;

	for (int li = 0; li < o->n_links; li++)
		link_start(o->links[li]);
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct bfile f;

		file_make(&f, o->dir, sizes[z]);
		for (int li = 0; li < o->n_links; li++) {
			for (size_t m = 0; m < N_METHODS; m++) {
				const char *why = methods[m].missing ? methods[m].missing() : NULL;
				struct sample s;

				if (!selected(o, m))
					continue;
				if (why) {
					printf("ok - bench smoke: %s n/a on this kernel (%s)\n",
					       methods[m].id, why);
					passed++;
					continue;
				}
				run_sample(o->links[li], &methods[m], &f, 1, 1, &s);
				if (s.ok)
					run_sample(o->links[li], &methods[m], &f, 3, 0, &s);
				if (s.ok) {
					passed++;
					printf("ok - bench smoke: %s over %s, %zu bytes, checksum "
					       "%016" PRIx64 "\n",
					       methods[m].id, o->links[li]->name, f.size, f.sum);
				} else {
					failed++;
					printf("not ok - bench smoke: %s over %s, %zu bytes: %s\n",
					       methods[m].id, o->links[li]->name, f.size, s.why);
				}
			}
		}
		file_drop(&f);
	}
	for (int li = 0; li < o->n_links; li++)
		link_stop(o->links[li]);
	printf("zcbench: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: zcbench run OUTDIR [--sizes LIST] [--reps N] [--target SIZE]\n"
		"                          [--links lo,veth] [--methods ID,..] [--dir DIR]\n"
		"                          [--no-pin]\n"
		"       zcbench profile METHOD [--sizes LIST] [--reps N] [--target SIZE]\n"
		"                          [--links lo,veth] [--dir DIR] [--no-pin]\n"
		"       zcbench smoke [--corrupt] [--links lo,veth] [--methods ID,..]\n"
		"                     [--dir DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char links[] = "lo,veth", lo_only[] = "lo";
	const char *profile_method = NULL;
	struct opts o = { .dir = "/tmp", .reps = 5, .target = 64 * MiB };
	int i = 2;

	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	veth.addr = getenv("ZC_PEER_ADDR");
	veth.netns = getenv("ZC_PEER_NETNS");
	parse_links(&o, links);

	if (!strcmp(argv[1], "run")) {
		if (argc < 3)
			usage();
		o.outdir = argv[2];
		i = 3;
		/* Default sizes: 4 KiB to 256 MiB by 16s, then the largest. */
		o.sizes[o.n_sizes++] = 4 * KiB;
		o.sizes[o.n_sizes++] = 64 * KiB;
		o.sizes[o.n_sizes++] = MiB;
		o.sizes[o.n_sizes++] = 16 * MiB;
		o.sizes[o.n_sizes++] = 256 * MiB;
		if (largest_size() > 256 * MiB)
			o.sizes[o.n_sizes++] = largest_size();
	} else if (!strcmp(argv[1], "profile")) {
		if (argc < 3)
			usage();
		profile_method = argv[2];
		i = 3;
		o.sizes[o.n_sizes++] = 4 * KiB;
		o.reps = 3;
		parse_links(&o, lo_only);
	} else if (!strcmp(argv[1], "smoke")) {
		o.smoke = 1;
	} else {
		usage();
	}
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--corrupt")) {
			corrupt_rx = 1;
		} else if (!strcmp(argv[i], "--no-pin")) {
			pin_cpus = 0;
		} else if (i + 1 >= argc) {
			usage();
		} else if (!strcmp(argv[i], "--sizes")) {
			o.n_sizes = 0;
			for (char *t = strtok(argv[++i], ","); t && o.n_sizes < MAX_SIZES;
			     t = strtok(NULL, ","))
				o.sizes[o.n_sizes++] =
					!strcmp(t, "max") ? largest_size() : parse_size(t);
		} else if (!strcmp(argv[i], "--reps")) {
			o.reps = atoi(argv[++i]);
			if (o.reps < 1 || o.reps > MAX_REPS)
				usage();
		} else if (!strcmp(argv[i], "--target")) {
			o.target = parse_size(argv[++i]);
		} else if (!strcmp(argv[i], "--links")) {
			parse_links(&o, argv[++i]);
		} else if (!strcmp(argv[i], "--methods")) {
			o.only = argv[++i];
		} else if (!strcmp(argv[i], "--dir")) {
			o.dir = argv[++i];
		} else {
			usage();
		}
	}
	if (!o.n_links)
		usage();
	pin_to(0); /* the receivers, forked later, move to CPU 1 */
	if (profile_method)
		return profile(&o, profile_method);
	return o.smoke ? smoke(&o) : bench(&o);
}
