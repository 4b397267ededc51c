/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_stress.c - many users at once, and faults among them.
 *
 * 4x the CPUs in threads of this process, plus one forked process per
 * CPU running a worker too, all on the library's one /dev/zcopy
 * descriptor, send for ZC_STRESS_SECONDS (default 20) a mix of transfers:
 * files of several sizes at random offsets over TCP on loopback and over
 * veth to a receiver in the peer namespace (ZC_PEER_NETNS/ZC_PEER_ADDR,
 * skipped with a note without them: skbs of lent pages crossing into
 * another namespace), AF_UNIX stream and UDP, blocking and not,
 * zc_sendfile(), zc_sendv() (header, file, trailer) and notified calls;
 * every byte received is checked against the file. Among them, faults,
 * each of which must end in a count or a defined errno, with the bytes
 * that arrived right:
 *  - the peer resets the connection mid-transfer (SO_LINGER 0);
 *  - another thread shuts the socket down, or closes a dup of it, during
 *    a send;
 *  - a file is rewritten, truncated and re-extended and hole-punched
 *    while it is sent: each byte received must be the file's old or new
 *    content at that offset, or zero (a hole, or past a truncation that
 *    was undone), never anything else, and never from past the largest
 *    size the file had;
 *  - SIGUSR1, caught without SA_RESTART, to random worker threads and
 *    processes every 0.1 to 2 ms: an interrupted call must return what
 *    it really sent (the worker goes on from there) or -1/EINTR with the
 *    offset unmoved and nothing sent, as sendfile(2) does; the
 *    receiver's count, equal to the counts' sum, proves nothing was sent
 *    behind an EINTR;
 * and a thread forks children that make a transfer of their own while
 * the rest goes on; another forks children that exec `zcopy send` (some
 * after notified sends of their own, whose notice fd the exec closes
 * with their skbs still queued) to a listener here that checks every
 * byte, or `ls -l /proc/self/fd`, where the library's descriptor must
 * not be (O_CLOEXEC). At the end: notices read equal notified calls that
 * sent, and a plain transfer is right. Prints transfers/s, bytes/s,
 * bytes verified, execs, signals delivered, EINTR and short returns and
 * transfers over veth; no exec or no signal delivered fails, so neither
 * can go unexercised.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Shared with the forked workers: an anonymous shared mapping. */
struct totals {
	atomic_ulong transfers, bytes, verified, corrupt, unexpected, faults, notified, notices,
		forks, forks_bad, execs, execs_bad, signals, eintr, shorts, veth, nomem, efault;
	char first[256]; /* the first unexpected thing seen */
	atomic_int first_taken;
};

static struct totals *tot;
static double deadline;
static atomic_int stop_mutator;

#define NFILES 5
static const size_t file_sizes[NFILES] = { 0, 4095, 65536 + 3, 1 * MiB + 7, 5 * MiB };
static char *files[NFILES];
#define MUT_SIZE (1 * MiB)
static char *mut_file;
static unsigned char *mut_old, *mut_new; /* its two contents */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void bad(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&tot->unexpected, 1);
	if (atomic_exchange(&tot->first_taken, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(tot->first, sizeof(tot->first), fmt, ap);
	va_end(ap);
}

/*
 * Allocation failures (ZC_STRESS_FAULTS=1, on the debug kernels): run.sh
 * has failslab and fail_page_alloc fail allocations of marked tasks, and
 * each send call here is made with its thread marked
 * (/proc/thread-self/make-it-fail), so the receivers, the mutator and
 * softirq work are left alone. A call may then also fail ENOMEM or
 * ENOBUFS, or stop short; like any sendfile(2) user, the worker retries
 * from the offset the call reports.
 */
static int alloc_faults;

static void fail_allocs(int on)
{
	int err = errno;

	if (alloc_faults && make_it_fail(on))
		bad("make-it-fail: %s", errname(errno));
	errno = err;
}

/*
 * A call that failed for want of memory under injected failures. EFAULT
 * is one of those here: the module writes its outputs into the caller's
 * struct before sending (a caller whose struct cannot be written learns
 * it with nothing sent), and that struct, on the library's stack, may be
 * shared copy-on-write with a child another thread forked meanwhile:
 * writing it then takes a new page, and the injector may refuse it.
 * Nothing was sent, and the receiver's count at the end proves it.
 */
static int alloc_failed(ssize_t r)
{
	if (!alloc_faults || r >= 0 || (errno != ENOMEM && errno != ENOBUFS && errno != EFAULT))
		return 0;
	atomic_fetch_add(errno == EFAULT ? &tot->efault : &tot->nomem, 1);
	return 1;
}

/*
 * Where a worker keeps its file offset: a page of its own that fork()
 * does not share (MADV_DONTFORK). The module writes the offset through
 * the pointer after the bytes have gone, as sendfile(2) does, and fails
 * EFAULT, whatever went, if it cannot (sendfile(2)'s contract too). On
 * the worker's stack, a fork() by another thread would make that write
 * need a copy of the page, which the injector may refuse: the count
 * would be lost with the bytes sent. Freed by munmap().
 */
static off_t *offset_page(off_t start)
{
	off_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, 4096, MADV_DONTFORK))
		die("offset page");
	*p = start;
	return p;
}

/* SIGUSR1 interrupts the workers' calls (no SA_RESTART) and does nothing else. */
static __thread unsigned long signals_here; /* for the failure message */

static void on_sigusr1(int sig)
{
	(void)sig;
	signals_here++;
	atomic_fetch_add(&tot->signals, 1);
}

/*
 * The workers take signals anywhere: a connect(2) they interrupt goes on
 * in the background (EINTR), so wait for it instead of failing.
 */
static int connect_sig(int fd, const void *a, socklen_t len)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (!connect(fd, a, len))
		return 0;
	if (errno != EINTR)
		return -1;
	while (poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, -1) < 0)
		if (errno != EINTR)
			return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		errno = err;
		return -1;
	}
	return 0;
}

static int accept_sig(int l)
{
	int fd;

	while ((fd = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	return fd;
}

/*
 * A connected TCP pair over loopback, or with @peer its receiving end in
 * the peer namespace over veth (the listener created there: a socket
 * keeps its namespace); @nb: the sender non-blocking.
 */
static void tcp_pair(int sv[2], int nb, int peer)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l, self = -1;

	if (peer) {
		/* setns() moves this thread only. */
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(veth.netns_fd, CLONE_NEWNET) ||
		    inet_pton(AF_INET, veth.addr, &a.sin_addr) != 1)
			die("enter peer netns");
	}
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (peer && (setns(self, CLONE_NEWNET) || close(self)))
		die("leave peer netns");
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || sv[0] < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &len) || connect_sig(sv[0], &a, sizeof(a)))
		die("tcp pair");
	sv[1] = accept_sig(l);
	if (sv[1] < 0)
		die("accept");
	close(l);
	if (nb)
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
}

/* ---- one transfer ---------------------------------------------------------- */

enum kind { K_TCP, K_UNIX, K_UDP, K_SENDV, K_NOTIFY, K_RESET, K_SHUT, K_MUTATE, K_VETH, K_KINDS };

struct job {
	enum kind kind;
	int nb;
	int fd;		  /* the file */
	size_t file_size; /* its size (files[]) */
	uint64_t seed;	  /* its pattern (files[]) */
	off_t off;
	size_t count;
	int sv[2];
	/* The receiver's view. */
	unsigned char *buf;
	size_t cap, got;
	int reset_after; /* K_RESET: bytes read before resetting */
};

static int expected_errno(enum kind k, int e)
{
	/* A signal before anything was sent, as sendfile(2) gives. */
	if (e == EINTR)
		return 1;
	switch (k) {
	case K_RESET:
		return e == ECONNRESET || e == EPIPE;
	case K_SHUT:
		return e == EPIPE || e == EBADF;
	case K_NOTIFY:
		return e == ENOBUFS || e == EAGAIN;
	default:
		return e == EAGAIN;
	}
}

static void *rx_thread(void *arg)
{
	struct job *j = arg;
	static __thread unsigned char scratch[65536];

	for (;;) {
		unsigned char *to = j->got < j->cap ? j->buf + j->got : scratch;
		size_t room = j->got < j->cap ? j->cap - j->got : sizeof(scratch);
		ssize_t n;

		if (j->kind == K_RESET && j->got >= (size_t)j->reset_after) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(j->sv[1], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(j->sv[1]);
			j->sv[1] = -1;
			return NULL;
		}
		n = read(j->sv[1], to, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		j->got += n;
	}
	return NULL;
}

/* What arrived, byte by byte: the file's, or for K_MUTATE old, new or zero. */
static void verify(struct job *j, size_t upto)
{
	size_t n = upto < j->cap ? upto : j->cap;
	long at;

	if (j->kind == K_MUTATE) {
		for (size_t i = 0; i < n; i++) {
			size_t o = j->off + i;

			if (o >= MUT_SIZE) {
				bad("mutated file: byte %zu sent from past its largest size", o);
				atomic_fetch_add(&tot->corrupt, 1);
				return;
			}
			if (j->buf[i] != mut_old[o] && j->buf[i] != mut_new[o] && j->buf[i]) {
				bad("mutated file: byte at %zu is %#x: neither old %#x, new %#x "
				    "nor 0",
				    o, j->buf[i], mut_old[o], mut_new[o]);
				atomic_fetch_add(&tot->corrupt, 1);
				return;
			}
		}
	} else if ((at = check_pattern(j->buf, n, j->seed, j->off)) >= 0) {
		bad("kind %d: byte %ld of %zu from offset %lld is wrong", j->kind, at, n,
		    (long long)j->off);
		atomic_fetch_add(&tot->corrupt, 1);
		return;
	}
	atomic_fetch_add(&tot->verified, n);
}

static void notices_drain(void)
{
	struct zcopy_notice nt[32];
	ssize_t n;

	while ((n = zc_notices_read(nt, 32)) > 0)
		atomic_fetch_add(&tot->notices, n);
}

static void *shutter(void *arg)
{
	int *fd = arg;

	usleep(200 + (*fd & 7) * 100);
	if (*fd & 1) {
		shutdown(*fd, SHUT_RDWR);
	}
	close(*fd);
	return NULL;
}

static void stream_job(struct job *j, uint64_t *rs)
{
	pthread_t rx, sh;
	int dupfd = -1;
	off_t *off = offset_page(j->off);
	size_t left = j->count, sent = 0;
	static const char hdr[] = "HEADER:", trl[] = ":TRAILER";

	if (j->kind == K_UNIX) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, j->sv))
			die("socketpair");
		if (j->nb)
			fcntl(j->sv[0], F_SETFL, O_NONBLOCK);
	} else {
		tcp_pair(j->sv, j->nb, j->kind == K_VETH);
	}
	j->cap = j->count + sizeof(hdr) + sizeof(trl);
	j->buf = malloc(j->cap + 1);
	j->got = 0;
	if (!j->buf || pthread_create(&rx, NULL, rx_thread, j))
		die("rx");
	if (j->kind == K_SHUT) {
		/* Another thread shuts down or closes a dup of the socket meanwhile. */
		dupfd = fcntl(j->sv[0], F_DUPFD_CLOEXEC, 0);
		if (pthread_create(&sh, NULL, shutter, &dupfd))
			die("shutter");
	}
	if (j->kind == K_SENDV) {
		struct zcopy_seg segs[3] = { zc_seg_mem(hdr, sizeof(hdr)),
					     zc_seg_file(j->fd, j->off, j->count),
					     zc_seg_mem(trl, sizeof(trl)) };
		struct zcopy_seg *s = segs;
		unsigned int nr = 3;
		size_t want = sizeof(hdr) + j->count + sizeof(trl);

		/* The file may be shorter than asked: then the vector stops there. */
		if (j->off + j->count > j->file_size)
			want = sizeof(hdr) +
			       (j->off < (off_t)j->file_size ? j->file_size - j->off : 0);
		while (sent < want) {
			ssize_t r;

			fail_allocs(1);
			r = zc_sendv(j->sv[0], s, nr, ZCOPY_SEND_NOSIGNAL, NULL);
			fail_allocs(0);
			if (alloc_failed(r))
				continue;

			if (r < 0 && errno == EAGAIN) {
				poll(&(struct pollfd){ .fd = j->sv[0], .events = POLLOUT }, 1,
				     1000);
				continue;
			}
			/* Nothing sent: the receiver's count below proves it. */
			if (r < 0 && errno == EINTR) {
				atomic_fetch_add(&tot->eintr, 1);
				continue;
			}
			if (r > 0 && !j->nb && sent + r < want)
				atomic_fetch_add(&tot->shorts, 1);
			if (r <= 0) {
				if (r < 0)
					bad("zc_sendv: %s", errname(errno));
				break;
			}
			sent += r;
			if (zc_sendv_advance(&s, &nr, r))
				break;
		}
	} else {
		while (left) {
			ssize_t r;

			fail_allocs(1);
			if (j->kind == K_NOTIFY) {
				r = zc_sendfile_notify(j->sv[0], j->fd, off, left,
						       ZCOPY_SEND_NOSIGNAL, splitmix64(rs), NULL);
				if (r > 0)
					atomic_fetch_add(&tot->notified, 1);
				if (r < 0 && errno == ENOBUFS) {
					fail_allocs(0);
					notices_drain();
					fail_allocs(1);
					r = zc_sendfile_flags(j->sv[0], j->fd, off, left,
							      ZCOPY_SEND_NOSIGNAL);
				}
			} else {
				r = zc_sendfile_flags(j->sv[0], j->fd, off, left,
						      ZCOPY_SEND_NOSIGNAL);
			}
			fail_allocs(0);
			if (alloc_failed(r))
				continue;
			if (r < 0 && errno == EAGAIN) {
				poll(&(struct pollfd){ .fd = j->sv[0], .events = POLLOUT }, 1,
				     1000);
				continue;
			}
			/*
			 * Interrupted before sending anything, as sendfile(2):
			 * the offset unmoved, and the receiver's count at the
			 * end equal to what the counts added up to.
			 */
			if (r < 0 && errno == EINTR) {
				atomic_fetch_add(&tot->eintr, 1);
				if (*off != j->off + (off_t)sent)
					bad("kind %d: EINTR moved the offset to %lld after %zu "
					    "bytes from %lld",
					    j->kind, (long long)*off, sent, (long long)j->off);
				continue;
			}
			if (r < 0) {
				if (!expected_errno(j->kind, errno) ||
				    (j->kind != K_RESET && j->kind != K_SHUT))
					bad("kind %d: zc_sendfile failed: %s after %zu of %zu "
					    "bytes from %lld (%lu signals to this thread)",
					    j->kind, errname(errno), sent, j->count,
					    (long long)j->off, signals_here);
				else
					atomic_fetch_add(&tot->faults, 1);
				break;
			}
			if (r == 0)
				break; /* end of file (or truncated under it) */
			if (*off != j->off + (off_t)(sent + r))
				bad("offset %lld after %zu bytes from %lld", (long long)*off,
				    sent + r, (long long)j->off);
			sent += r;
			left -= r;
			/* Blocking, not at end of file: a signal cut it short. */
			if (left && !j->nb && j->kind != K_MUTATE && j->kind != K_RESET &&
			    j->kind != K_SHUT && *off < (off_t)j->file_size)
				atomic_fetch_add(&tot->shorts, 1);
		}
		if (j->kind == K_NOTIFY)
			notices_drain();
	}
	if (j->kind == K_SHUT)
		pthread_join(sh, NULL);
	shutdown(j->sv[0], SHUT_WR);
	pthread_join(rx, NULL);
	close(j->sv[0]);
	if (j->sv[1] >= 0)
		close(j->sv[1]);
	if (j->kind == K_SENDV) {
		if (j->got != sent || (sent >= sizeof(hdr) && memcmp(j->buf, hdr, sizeof(hdr))))
			bad("zc_sendv: sent %zu, received %zu", sent, j->got);
		if (j->got > sizeof(hdr)) {
			size_t file_part = j->got - sizeof(hdr);

			if (file_part > j->count)
				file_part = j->count;
			memmove(j->buf, j->buf + sizeof(hdr), file_part);
			verify(j, file_part);
		}
	} else {
		/* A reset may lose bytes in flight; never may bytes be wrong or extra. */
		if (j->got > sent || (j->kind != K_RESET && j->kind != K_SHUT && j->got != sent))
			bad("kind %d: sent %zu, received %zu", j->kind, sent, j->got);
		verify(j, j->got);
	}
	if (j->kind != K_MUTATE && j->kind != K_RESET && j->kind != K_SHUT && j->kind != K_SENDV &&
	    j->off < (off_t)j->file_size &&
	    sent != (j->count < j->file_size - j->off ? j->count : j->file_size - j->off))
		bad("kind %d: %zu of %zu bytes sent", j->kind, sent, j->count);
	if (j->kind == K_VETH)
		atomic_fetch_add(&tot->veth, 1);
	atomic_fetch_add(&tot->bytes, sent);
	free(j->buf);
	munmap(off, 4096);
}

static void udp_job(struct job *j)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | (j->nb ? SOCK_NONBLOCK : 0), 0);
	struct timeval tv = { .tv_sec = 2 };
	off_t off = j->off;
	ssize_t n, got;

	if (r < 0 || s < 0 || bind(r, (void *)&a, sizeof(a)) || getsockname(r, (void *)&a, &len) ||
	    connect_sig(s, &a, sizeof(a)))
		die("udp");
	setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	j->count = j->count % 9000;
	j->buf = malloc(65536);
	fail_allocs(1);
	n = zc_sendfile(s, j->fd, &off, j->count);
	fail_allocs(0);
	if (alloc_failed(n)) {
		/* Counted; nothing to check. */
	} else if (n > 0) {
		while ((got = recv(r, j->buf, 65536, 0)) < 0 && errno == EINTR)
			;
		j->cap = 65536;
		if (got != n)
			bad("udp: sent %zd, received %zd", n, got);
		else
			verify(j, got);
		atomic_fetch_add(&tot->bytes, n);
	} else if (n < 0 && errno == EINTR) {
		atomic_fetch_add(&tot->eintr, 1);
	} else if (n < 0 && !expected_errno(K_UDP, errno)) {
		bad("udp: %s", errname(errno));
	}
	free(j->buf);
	close(r);
	close(s);
}

static void one_job(uint64_t *rs)
{
	struct job j = { .kind = (enum kind)(splitmix64(rs) % K_KINDS),
			 .nb = (int)(splitmix64(rs) & 1) };
	int f = (int)(splitmix64(rs) % NFILES);

	if (j.kind == K_VETH && veth.netns_fd < 0)
		j.kind = K_TCP; /* no peer namespace: noted at the start */
	if (j.kind == K_MUTATE) {
		j.fd = open(mut_file, O_RDONLY | O_CLOEXEC);
		j.file_size = MUT_SIZE;
	} else {
		j.fd = open(files[f], O_RDONLY | O_CLOEXEC);
		j.file_size = file_sizes[f];
		j.seed = 100 + f;
	}
	if (j.fd < 0)
		die("open");
	if (j.kind == K_RESET || j.kind == K_SHUT) {
		j.nb = 0;
		j.file_size = file_sizes[NFILES - 1];
		j.seed = 100 + NFILES - 1;
		close(j.fd);
		j.fd = open(files[NFILES - 1], O_RDONLY | O_CLOEXEC);
		j.reset_after = (int)(splitmix64(rs) % (256 * 1024));
	}
	j.off = j.file_size ? (off_t)(splitmix64(rs) % (j.file_size + 1)) : 0;
	j.count = (size_t)(splitmix64(rs) % (j.file_size + 2));
	if (splitmix64(rs) % 4 == 0)
		j.count = j.file_size; /* past the end, often */
	if (j.kind == K_UDP)
		udp_job(&j);
	else
		stream_job(&j, rs);
	close(j.fd);
	atomic_fetch_add(&tot->transfers, 1);
}

/*
 * Under the fault injectors, a worker's SIGUSR1 frame goes on a stack of
 * its own that fork() does not share (MADV_DONTFORK), written once here so
 * that its pages exist. The kernel writes a signal frame as the thread
 * returns from a call, still marked to fail allocations; on the thread's
 * stack, shared copy-on-write with a child another thread forked, that
 * write needs a new page, and a refused one is a SIGSEGV the kernel forces
 * (the test's, not zcopy's). Never freed: the thread keeps it to the end.
 */
static void worker_altstack(void)
{
	size_t size = 256 * 1024;
	void *p;

	if (!alloc_faults)
		return;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, size, MADV_DONTFORK))
		die("signal stack");
	memset(p, 0, size);
	if (sigaltstack(&(stack_t){ .ss_sp = p, .ss_size = size }, NULL))
		die("sigaltstack");
}

static void worker_loop(uint64_t seed)
{
	uint64_t rs = seed;

	worker_altstack();

	while (now() < deadline)
		one_job(&rs);
}

static void *worker(void *arg)
{
	worker_loop((uint64_t)(uintptr_t)arg);
	return NULL;
}

/* Rewrite, truncate and re-extend, punch holes: only old, new or zero bytes. */
static void *mutator(void *arg)
{
	int fd = open(mut_file, O_RDWR | O_CLOEXEC);
	uint64_t rs = (uint64_t)(uintptr_t)arg;

	if (fd < 0)
		die("mutator");
	while (!atomic_load(&stop_mutator)) {
		size_t at = splitmix64(&rs) % MUT_SIZE, len = splitmix64(&rs) % (MUT_SIZE - at) + 1;

		switch (splitmix64(&rs) % 4) {
		case 0:
			if (pwrite(fd, mut_new + at, len, at) < 0)
				die("pwrite");
			break;
		case 1:
			if (pwrite(fd, mut_old + at, len, at) < 0)
				die("pwrite");
			break;
		case 2:
			if (ftruncate(fd, at) || ftruncate(fd, MUT_SIZE))
				die("ftruncate");
			break;
		default:
			if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at, len))
				die("punch");
			break;
		}
		atomic_fetch_add(&tot->faults, 1);
		usleep(200);
	}
	close(fd);
	return NULL;
}

/* Children forked while transfers run: one transfer each, checked there. */
static void *forker(void *arg)
{
	(void)arg;
	while (now() < deadline) {
		pid_t pid = fork();
		int status;

		if (pid < 0)
			die("fork");
		if (!pid) {
			int sv[2], in = open(files[2], O_RDONLY | O_CLOEXEC);
			unsigned char buf[4096];
			off_t off = 5;

			unix_pair(sv);
			_exit(zc_sendfile(sv[0], in, &off, 4000) == 4000 &&
					      read(sv[1], buf, 4000) == 4000 &&
					      check_pattern(buf, 4000, 102, 5) < 0
				      ? 0
				      : 1);
		}
		if (waitpid(pid, &status, 0) != pid)
			die("waitpid");
		atomic_fetch_add(&tot->forks, 1);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			atomic_fetch_add(&tot->forks_bad, 1);
		usleep(50000);
	}
	return NULL;
}

/* ---- exec and signals during transfers ----------------------------------- */

/* An exec'd child that went wrong: counted, and the first one said. */
static void exec_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void exec_bad(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&tot->execs_bad, 1);
	bad("exec: %s", msg);
}

/* All of a connection to EOF (at most @cap bytes kept), or -1 on a timeout. */
static ssize_t read_all(int fd, unsigned char *buf, size_t cap)
{
	struct timeval tv = { .tv_sec = 30 };
	size_t got = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < cap && (n = read(fd, buf + got, cap - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += n;
	}
	return got;
}

static int accept_within(int l, int ms)
{
	if (poll(&(struct pollfd){ .fd = l, .events = POLLIN }, 1, ms) != 1)
		return -1;
	return accept4(l, NULL, NULL, SOCK_CLOEXEC);
}

/*
 * Children exec'd while the transfers run: the CLI `zcopy send` (its own
 * /dev/zcopy, its own library) to a listener here that checks each byte;
 * half of them first make notified sends of their own and exec with
 * those bytes still queued, so the exec closes the child's notice fd
 * under skbs in flight (the notices arrive on the shared description:
 * counted as the workers' are). One in eight execs `ls -l /proc/self/fd`
 * instead: the library's descriptor must not be there (O_CLOEXEC).
 */
static void *execer(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint64_t rs = (uint64_t)(uintptr_t)arg;
	unsigned char *buf = malloc(file_sizes[NFILES - 1] + 1);
	char to[40], offs[24], counts[24];

	if (l < 0 || !buf || bind(l, (void *)&a, sizeof(a)) || listen(l, 4) ||
	    getsockname(l, (void *)&a, &len))
		die("execer");
	snprintf(to, sizeof(to), "127.0.0.1:%d", ntohs(a.sin_port));
	while (now() < deadline) {
		int f = 1 + (int)(splitmix64(&rs) % (NFILES - 1)),
		    notified = (int)(splitmix64(&rs) & 1);
		int ls = splitmix64(&rs) % 8 == 0, pipefd[2] = { -1, -1 }, c, status;
		size_t size = file_sizes[f];
		off_t off = (off_t)(splitmix64(&rs) % size);
		size_t count = splitmix64(&rs) % (size - off) + 1;
		ssize_t got;
		pid_t pid;

		snprintf(offs, sizeof(offs), "%lld", (long long)off);
		snprintf(counts, sizeof(counts), "%zu", count);
		if (ls && pipe2(pipefd, O_CLOEXEC))
			die("pipe");
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			int dn = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (ls) {
				dup2(pipefd[1], 1);
				execl("/bin/ls", "ls", "-l", "/proc/self/fd/", (char *)NULL);
				_exit(127);
			}
			if (notified) {
				int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				int in = open(files[f], O_RDONLY | O_CLOEXEC);
				off_t o = 0;

				if (s < 0 || in < 0 || connect(s, (void *)&a, sizeof(a)))
					_exit(3);
				while (o < (off_t)size) {
					ssize_t r = zc_sendfile_notify(
						s, in, &o, size - o, ZCOPY_SEND_NOSIGNAL, 1, NULL);

					if (r > 0)
						atomic_fetch_add(&tot->notified, 1);
					if (r < 0 && errno == ENOBUFS) {
						notices_drain();
						r = zc_sendfile_flags(s, in, &o, size - o,
								      ZCOPY_SEND_NOSIGNAL);
					}
					if (r <= 0)
						_exit(4);
				}
				/* s is O_CLOEXEC: the exec closes it, its bytes queued. */
			}
			dup2(dn, 1);
			execl("/bin/zcopy", "zcopy", "send", "-q", "--offset", offs, "--count",
			      counts, files[f], to, (char *)NULL);
			_exit(127);
		}
		if (ls) {
			char out[4096];
			ssize_t n;

			close(pipefd[1]);
			n = read_all(pipefd[0], (unsigned char *)out, sizeof(out) - 1);
			close(pipefd[0]);
			out[n > 0 ? n : 0] = 0;
			if (n <= 0 || !strstr(out, "->"))
				exec_bad("ls -l /proc/self/fd printed nothing: %zd", n);
			else if (strstr(out, "/dev/zcopy"))
				exec_bad("the library's /dev/zcopy fd survived exec: %.150s", out);
		}
		if (!ls && notified) {
			/* The notified sends' connection: all of the file from 0. */
			c = accept_within(l, 30000);
			got = c < 0 ? -1 : read_all(c, buf, size + 1);
			if (got != (ssize_t)size || check_pattern(buf, size, 100 + f, 0) >= 0)
				exec_bad("notified sends before exec: %zd of %zu bytes or wrong",
					 got, size);
			else
				atomic_fetch_add(&tot->verified, size);
			if (c >= 0)
				close(c);
		}
		if (!ls) {
			c = accept_within(l, 30000);
			got = c < 0 ? -1 : read_all(c, buf, count + 1);
			if (got != (ssize_t)count || check_pattern(buf, count, 100 + f, off) >= 0)
				exec_bad("zcopy send --offset %s --count %s %s: %zd bytes or wrong",
					 offs, counts, files[f], got);
			else
				atomic_fetch_add(&tot->verified, count);
			if (c >= 0)
				close(c);
		}
		if (waitpid(pid, &status, 0) != pid)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			exec_bad("%s ended with status %#x", ls ? "ls" : "zcopy send", status);
		atomic_fetch_add(&tot->execs, 1);
		usleep(20000);
	}
	free(buf);
	close(l);
	return NULL;
}

static pthread_t *sig_threads;
static pid_t *sig_pids;
static int sig_nthreads, sig_nprocs;

/* SIGUSR1 to a random worker thread or process every 0.1 to 2 ms. */
static void *signaler(void *arg)
{
	uint64_t rs = (uint64_t)(uintptr_t)arg;

	while (now() < deadline) {
		usleep(100 + splitmix64(&rs) % 1900);
		if (splitmix64(&rs) % 4 == 0)
			kill(sig_pids[splitmix64(&rs) % sig_nprocs], SIGUSR1);
		else
			pthread_kill(sig_threads[splitmix64(&rs) % sig_nthreads], SIGUSR1);
	}
	return NULL;
}

void test_stress(void)
{
	const char *env = getenv("ZC_STRESS_SECONDS");
	double seconds = env && *env ? atof(env) : 20, start;
	const char *faults_env = getenv("ZC_STRESS_FAULTS");
	long slab0 = read_long(FAILSLAB_TIMES), page0 = read_long(FAIL_PAGE_TIMES);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = (int)(4 * (cpus > 0 ? cpus : 1)), nprocs = (int)(cpus > 0 ? cpus : 1);
	pthread_t *th = calloc(nthreads, sizeof(*th)), mut, fk, ex, sg;
	/* No SA_RESTART; the workers' own stack for it (worker_altstack()). */
	struct sigaction sa = { .sa_handler = on_sigusr1, .sa_flags = SA_ONSTACK }, old_sa;
	pid_t *pids = calloc(nprocs, sizeof(*pids));
	char name[32];
	int fd;

	tot = mmap(NULL, sizeof(*tot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tot == MAP_FAILED || !th || !pids)
		die("stress setup");
	memset(tot, 0, sizeof(*tot));
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "stress-%d", i);
		files[i] = strdup(make_file(name, file_sizes[i], 100 + i));
	}
	mut_old = malloc(MUT_SIZE);
	mut_new = malloc(MUT_SIZE);
	pattern(200, 0, mut_old, MUT_SIZE);
	pattern(201, 0, mut_new, MUT_SIZE);
	mut_file = strdup(make_file("stress-mut", 0, 0));
	fd = open(mut_file, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, mut_old, MUT_SIZE, 0) != MUT_SIZE)
		die("stress-mut");
	close(fd);
	if (veth.netns_fd < 0)
		note("stress: ZC_PEER_NETNS/ZC_PEER_ADDR unset: no transfers over veth");
	{
		int fl = fcntl(zc_device_fd(), F_GETFD);

		if (fl < 0 || !(fl & FD_CLOEXEC))
			bad("the library's /dev/zcopy fd is not O_CLOEXEC (%#x)", fl);
	}
	alloc_faults = faults_env && !strcmp(faults_env, "1");
	if (alloc_faults && (slab0 <= 0 || page0 <= 0))
		bad("ZC_STRESS_FAULTS=1 but the injectors are not set up (times %ld, %ld)", slab0,
		    page0);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, &old_sa))
		die("sigaction");
	note("stress: %d threads and %d processes on %ld CPUs for %.0f s, one /dev/zcopy fd (%d)",
	     nthreads, nprocs, cpus, seconds, zc_device_fd());

	start = now();
	deadline = start + seconds;
	/* The processes first, before any thread exists to be lost by fork. */
	for (int i = 0; i < nprocs; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i]) {
			worker_loop(1000 + i);
			notices_drain();
			_exit(0);
		}
	}
	if (pthread_create(&mut, NULL, mutator, (void *)(uintptr_t)7) ||
	    pthread_create(&fk, NULL, forker, NULL) ||
	    pthread_create(&ex, NULL, execer, (void *)(uintptr_t)11))
		die("pthread_create");
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1)))
			die("pthread_create");
	sig_threads = th;
	sig_nthreads = nthreads;
	sig_pids = pids;
	sig_nprocs = nprocs;
	if (pthread_create(&sg, NULL, signaler, (void *)(uintptr_t)13))
		die("pthread_create");
	/* The signaler first: it must not signal a thread that was joined. */
	pthread_join(sg, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	pthread_join(fk, NULL);
	pthread_join(ex, NULL);
	atomic_store(&stop_mutator, 1);
	pthread_join(mut, NULL);
	for (int i = 0; i < nprocs; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad("worker process %d ended with status %#x", i, status);
	}
	/* Every notified call that sent gets its notice, once its skbs are gone. */
	for (int i = 0; i < 100 && atomic_load(&tot->notices) < atomic_load(&tot->notified); i++) {
		notices_drain();
		usleep(50000);
	}
	notices_drain();
	{
		double el = now() - start;

		note("stress: %lu transfers (%.0f/s), %lu bytes sent (%.1f MB/s), %lu bytes "
		     "verified, %lu faults injected or met, %lu forks, %lu execs, %lu signals "
		     "delivered, %lu EINTR and %lu short returns, %lu transfers over veth",
		     tot->transfers, tot->transfers / el, tot->bytes, tot->bytes / el / 1e6,
		     tot->verified, tot->faults, tot->forks, tot->execs, tot->signals, tot->eintr,
		     tot->shorts, tot->veth);
	}
	sigaction(SIGUSR1, &old_sa, NULL);
	if (alloc_faults) {
		long slab = slab0 - read_long(FAILSLAB_TIMES),
		     page = page0 - read_long(FAIL_PAGE_TIMES);

		note("stress: allocation failures injected: failslab %ld, fail_page_alloc %ld; %lu "
		     "calls failed ENOMEM or ENOBUFS and %lu EFAULT before sending, all retried",
		     slab, page, tot->nomem, tot->efault);
		report(slab > 0 && page > 0,
		       "stress: allocations failed under load (both injectors)",
		       "failslab %ld, fail_page_alloc %ld", slab, page);
	}
	report(!tot->unexpected && !tot->corrupt && tot->transfers > 0 && tot->verified > 0,
	       "stress: every call a count or a defined errno, every received byte right",
	       "%lu unexpected, %lu corrupt; first: %s", tot->unexpected, tot->corrupt, tot->first);
	report(tot->notices == tot->notified, "stress: one notice per notified call that sent",
	       "%lu notified, %lu notices", tot->notified, tot->notices);
	report(tot->forks > 0 && !tot->forks_bad,
	       "stress: children forked during transfers sent right", "%lu of %lu failed",
	       tot->forks_bad, tot->forks);
	report(tot->execs > 0 && !tot->execs_bad,
	       "stress: children exec'd during transfers (zcopy send, some after notified "
	       "sends) sent right, without the library's fd",
	       "%lu of %lu failed; first: %s", tot->execs_bad, tot->execs, tot->first);
	report(tot->signals > 0,
	       "stress: signals at random points: each call a count or EINTR with nothing sent",
	       "%lu signals delivered", tot->signals);
	if (veth.netns_fd >= 0)
		report(tot->veth > 0, "stress: transfers over veth to the peer namespace right",
		       "%lu over veth", tot->veth);
	{
		int sv[2], in = open(files[3], O_RDONLY | O_CLOEXEC);
		unsigned char buf[1000];
		off_t off = 77;

		unix_pair(sv);
		report(zc_sendfile(sv[0], in, &off, 1000) == 1000 &&
			       read(sv[1], buf, 1000) == 1000 &&
			       check_pattern(buf, 1000, 103, 77) < 0,
		       "stress: a transfer afterwards is right", "%s", errname(errno));
		close(sv[0]);
		close(sv[1]);
		close(in);
	}
	for (int i = 0; i < NFILES; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	unlink(mut_file);
	free(mut_file);
	free(mut_old);
	free(mut_new);
	free(th);
	free(pids);
	munmap(tot, sizeof(*tot));
}
