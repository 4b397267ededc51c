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
 * Each method belongs to a workload (the workload table below), the unit
 * of work one call of its send() does, sent many times in a row on one
 * connection:
 *  - file: one whole file (the table above, sizes from --sizes);
 *  - response: an HTTP/1.1 response, a header of about 240 bytes (its
 *    chunk-size line included), one file and a 7-byte chunked-encoding
 *    trailer (--response-sizes: 4 KiB, 64 KiB, 1 MiB files);
 *  - files16: 16 different files of --files-sizes (4 KiB) each.
 * The new workloads' sockets are TCP_NODELAY, as a server's keep-alive
 * connections are (--nagle: not). Their ratio is to a reference named per workload
 * (response: the faster of its two sendfile(2) baselines in the same
 * round), and they report responses (calls) per second and bytes per
 * response next to MiB/s.
 *
 *   zcbench run OUTDIR [--sizes 4K,64K,..] [--reps N] [--target SIZE]
 *                      [--links lo,veth] [--methods ID,..] [--dir DIR]
 *                      [--workloads file,response,files16]
 *                      [--response-sizes LIST] [--files-sizes LIST]
 *                      [--nagle] [--no-pin]
 *       the benchmark; writes OUTDIR/table.txt, results.json, and two
 *       gnuplot data files per link and workload (OUTDIR/LINK.dat:
 *       throughput; OUTDIR/LINK-ratio.dat: ratio to sendfile; for the
 *       other workloads OUTDIR/LINK-WORKLOAD.dat: responses (calls) per
 *       second and LINK-WORKLOAD-ratio.dat). The files are made
 *       in --dir (default /tmp); the tables and the JSON name its file
 *       system type (from /proc/self/mounts)
 *   zcbench profile METHOD [--sizes ..] [--reps N] [--target SIZE]
 *                          [--links ..] [--dir DIR] [--no-pin]
 *       METHOD alone, --reps samples per size and link (default: 4 KiB
 *       over lo, 3 samples), for a profiler to watch (make bench with
 *       ZC_BENCH_PERF runs it under perf record in the guest)
 *   zcbench smoke [--corrupt] [--dir DIR]
 *       the check of `make check`: every method of every workload, two
 *       odd sizes, both links; passes only if every received checksum
 *       equals the expected one (three responses or calls in a row for
 *       the workloads other than file, so the joins are checked too).
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
#include <netinet/tcp.h>
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
#include <sys/uio.h>
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

#define MAX_SIZES 12
#define MAX_REPS  15
/* The files16 workload: files per call. */
#define FILES_PER_CALL 16

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
/* --nagle: no TCP_NODELAY in the workloads that set it. */
static int nagle;

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
 * One connection's worth of state. A method's send() sends one unit of
 * its workload: the whole file once, from offset 0 (file); header, file
 * and trailer (response); or each of @nfds files once, in order
 * (files16). It counts every syscall it makes.
 */
struct xfer {
	int fd;		/* the file, O_RDONLY (response, files16: the first) */
	size_t size;	/* its size (files16: each file's) */
	const int *fds; /* files16: @nfds files of @size bytes */
	unsigned nfds;
	const char *hdr, *trl; /* response: header and trailer */
	size_t hlen, tlen;
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
 * zcopy with ZCOPY_SEND_NOTIFY: each call's notice is read from the
 * library's descriptor, the last ones waited for before the unit ends
 * (as for MSG_ZEROCOPY: the file may be rewritten once they are in).
 */
static int zcnotify_reap(struct xfer *x, int wait)
{
	struct pollfd p = { .fd = zc_device_fd(), .events = POLLIN };
	struct zcopy_notice n[32];
	ssize_t got;

	if (wait && SYS(x, poll(&p, 1, 10000)) <= 0)
		return -1;
	got = SYS(x, zc_notices_read(n, 32));
	if (got < 0)
		return errno == EAGAIN ? 0 : -1;
	for (ssize_t i = 0; i < got; i++) {
		x->notif++;
		if (n[i].flags & ZCOPY_NOTICE_COPIED)
			x->notif_copied++;
	}
	return 0;
}

static int zcnotify_send(struct xfer *x)
{
	off_t off = 0;
	int ret = 0;

	while ((size_t)off < x->size && !ret) {
		struct zc_stats st;
		ssize_t n = SYS(x, zc_sendfile_notify(x->sock, x->fd, &off, x->size - (size_t)off,
						      0, x->zc_calls, &st));

		if (n < 0 && errno == ENOBUFS) {
			ret = zcnotify_reap(x, 1);
			continue;
		}
		if (n <= 0)
			return -1;
		x->zc_calls++;
		x->zc_bytes += st.zc_bytes;
		x->copied_bytes += st.copied_bytes;
		if (x->zc_calls - x->notif > 64)
			ret = zcnotify_reap(x, 0);
	}
	while (!ret && !x->more && x->notif < x->zc_calls)
		ret = zcnotify_reap(x, 1);
	return ret;
}

/* ---- the response workload: header + file + trailer, many in a row ---- */

/* Count the calls, loop over short sends: send(2) of @len bytes. */
static int send_all(struct xfer *x, const char *p, size_t len, int flags)
{
	while (len) {
		ssize_t n = SYS(x, send(x->sock, p, len, flags));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* sendfile(2) of the whole of @fd (@size bytes), by explicit offset. */
static int sendfile_all(struct xfer *x, int fd, size_t size)
{
	off_t off = 0;

	while ((size_t)off < size) {
		ssize_t n = SYS(x, sendfile(x->sock, fd, &off, size - (size_t)off));

		if (n <= 0)
			return -1;
	}
	return 0;
}

/* zc_sendfile_ex() of the whole of @fd, with @flags; accounted. */
static int zcopy_all(struct xfer *x, int fd, size_t size, unsigned flags)
{
	off_t off = 0;

	while ((size_t)off < size) {
		struct zc_stats st;
		ssize_t n =
			SYS(x, zc_sendfile_ex(x->sock, fd, &off, size - (size_t)off, flags, &st));

		if (n <= 0)
			return -1;
		x->zc_bytes += st.zc_bytes;
		x->copied_bytes += st.copied_bytes;
	}
	return 0;
}

static int tcp_cork(struct xfer *x, int on)
{
	return SYS(x, setsockopt(x->sock, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)));
}

/* TCP_CORK on, then writev() of the header: how both corked methods start. */
static int cork_header(struct xfer *x)
{
	struct iovec iov = { .iov_base = (void *)x->hdr, .iov_len = x->hlen };

	if (tcp_cork(x, 1) < 0)
		return -1;
	while (iov.iov_len) {
		ssize_t n = SYS(x, writev(x->sock, &iov, 1));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
	}
	return 0;
}

/*
 * The classic server: cork, writev() the header, sendfile() the body,
 * write() the trailer, uncork (nginx's tcp_nopush; 5 calls).
 */
static int resp_cork_send(struct xfer *x)
{
	if (cork_header(x) || sendfile_all(x, x->fd, x->size) ||
	    write_all(x, (const void *)x->trl, x->tlen))
		return -1;
	return tcp_cork(x, 0);
}

/*
 * resp_cork_send with the body through zcopy as `zcopy run` sends it: the
 * interposer turns the sendfile() into zc_sendfile_ex(), with the same
 * offset pointer and no flag; the rest is the server's own (lighttpd's
 * pattern). The copied bytes are the header's and trailer's.
 */
static int resp_cork_zc_send(struct xfer *x)
{
	if (cork_header(x) || zcopy_all(x, x->fd, x->size, 0) ||
	    write_all(x, (const void *)x->trl, x->tlen))
		return -1;
	x->copied_bytes += x->hlen + x->tlen;
	return tcp_cork(x, 0);
}

/*
 * Without a cork: the header with MSG_MORE, so it waits for the body;
 * sendfile() pushes at its end, so the trailer leaves on its own (3 calls).
 */
static int resp_more_send(struct xfer *x)
{
	if (send_all(x, x->hdr, x->hlen, MSG_MORE) || sendfile_all(x, x->fd, x->size))
		return -1;
	return send_all(x, x->trl, x->tlen, 0);
}

/*
 * As resp_more_send, the body by zc_sendfile_flags(ZCOPY_SEND_MORE): it
 * does not push, so the trailer joins the body's last segment (3 calls).
 * send(2)'s bytes are copied ones in zcopy's accounting.
 */
static int resp_zcmore_send(struct xfer *x)
{
	if (send_all(x, x->hdr, x->hlen, MSG_MORE) ||
	    zcopy_all(x, x->fd, x->size, ZCOPY_SEND_MORE) || send_all(x, x->trl, x->tlen, 0))
		return -1;
	x->copied_bytes += x->hlen + x->tlen;
	return 0;
}

/* zc_sendv() of a vector until all of it is sent (zc_sendv_advance()). */
static int sendv_all(struct xfer *x, struct zcopy_seg *v, unsigned nr)
{
	while (nr) {
		struct zc_stats st;
		ssize_t n = SYS(x, zc_sendv(x->sock, v, nr, ZCOPY_SEND_NOSIGNAL, &st));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		x->zc_bytes += st.zc_bytes;
		x->copied_bytes += st.copied_bytes;
		if (zc_sendv_advance(&v, &nr, (size_t)n))
			return -1;
	}
	return 0;
}

/*
 * One ioctl per response: zc_sendv() of header, file, trailer, as
 * zc_send_response() does (with its ZCOPY_SEND_NOSIGNAL), but with the
 * accounting, which must say that every file byte went by reference.
 */
static int resp_sendv_send(struct xfer *x)
{
	struct zcopy_seg v[3] = {
		zc_seg_mem(x->hdr, x->hlen),
		zc_seg_file(x->fd, 0, x->size),
		zc_seg_mem(x->trl, x->tlen),
	};

	return sendv_all(x, v, 3);
}

/* ---- the files16 workload: many small files in one call -------------- */

static int files_sendfile_send(struct xfer *x)
{
	for (unsigned i = 0; i < x->nfds; i++)
		if (sendfile_all(x, x->fds[i], x->size))
			return -1;
	return 0;
}

/* The same under TCP_CORK: the small files leave in full segments. */
static int files_sendfile_cork_send(struct xfer *x)
{
	if (tcp_cork(x, 1) < 0 || files_sendfile_send(x))
		return -1;
	return tcp_cork(x, 0);
}

static int files_zcopy_send(struct xfer *x)
{
	for (unsigned i = 0; i < x->nfds; i++)
		if (zcopy_all(x, x->fds[i], x->size, 0))
			return -1;
	return 0;
}

static int files_sendv_send(struct xfer *x)
{
	struct zcopy_seg v[FILES_PER_CALL];

	for (unsigned i = 0; i < x->nfds; i++)
		v[i] = zc_seg_file(x->fds[i], 0, x->size);
	return sendv_all(x, v, x->nfds);
}

/* A module without ZCOPY_IOC_SENDV (before 0.3.0) answers ENOTTY. */
static const char *sendv_missing(void)
{
	static char why[96];

	if (zcopy_missing())
		return zcopy_missing();
	if (zc_sendv(-1, NULL, 0, 0, NULL) >= 0 || errno != ENOTTY)
		return NULL;
	snprintf(why, sizeof(why), "the module has no ZCOPY_IOC_SENDV (%s)", strerror(errno));
	return why;
}

/* ---- workloads ------------------------------------------------------- */

enum { WL_FILE, WL_RESPONSE, WL_FILES, N_WL };

/*
 * A workload: what one send() of its methods sends (see the top of the
 * file), and what its ratios are taken to: in each round, the fastest of
 * its @ref methods (the ids in the method table) in that round.
 */
struct workload {
	const char *id;
	const char *unit;  /* one send(): "copy", "response", "call" */
	const char *about; /* for the table and the JSON */
	const char *ref_about;
	const char *ref[2];
	int nodelay;	       /* TCP_NODELAY on the sender's socket */
	unsigned verify_items; /* sent in a row to verify the checksum */
};

static const struct workload workloads[N_WL] = {
	[WL_FILE] = {
		.id = "file",
		.unit = "copy",
		.about = "one whole file per call",
		.ref_about = "sendfile(2)",
		.ref = { "sendfile" },
		.verify_items = 1,
	},
	[WL_RESPONSE] = {
		.id = "response",
		.unit = "response",
		.about = "HTTP/1.1 responses on one connection: header (its chunk-size line "
			 "included), the file, trailer \"\\r\\n0\\r\\n\\r\\n\" (7 bytes)",
		.ref_about = "the faster of resp_cork and resp_more in the same round",
		.ref = { "resp_cork", "resp_more" },
		.nodelay = 1,
		.verify_items = 3,
	},
	[WL_FILES] = {
		.id = "files16",
		.unit = "call",
		.about = "16 different files per call, one connection",
		.ref_about = "files_sendfile (sendfile(2) once per file)",
		.ref = { "files_sendfile" },
		.nodelay = 1,
		.verify_items = 3,
	},
};

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
	int wl;	  /* its workload, WL_FILE unless said */
	int acct; /* zcopy's accounting must cover every byte sent */
};

static const struct method methods[] = {
	{ "read_write_4k", "rw 4K", "pread()+write(), 4 KiB buffer", NULL, NULL, rw4k_send, NULL,
	  WL_FILE, 0 },
	{ "read_write_128k", "rw 128K", "pread()+write(), 128 KiB buffer", NULL, NULL, rw128k_send,
	  NULL, WL_FILE, 0 },
	{ "mmap_write", "mmap+wr", "mmap() the file, write() the mapping, munmap()", NULL, NULL,
	  mmap_send, NULL, WL_FILE, 0 },
	{ "sendfile", "sendfile", "sendfile(2)", NULL, NULL, sendfile_send, NULL, WL_FILE, 0 },
	{ "splice", "splice", "splice(2) file->pipe->socket, default 64 KiB pipe", NULL,
	  pipe64k_prepare, splice_send, pipe_finish, WL_FILE, 0 },
	{ "splice_1m", "splice 1M", "splice(2) file->pipe->socket, pipe grown to 1 MiB", NULL,
	  pipe1m_prepare, splice_send, pipe_finish, WL_FILE, 0 },
	{ "msg_zerocopy", "MSG_ZC",
	  "send(MSG_ZEROCOPY) of the file mmap()ed per connection, 256 KiB", NULL, msgzc_prepare,
	  msgzc_send, NULL, WL_FILE, 0 },
	{ "uring_splice", "ur splice", "io_uring IORING_OP_SPLICE, 8 linked pairs per submit",
	  uring_splice_missing, pipe64k_prepare, uring_splice_send, pipe_finish, WL_FILE, 0 },
	{ "uring_send_zc", "ur sendzc",
	  "io_uring IORING_OP_SEND_ZC of the mmap()ed file, 8 x 256 KiB", uring_sendzc_missing,
	  NULL, uring_sendzc_send, NULL, WL_FILE, 0 },
	{ "zcopy", "zcopy", "zcopy ZCOPY_IOC_SENDFILE (zc_sendfile_ex)", zcopy_missing, NULL,
	  zcopy_send, NULL, WL_FILE, 1 },
	{ "zcopy_notify", "zc notify",
	  "zc_sendfile_notify(): ZCOPY_SEND_NOTIFY, every notice read before the next file",
	  zcopy_missing, NULL, zcnotify_send, NULL, WL_FILE, 1 },
	/* The response workload: the zcopy vector last (the plots' thick line). */
	{ .id = "resp_cork",
	  .col = "cork+sf",
	  .about = "TCP_CORK on, writev(header), sendfile(file), write(trailer), TCP_CORK off",
	  .send = resp_cork_send,
	  .wl = WL_RESPONSE },
	{ .id = "resp_cork_zc",
	  .col = "cork+zc",
	  .about = "as resp_cork, the file by zc_sendfile_ex() as `zcopy run` sends it",
	  .missing = zcopy_missing,
	  .send = resp_cork_zc_send,
	  .wl = WL_RESPONSE,
	  .acct = 1 },
	{ .id = "resp_more",
	  .col = "MORE+sf",
	  .about = "send(header, MSG_MORE), sendfile(file), send(trailer)",
	  .send = resp_more_send,
	  .wl = WL_RESPONSE },
	{ .id = "resp_zcopy_more",
	  .col = "MORE+zcM",
	  .about = "send(header, MSG_MORE), zc_sendfile_flags(file, ZCOPY_SEND_MORE), "
		   "send(trailer)",
	  .missing = sendv_missing,
	  .send = resp_zcmore_send,
	  .wl = WL_RESPONSE,
	  .acct = 1 },
	{ .id = "resp_zc_sendv",
	  .col = "zc_sendv",
	  .about = "zc_sendv(header, file, trailer): one ZCOPY_IOC_SENDV per response",
	  .missing = sendv_missing,
	  .send = resp_sendv_send,
	  .wl = WL_RESPONSE,
	  .acct = 1 },
	/* The files16 workload. */
	{ .id = "files_sendfile",
	  .col = "sendfile",
	  .about = "sendfile(2) once per file",
	  .send = files_sendfile_send,
	  .wl = WL_FILES },
	{ .id = "files_sendfile_cork",
	  .col = "sf cork",
	  .about = "TCP_CORK on, sendfile(2) once per file, TCP_CORK off",
	  .send = files_sendfile_cork_send,
	  .wl = WL_FILES },
	{ .id = "files_zcopy",
	  .col = "zcopy",
	  .about = "zc_sendfile_ex() once per file",
	  .missing = zcopy_missing,
	  .send = files_zcopy_send,
	  .wl = WL_FILES,
	  .acct = 1 },
	{ .id = "files_zc_sendv",
	  .col = "zc_sendv",
	  .about = "zc_sendv() of 16 file segments: one ZCOPY_IOC_SENDV per call",
	  .missing = sendv_missing,
	  .send = files_sendv_send,
	  .wl = WL_FILES,
	  .acct = 1 },
};

#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

/* Is method @m one its workload's ratios are taken to? */
static int is_ref(size_t m)
{
	const struct workload *w = &workloads[methods[m].wl];

	for (int k = 0; k < 2; k++)
		if (w->ref[k] && !strcmp(w->ref[k], methods[m].id))
			return 1;
	return 0;
}

/* The methods of workload @wl, in table order, into @idx; how many. */
static size_t wl_methods(int wl, size_t *idx)
{
	size_t n = 0;

	for (size_t m = 0; m < N_METHODS; m++)
		if (methods[m].wl == wl)
			idx[n++] = m;
	return n;
}

/* ---- files ------------------------------------------------------------ */

struct bfile {
	char path[256];
	size_t size;
	uint64_t sum;
	int fd;
};

/* File @idx of a size: its own name and its own bytes. */
static void file_make(struct bfile *f, const char *dir, size_t size, unsigned idx)
{
	static unsigned char buf[1 << 20];
	uint64_t s = 0x2545f4914f6cdd1dULL ^ size ^ ((uint64_t)idx * 0x9e3779b97f4a7c15ULL);
	struct csum cs = { 0 };
	int fd;

	if (idx)
		snprintf(f->path, sizeof(f->path), "%s/zcbench-%zu-%u", dir, size, idx);
	else
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
 * What one send() of a workload's methods sends, for one size: the files,
 * the header and trailer, the bytes, and the checksum of
 * workloads[wl].verify_items of them in a row.
 */
struct item {
	int wl;
	struct bfile f[FILES_PER_CALL];
	int fds[FILES_PER_CALL];
	unsigned nfiles;
	size_t size; /* of each file */
	char hdr[320];
	size_t hlen;
	const char *trl;
	size_t tlen;
	uint64_t bytes; /* of one */
	uint64_t sum;
};

/*
 * A realistic response header for a file of @size bytes, sent with
 * chunked transfer coding: it ends with the chunk's size line, and the
 * trailer closes the chunk and the body.
 */
static size_t http_header(char *buf, size_t len, size_t size)
{
	int n = snprintf(buf, len,
			 "HTTP/1.1 200 OK\r\n"
			 "Server: zcbench\r\n"
			 "Date: Wed, 02 Dec 2026 09:00:00 GMT\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "Last-Modified: Mon, 30 Nov 2026 12:00:00 GMT\r\n"
			 "ETag: \"%zx-6565f0c0\"\r\n"
			 "Cache-Control: max-age=3600\r\n"
			 "Transfer-Encoding: chunked\r\n"
			 "\r\n"
			 "%zx\r\n",
			 size, size);

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

static const char http_trailer[] = "\r\n0\r\n\r\n";

static void item_make(struct item *it, int wl, const char *dir, size_t size)
{
	static unsigned char buf[1 << 16];
	struct csum cs = { 0 };

	memset(it, 0, sizeof(*it));
	it->wl = wl;
	it->size = size;
	it->nfiles = wl == WL_FILES ? FILES_PER_CALL : 1;
	for (unsigned i = 0; i < it->nfiles; i++) {
		file_make(&it->f[i], dir, size, i);
		it->fds[i] = it->f[i].fd;
	}
	if (wl == WL_RESPONSE) {
		it->hlen = http_header(it->hdr, sizeof(it->hdr), size);
		it->trl = http_trailer;
		it->tlen = sizeof(http_trailer) - 1;
	}
	it->bytes = it->hlen + (uint64_t)it->nfiles * size + it->tlen;
	if (wl == WL_FILE) {
		it->sum = it->f[0].sum; /* verify_items is 1 */
		return;
	}
	/* The stream of verify_items of them, as the receiver sees it. */
	for (unsigned k = 0; k < workloads[wl].verify_items; k++) {
		csum_add(&cs, (const unsigned char *)it->hdr, it->hlen);
		for (unsigned i = 0; i < it->nfiles; i++) {
			for (size_t off = 0; off < size;) {
				ssize_t n = pread(it->fds[i], buf, sizeof(buf), (off_t)off);

				if (n <= 0)
					fatal("read %s", it->f[i].path);
				csum_add(&cs, buf, (size_t)n);
				off += (size_t)n;
			}
		}
		csum_add(&cs, (const unsigned char *)it->trl, it->tlen);
	}
	it->sum = csum_end(&cs);
}

static void item_drop(struct item *it)
{
	for (unsigned i = 0; i < it->nfiles; i++)
		file_drop(&it->f[i]);
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
	uint64_t items; /* sends: copies, responses, calls */
	uint64_t bytes, ns, user_ns, sys_ns, syscalls;
	uint64_t zc_bytes, copied_bytes, notif, notif_copied;
	char why[160];
};

/*
 * Send @copies copies of @it (a file, a response, a call's files) through
 * @m over a fresh connection of @l; with @verify, @copies must be the
 * workload's verify_items. The clock runs from the first send to the
 * receiver's report that it has every byte; CPU is the sender process's
 * over the same interval.
 */
static void run_sample(struct link *l, const struct method *m, const struct item *it,
		       unsigned copies, int verify, struct sample *s)
{
	struct rcmd cmd = { .expect = (uint64_t)copies * it->bytes,
			    .verify = (uint32_t)verify,
			    .corrupt = (uint32_t)corrupt_rx };
	struct xfer x = { .fd = it->fds[0],
			  .size = it->size,
			  .fds = it->fds,
			  .nfds = it->nfiles,
			  .hdr = it->hdr,
			  .hlen = it->hlen,
			  .trl = it->trl,
			  .tlen = it->tlen,
			  .pipe = { -1, -1 } };
	struct rusage r0, r1;
	struct rrep rep;
	uint64_t t0, t1;
	int failed = 0;

	memset(s, 0, sizeof(*s));
	if (verify && copies != workloads[it->wl].verify_items)
		fatal("verify %u items of %s", copies, workloads[it->wl].id);
	if (write(l->ctl, &cmd, sizeof(cmd)) != sizeof(cmd))
		fatal("ctl");
	x.sock = link_connect(l);
	/* A stalled transfer fails its sample instead of hanging the run. */
	setsockopt(x.sock, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ .tv_sec = 60 },
		   sizeof(struct timeval));
	if (workloads[it->wl].nodelay && !nagle)
		setsockopt(x.sock, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
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

	s->items = copies;
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
	else if (verify && rep.sum != it->sum)
		snprintf(s->why, sizeof(s->why), "checksum %016" PRIx64 ", expected %016" PRIx64,
			 rep.sum, it->sum);
	else if (m->acct && x.zc_bytes + x.copied_bytes != s->bytes)
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
	double rate;			  /* items (responses, calls) per second */
	double ratio, ratio_lo, ratio_hi; /* to the reference, per round */
	double cpu_user, cpu_sys, cpu;	  /* seconds per GiB, medians */
	double cpu_ratio;		  /* to the reference, per round */
	double calls;			  /* syscalls per GiB */
	double calls_item;		  /* syscalls per item */
};

static double mibps_of(const struct sample *s)
{
	return (double)s->bytes / MiB / ((double)s->ns / 1e9);
}

static double per_gib(uint64_t v, uint64_t bytes)
{
	return (double)v * (double)GiB / (double)bytes;
}

/*
 * The medians of @c's rounds. The ratios are taken per round, to the
 * fastest of the @nref reference cells in that round (one, sendfile(2),
 * for the file workload), throughput and CPU per byte alike.
 */
static void derive(struct cell *c, const struct cell *const *refs, int nref, int reps)
{
	double tp[MAX_REPS], r[MAX_REPS], u[MAX_REPS], sy[MAX_REPS], cpu[MAX_REPS], cr[MAX_REPS],
		calls[MAX_REPS], rate[MAX_REPS], ci[MAX_REPS], dummy1, dummy2;

	if (c->missing || c->failed)
		return;
	for (int i = 0; i < reps; i++) {
		const struct sample *s = &c->s[i], *f = NULL;
		double mycpu = (double)(s->user_ns + s->sys_ns) / 1e9, refcpu = 0;

		for (int k = 0; k < nref; k++) {
			const struct sample *g = &refs[k]->s[i];

			if (!refs[k]->missing && !refs[k]->failed &&
			    (!f || mibps_of(g) > mibps_of(f)))
				f = g;
		}
		if (f)
			refcpu = (double)(f->user_ns + f->sys_ns) / 1e9;
		tp[i] = mibps_of(s);
		rate[i] = (double)s->items / ((double)s->ns / 1e9);
		r[i] = !f ? 0 : tp[i] / mibps_of(f);
		u[i] = per_gib(s->user_ns, s->bytes) / 1e9;
		sy[i] = per_gib(s->sys_ns, s->bytes) / 1e9;
		cpu[i] = u[i] + sy[i];
		cr[i] = !f || refcpu <= 0
				? 0
				: (mycpu / (double)s->bytes) / (refcpu / (double)f->bytes);
		calls[i] = per_gib(s->syscalls, s->bytes);
		ci[i] = (double)s->syscalls / (double)s->items;
	}
	stats(tp, reps, &c->mibps, &c->mibps_lo, &c->mibps_hi);
	stats(rate, reps, &c->rate, &dummy1, &dummy2);
	stats(r, reps, &c->ratio, &c->ratio_lo, &c->ratio_hi);
	stats(u, reps, &c->cpu_user, &dummy1, &dummy2);
	stats(sy, reps, &c->cpu_sys, &dummy1, &dummy2);
	stats(cpu, reps, &c->cpu, &dummy1, &dummy2);
	stats(cr, reps, &c->cpu_ratio, &dummy1, &dummy2);
	stats(calls, reps, &c->calls, &dummy1, &dummy2);
	stats(ci, reps, &c->calls_item, &dummy1, &dummy2);
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
	size_t sizes[N_WL][MAX_SIZES]; /* file: --sizes; response, files16: their own */
	int n_sizes[N_WL];
	int wl_on[N_WL]; /* --workloads */
	int reps;
	size_t target;
	struct link *links[2];
	int n_links;
	int smoke;
	const char *only; /* --methods: comma-separated ids, or NULL for all */
};

/* Is method @m named in --methods? */
static int listed(const struct opts *o, size_t m)
{
	size_t n = strlen(methods[m].id);

	for (const char *p = o->only; (p = strstr(p, methods[m].id)); p += n)
		if ((p == o->only || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/*
 * Does workload @wl run? It is in --workloads and, if --methods is
 * given, names one of its methods.
 */
static int wl_active(const struct opts *o, int wl)
{
	if (!o->wl_on[wl])
		return 0;
	if (!o->only)
		return 1;
	for (size_t m = 0; m < N_METHODS; m++)
		if (methods[m].wl == wl && listed(o, m))
			return 1;
	return 0;
}

/*
 * Does method @m run? Its workload does, and it is in --methods (or
 * there is none); a workload's references always run: the ratios are
 * theirs.
 */
static int selected(const struct opts *o, size_t m)
{
	if (!wl_active(o, methods[m].wl))
		return 0;
	return !o->only || is_ref(m) || listed(o, m);
}

/*
 * Sends of an item of @bytes per sample: small ones are sent several
 * times, so that each sample moves at least --target bytes.
 */
static unsigned sample_copies(const struct opts *o, uint64_t bytes)
{
	return bytes >= o->target ? 1 : (unsigned)(o->target / bytes);
}

static void parse_sizes(size_t *sizes, int *n, const char *arg)
{
	char list[256];

	snprintf(list, sizeof(list), "%s", arg);
	*n = 0;
	for (char *t = strtok(list, ","); t && *n < MAX_SIZES; t = strtok(NULL, ","))
		sizes[(*n)++] = !strcmp(t, "max") ? largest_size() : parse_size(t);
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

static void fmt_rate(const struct cell *c, char *b, size_t n)
{
	snprintf(b, n, "%.0f", c->rate);
}

static void fmt_calls_item(const struct cell *c, char *b, size_t n)
{
	snprintf(b, n, "%.1f", c->calls_item);
}

/* The label of row @z of workload @wl: the size, and the bytes of one send. */
static void row_label(int wl, size_t size, uint64_t bytes, char *buf, size_t len)
{
	char sz[32];

	size_name(size, sz, sizeof(sz));
	if (wl == WL_FILE)
		snprintf(buf, len, "%s", sz);
	else if (wl == WL_FILES)
		snprintf(buf, len, "%d x %s, %" PRIu64 " B", FILES_PER_CALL, sz, bytes);
	else
		snprintf(buf, len, "%s, %" PRIu64 " B", sz, bytes);
}

/* Bytes of one send of workload @wl at size @z (set by bench()). */
static uint64_t item_bytes[N_WL][MAX_SIZES];

static void table(FILE *out, const struct opts *o, int wl, struct cell (*cells)[N_METHODS],
		  const char *title, cell_fmt fmt)
{
	int lw = wl == WL_FILE ? 9 : wl == WL_FILES ? 24 : 22;
	size_t idx[N_METHODS], nm = wl_methods(wl, idx);
	char buf[64];

	fprintf(out, "\n%s\n", title);
	fprintf(out, "%-*s", lw,
		wl == WL_FILE	 ? "size"
		: wl == WL_FILES ? "files, B per call"
				 : "file, B per response");
	for (size_t k = 0; k < nm; k++)
		put_col(out, methods[idx[k]].col, 11);
	fprintf(out, "\n");
	for (int z = 0; z < o->n_sizes[wl]; z++) {
		row_label(wl, o->sizes[wl][z], item_bytes[wl][z], buf, sizeof(buf));
		fprintf(out, "%-*s", lw, buf);
		for (size_t k = 0; k < nm; k++) {
			const struct cell *c = &cells[z][idx[k]];

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

/*
 * A cell as JSON. The file workload's keep their names (ratios
 * "to_sendfile"); the other workloads' ratios are "to_reference", the
 * reference named in the workload's object, and they add responses
 * (calls) per second and syscalls per response (call).
 */
static void json_cell(FILE *out, const struct cell *c, int reps, int wl)
{
	const char *to = wl == WL_FILE ? "sendfile" : "reference";

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
		"%.2f, \"MiBps_max\": %.2f, \"ratio_to_%s_median\": %.4f, "
		"\"ratio_to_%s_min\": %.4f, \"ratio_to_%s_max\": %.4f, "
		"\"cpu_s_per_GiB_user\": %.4f, \"cpu_s_per_GiB_sys\": %.4f, \"cpu_s_per_GiB\": "
		"%.4f, \"cpu_per_byte_ratio_to_%s\": %.4f, \"syscalls_per_GiB\": %.1f, ",
		c->verified ? "true" : "false", c->mibps, c->mibps_lo, c->mibps_hi, to, c->ratio,
		to, c->ratio_lo, to, c->ratio_hi, c->cpu_user, c->cpu_sys, c->cpu, to, c->cpu_ratio,
		c->calls);
	if (wl != WL_FILE)
		fprintf(out, "\"%ss_per_s_median\": %.1f, \"syscalls_per_%s\": %.2f, ",
			workloads[wl].unit, c->rate, workloads[wl].unit, c->calls_item);
	fprintf(out, "\"samples\": [");
	for (int i = 0; i < reps; i++) {
		const struct sample *s = &c->s[i];

		fprintf(out, "%s{", i ? ", " : "");
		if (wl != WL_FILE)
			fprintf(out, "\"%ss\": %" PRIu64 ", ", workloads[wl].unit, s->items);
		fprintf(out,
			"\"bytes\": %" PRIu64 ", \"ns\": %" PRIu64 ", \"user_ns\": %" PRIu64
			", \"sys_ns\": %" PRIu64 ", \"syscalls\": %" PRIu64
			", \"zc_bytes\": %" PRIu64 ", \"copied_bytes\": %" PRIu64
			", \"zc_notifications\": %" PRIu64 ", \"zc_notifications_copied\": %" PRIu64
			"}",
			s->bytes, s->ns, s->user_ns, s->sys_ns, s->syscalls, s->zc_bytes,
			s->copied_bytes, s->notif, s->notif_copied);
	}
	fprintf(out, "]}");
}

/* "links": [...] of workload @wl: per link, per size, per method. */
static void json_links(FILE *jf, const struct opts *o, int wl,
		       struct cell (*cells)[MAX_SIZES][N_METHODS])
{
	size_t idx[N_METHODS], nm = wl_methods(wl, idx);

	fprintf(jf, "\"links\": [");
	for (int li = 0; li < o->n_links && wl_active(o, wl); li++) {
		fprintf(jf, "%s{\"link\": ", li ? ", " : "");
		json_str(jf, o->links[li]->name);
		fprintf(jf, ", \"about\": ");
		json_str(jf, o->links[li]->label);
		fprintf(jf, ", \"sizes\": [");
		for (int z = 0; z < o->n_sizes[wl]; z++) {
			fprintf(jf, "%s{\"size\": %zu, ", z ? ", " : "", o->sizes[wl][z]);
			if (wl != WL_FILE)
				fprintf(jf, "\"files_per_%s\": %d, \"bytes_per_%s\": %" PRIu64 ", ",
					workloads[wl].unit, wl == WL_FILES ? FILES_PER_CALL : 1,
					workloads[wl].unit, item_bytes[wl][z]);
			fprintf(jf, "\"methods\": {");
			for (size_t k = 0; k < nm; k++) {
				fprintf(jf, "%s\"%s\": ", k ? ", " : "", methods[idx[k]].id);
				json_cell(jf, &cells[li][z][idx[k]], o->reps, wl);
			}
			fprintf(jf, "}}");
		}
		fprintf(jf, "]}");
	}
	fprintf(jf, "]");
}

/*
 * OUTDIR/LINK[SUFFIX].dat, for gnuplot: a header line naming the methods
 * of workload @wl, then a line per size: the size, then each method's
 * median throughput (MiB/s; other workloads: responses or calls per
 * second) or, with @ratio, its median ratio to the reference; NaN where
 * the method did not run.
 */
static void dat_file(const struct opts *o, int wl, const char *link, const char *suffix,
		     struct cell (*cells)[N_METHODS], int ratio)
{
	size_t idx[N_METHODS], nm = wl_methods(wl, idx);
	char path[512];
	FILE *df;

	snprintf(path, sizeof(path), "%s/%s%s.dat", o->outdir, link, suffix);
	df = fopen(path, "w");
	if (!df)
		fatal("%s", path);
	fprintf(df, "# size");
	for (size_t k = 0; k < nm; k++)
		fprintf(df, " %s", methods[idx[k]].id);
	fprintf(df, "\n");
	for (int z = 0; z < o->n_sizes[wl]; z++) {
		fprintf(df, "%zu", o->sizes[wl][z]);
		for (size_t k = 0; k < nm; k++) {
			const struct cell *c = &cells[z][idx[k]];

			if (c->missing || c->failed)
				fprintf(df, " NaN");
			else if (ratio)
				fprintf(df, " %.4f", c->ratio);
			else
				fprintf(df, " %.2f", wl == WL_FILE ? c->mibps : c->rate);
		}
		fprintf(df, "\n");
	}
	fclose(df);
}

static const char *const honesty =
	"The guest runs under QEMU TCG (software emulation, 2 vCPUs): absolute numbers mean "
	"little; ratios measured in the same run, with methods interleaved, mean a lot.";

/* ---- the benchmark ----------------------------------------------------- */

static struct cell cells[N_WL][2][MAX_SIZES][N_METHODS];

/*
 * Workload @wl on every size and link: a verification of each method
 * (also the warm-up), then the timed rounds, methods interleaved.
 * Returns the failures.
 */
static int measure(struct opts *o, int wl, const char *const *missing)
{
	const struct workload *w = &workloads[wl];
	size_t idx[N_METHODS], nm = wl_methods(wl, idx);
	const struct cell *refs[2];
	int failures = 0, nref;
	char buf[64];

	for (int z = 0; z < o->n_sizes[wl]; z++) {
		struct item it;
		size_t size = o->sizes[wl][z];
		unsigned copies;

		item_make(&it, wl, o->dir, size);
		item_bytes[wl][z] = it.bytes;
		copies = sample_copies(o, it.bytes);
		for (int li = 0; li < o->n_links; li++) {
			struct link *l = o->links[li];
			struct cell *row = cells[wl][li][z];

			size_name(size, buf, sizeof(buf));
			if (wl == WL_FILE)
				fprintf(stderr, "# %s %s: %u cop%s per sample, %d rounds\n",
					l->name, buf, copies, copies == 1 ? "y" : "ies", o->reps);
			else
				fprintf(stderr,
					"# %s %s %s: %u %ss of %" PRIu64 " bytes per sample, %d "
					"rounds\n",
					w->id, l->name, buf, copies, w->unit, it.bytes, o->reps);
			/* Verification (also the warm-up): the receiver reads
			 * and checksums verify_items sends in a row. */
			for (size_t k = 0; k < nm; k++) {
				size_t m = idx[k];
				struct sample s;

				row[m].missing = missing[m];
				if (missing[m])
					continue;
				run_sample(l, &methods[m], &it, w->verify_items, 1, &s);
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
				for (size_t k = 0; k < nm; k++) {
					size_t m = idx[(k + (size_t)r) % nm];
					struct sample *s = &row[m].s[r];

					if (row[m].missing || row[m].failed)
						continue;
					run_sample(l, &methods[m], &it, copies, 0, s);
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
			nref = 0;
			for (size_t k = 0; k < nm; k++)
				if (is_ref(idx[k]))
					refs[nref++] = &row[idx[k]];
			for (size_t k = 0; k < nm; k++)
				derive(&row[idx[k]], refs, nref, o->reps);
		}
		item_drop(&it);
	}
	return failures;
}

static int bench(struct opts *o)
{
	const char *missing[N_METHODS];
	char path[512], title[512];
	FILE *tf, *jf;
	int failures = 0;
	uint64_t t_start = now_ns();
	char fs[64];

	snprintf(fs, sizeof(fs), "%s", fs_type(o->dir));
	fprintf(stderr, "# zcbench run: files in %s, on %s\n", o->dir, fs);

	for (size_t m = 0; m < N_METHODS; m++)
		missing[m] = !selected(o, m)	  ? "not selected (--methods, --workloads)"
			     : methods[m].missing ? methods[m].missing()
						  : NULL;

	for (int li = 0; li < o->n_links; li++)
		link_start(o->links[li]);
	for (int wl = 0; wl < N_WL; wl++)
		if (wl_active(o, wl))
			failures += measure(o, wl, missing);
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
	for (int li = 0; li < o->n_links && wl_active(o, WL_FILE); li++) {
		struct link *l = o->links[li];
		struct cell(*c)[N_METHODS] = cells[WL_FILE][li];

		snprintf(title, sizeof(title),
			 "== Linux %s, %s, files on %s: throughput, MiB/s (median ± half the "
			 "min-max spread)",
			 kernel_release(), l->label, fs);
		table(tf, o, WL_FILE, c, title, fmt_tp);
		table(tf, o, WL_FILE, c,
		      "ratio of throughput to sendfile(2) (median of the per-round ratios)",
		      fmt_ratio);
		table(tf, o, WL_FILE, c, "sender CPU, seconds per GiB (user + system)", fmt_cpu);
		table(tf, o, WL_FILE, c,
		      "sender CPU per byte, ratio to sendfile(2) (below 1: less CPU)",
		      fmt_cpu_ratio);
		table(tf, o, WL_FILE, c, "syscalls per GiB", fmt_calls);
	}
	for (int wl = WL_FILE + 1; wl < N_WL; wl++) {
		const struct workload *w = &workloads[wl];

		for (int li = 0; li < o->n_links && wl_active(o, wl); li++) {
			struct cell(*c)[N_METHODS] = cells[wl][li];

			snprintf(title, sizeof(title),
				 "== Linux %s, %s, files on %s, workload %s: %s; %s\n"
				 "throughput, MiB/s (median ± half the min-max spread; rows: file "
				 "size, bytes per %s)",
				 kernel_release(), o->links[li]->label, fs, w->id, w->about,
				 nagle ? "Nagle on (--nagle)" : "TCP_NODELAY", w->unit);
			table(tf, o, wl, c, title, fmt_tp);
			snprintf(title, sizeof(title), "%ss per second (median)", w->unit);
			table(tf, o, wl, c, title, fmt_rate);
			snprintf(title, sizeof(title),
				 "ratio of throughput to the reference, %s (median of the "
				 "per-round ratios)",
				 w->ref_about);
			table(tf, o, wl, c, title, fmt_ratio);
			table(tf, o, wl, c,
			      "sender CPU per byte, ratio to the same reference (below 1: less "
			      "CPU)",
			      fmt_cpu_ratio);
			snprintf(title, sizeof(title), "syscalls per %s", w->unit);
			table(tf, o, wl, c, title, fmt_calls_item);
		}
	}
	fprintf(tf, "\nmethods:\n");
	for (int wl = 0; wl < N_WL; wl++) {
		if (!wl_active(o, wl))
			continue;
		if (wl != WL_FILE)
			fprintf(tf, " workload %s: %s; %s; ratios to %s\n", workloads[wl].id,
				workloads[wl].about, nagle ? "Nagle on (--nagle)" : "TCP_NODELAY",
				workloads[wl].ref_about);
		for (size_t m = 0; m < N_METHODS; m++)
			if (methods[m].wl == wl)
				fprintf(tf, "  %-10s %s%s%s\n", methods[m].col, methods[m].about,
					missing[m] ? "; n/a here: " : "",
					missing[m] ? missing[m] : "");
	}
	fprintf(tf, "(%.0f s)\n", (double)(now_ns() - t_start) / 1e9);
	fclose(tf);

	/* results.json: the file workload as it always was, the others in
	 * "workloads", each with its own "links". */
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
		fprintf(jf, ", \"workload\": ");
		json_str(jf, workloads[methods[m].wl].id);
		fprintf(jf, ", \"about\": ");
		json_str(jf, methods[m].about);
		fprintf(jf, "}");
	}
	fprintf(jf, "], ");
	json_links(jf, o, WL_FILE, cells[WL_FILE]);
	fprintf(jf, ", \"workloads\": [");
	for (int wl = WL_FILE + 1, sep = 0; wl < N_WL; wl++) {
		const struct workload *w = &workloads[wl];

		if (!wl_active(o, wl))
			continue;
		fprintf(jf, "%s{\"workload\": ", sep++ ? ", " : "");
		json_str(jf, w->id);
		fprintf(jf, ", \"unit\": ");
		json_str(jf, w->unit);
		fprintf(jf, ", \"about\": ");
		json_str(jf, w->about);
		fprintf(jf, ", \"tcp_nodelay\": %s, \"reference\": ", nagle ? "false" : "true");
		json_str(jf, w->ref_about);
		fprintf(jf, ", \"ratio\": ");
		json_str(jf, "per round: MiB/s of the method / MiB/s of the fastest reference "
			     "method in that round; *_median is the median over rounds");
		fprintf(jf, ", ");
		json_links(jf, o, wl, cells[wl]);
		fprintf(jf, "}");
	}
	fprintf(jf, "]}\n");
	fclose(jf);

	/* LINK.dat and LINK-ratio.dat, for the plots (bench.sh); for the
	 * other workloads LINK-WORKLOAD.dat and LINK-WORKLOAD-ratio.dat. */
	for (int wl = 0; wl < N_WL; wl++) {
		if (!wl_active(o, wl))
			continue;
		for (int li = 0; li < o->n_links; li++) {
			char sfx[64], sfxr[80];

			snprintf(sfx, sizeof(sfx), "%s%s", wl == WL_FILE ? "" : "-",
				 wl == WL_FILE ? "" : workloads[wl].id);
			snprintf(sfxr, sizeof(sfxr), "%s-ratio", sfx);
			dat_file(o, wl, o->links[li]->name, sfx, cells[wl][li], 0);
			dat_file(o, wl, o->links[li]->name, sfxr, cells[wl][li], 1);
		}
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
	int failed = 0, wl;
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
	wl = m->wl;
	printf("# zcbench profile %s: files in %s, on %s\n", id, o->dir, fs_type(o->dir));
	for (int li = 0; li < o->n_links; li++)
		link_start(o->links[li]);
	for (int z = 0; z < o->n_sizes[wl]; z++) {
		struct item it;
		size_t size = o->sizes[wl][z];
		unsigned copies;

		item_make(&it, wl, o->dir, size);
		copies = sample_copies(o, it.bytes);
		size_name(size, buf, sizeof(buf));
		for (int li = 0; li < o->n_links; li++) {
			for (int r = 0; r < o->reps; r++) {
				struct sample s;

				run_sample(o->links[li], m, &it, copies, 0, &s);
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
		item_drop(&it);
	}
	for (int li = 0; li < o->n_links; li++)
		link_stop(o->links[li]);
	return failed;
}

/*
 * The smoke test of `make check`: each method of each workload sends two
 * odd-sized files (files16: sixteen of them per call) over each link, and
 * the receiver's checksum must equal the expected one (of verify_items
 * sends in a row: 3 responses, 3 calls). Then one short timed sample per
 * method, whose byte count must match.
 */
static int smoke(struct opts *o)
{
	static const size_t sizes[N_WL][2] = {
		[WL_FILE] = { 4097, MiB + 12345 },
		[WL_RESPONSE] = { 4097, MiB + 12345 },
		[WL_FILES] = { 4097, 64 * KiB + 4321 },
	};
	int passed = 0, failed = 0;

	for (int li = 0; li < o->n_links; li++)
		link_start(o->links[li]);
	for (int wl = 0; wl < N_WL; wl++) {
		for (size_t z = 0; z < 2 && wl_active(o, wl); z++) {
			struct item it;

			item_make(&it, wl, o->dir, sizes[wl][z]);
			for (int li = 0; li < o->n_links; li++) {
				for (size_t m = 0; m < N_METHODS; m++) {
					const char *why;
					struct sample s;

					if (methods[m].wl != wl || !selected(o, m))
						continue;
					why = methods[m].missing ? methods[m].missing() : NULL;
					if (why) {
						printf("ok - bench smoke: %s n/a on this kernel "
						       "(%s)\n",
						       methods[m].id, why);
						passed++;
						continue;
					}
					run_sample(o->links[li], &methods[m], &it,
						   workloads[wl].verify_items, 1, &s);
					if (s.ok)
						run_sample(o->links[li], &methods[m], &it, 3, 0,
							   &s);
					if (s.ok) {
						passed++;
						printf("ok - bench smoke: %s over %s, %" PRIu64
						       " bytes%s, checksum %016" PRIx64 "\n",
						       methods[m].id, o->links[li]->name, it.bytes,
						       wl == WL_FILE ? "" : " x 3 in a row",
						       it.sum);
					} else {
						failed++;
						printf("not ok - bench smoke: %s over %s, %" PRIu64
						       " bytes: %s\n",
						       methods[m].id, o->links[li]->name, it.bytes,
						       s.why);
					}
				}
			}
			item_drop(&it);
		}
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
		"                          [--workloads file,response,files16]\n"
		"                          [--response-sizes LIST] [--files-sizes LIST]\n"
		"                          [--nagle] [--no-pin]\n"
		"       zcbench profile METHOD [--sizes LIST] [--reps N] [--target SIZE]\n"
		"                          [--links lo,veth] [--dir DIR] [--no-pin]\n"
		"       zcbench smoke [--corrupt] [--links lo,veth] [--methods ID,..]\n"
		"                     [--workloads LIST] [--dir DIR]\n");
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
	for (int wl = 0; wl < N_WL; wl++)
		o.wl_on[wl] = 1;
	/* The new workloads' sizes: a small, a medium and a large response;
	 * 16 files of 4 KiB. */
	o.sizes[WL_RESPONSE][o.n_sizes[WL_RESPONSE]++] = 4 * KiB;
	o.sizes[WL_RESPONSE][o.n_sizes[WL_RESPONSE]++] = 64 * KiB;
	o.sizes[WL_RESPONSE][o.n_sizes[WL_RESPONSE]++] = MiB;
	o.sizes[WL_FILES][o.n_sizes[WL_FILES]++] = 4 * KiB;

	if (!strcmp(argv[1], "run")) {
		if (argc < 3)
			usage();
		o.outdir = argv[2];
		i = 3;
		/* Default sizes: 4 KiB to 256 MiB by 16s, then the largest. */
		o.sizes[WL_FILE][o.n_sizes[WL_FILE]++] = 4 * KiB;
		o.sizes[WL_FILE][o.n_sizes[WL_FILE]++] = 64 * KiB;
		o.sizes[WL_FILE][o.n_sizes[WL_FILE]++] = MiB;
		o.sizes[WL_FILE][o.n_sizes[WL_FILE]++] = 16 * MiB;
		o.sizes[WL_FILE][o.n_sizes[WL_FILE]++] = 256 * MiB;
		if (largest_size() > 256 * MiB)
			o.sizes[WL_FILE][o.n_sizes[WL_FILE]++] = largest_size();
	} else if (!strcmp(argv[1], "profile")) {
		if (argc < 3)
			usage();
		profile_method = argv[2];
		i = 3;
		/* 4 KiB over lo, whichever the method's workload. */
		for (int wl = 0; wl < N_WL; wl++) {
			o.sizes[wl][0] = 4 * KiB;
			o.n_sizes[wl] = 1;
		}
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
		} else if (!strcmp(argv[i], "--nagle")) {
			nagle = 1;
		} else if (i + 1 >= argc) {
			usage();
		} else if (!strcmp(argv[i], "--sizes")) {
			/* profile: the sizes of the method's workload */
			for (int wl = 0; wl < N_WL; wl++)
				if (wl == WL_FILE || profile_method)
					parse_sizes(o.sizes[wl], &o.n_sizes[wl], argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--response-sizes")) {
			parse_sizes(o.sizes[WL_RESPONSE], &o.n_sizes[WL_RESPONSE], argv[++i]);
		} else if (!strcmp(argv[i], "--files-sizes")) {
			parse_sizes(o.sizes[WL_FILES], &o.n_sizes[WL_FILES], argv[++i]);
		} else if (!strcmp(argv[i], "--workloads")) {
			for (int wl = 0; wl < N_WL; wl++)
				o.wl_on[wl] = 0;
			for (char *t = strtok(argv[++i], ","); t; t = strtok(NULL, ",")) {
				int wl = 0;

				while (wl < N_WL && strcmp(t, workloads[wl].id))
					wl++;
				if (wl == N_WL)
					usage();
				o.wl_on[wl] = 1;
			}
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
