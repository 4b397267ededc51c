/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_stress.c - many users at once, and faults among them.
 *
 * 4x the CPUs in threads of this process, plus one forked process per
 * CPU running a worker too, all on the library's one /dev/zcopy
 * descriptor, send for ZC_STRESS_SECONDS (default 20) a mix of transfers:
 * files of several sizes at random offsets over TCP on loopback, AF_UNIX
 * stream and UDP, blocking and not, zc_sendfile(), zc_sendv() (header,
 * file, trailer) and notified calls; every byte received is checked
 * against the file. Among them, faults, each of which must end in a count
 * or a defined errno, with the bytes that arrived right:
 *  - the peer resets the connection mid-transfer (SO_LINGER 0);
 *  - another thread shuts the socket down, or closes a dup of it, during
 *    a send;
 *  - a file is rewritten, truncated and re-extended and hole-punched
 *    while it is sent: each byte received must be the file's old or new
 *    content at that offset, or zero (a hole, or past a truncation that
 *    was undone), never anything else, and never from past the largest
 *    size the file had;
 * and a thread forks children that make a transfer of their own while
 * the rest goes on. At the end: notices read equal notified calls that
 * sent, and a plain transfer is right. Prints transfers/s, bytes/s and
 * bytes verified.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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
		forks, forks_bad;
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

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A connected TCP pair over loopback; @nb: the sender non-blocking. */
static void tcp_pair(int sv[2], int nb)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || sv[0] < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &len) || connect(sv[0], (void *)&a, sizeof(a)))
		die("tcp pair");
	sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (sv[1] < 0)
		die("accept");
	close(l);
	if (nb)
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
}

/* ---- one transfer ---------------------------------------------------------- */

enum kind { K_TCP, K_UNIX, K_UDP, K_SENDV, K_NOTIFY, K_RESET, K_SHUT, K_MUTATE, K_KINDS };

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
	off_t off = j->off;
	size_t left = j->count, sent = 0;
	static const char hdr[] = "HEADER:", trl[] = ":TRAILER";

	if (j->kind == K_UNIX) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, j->sv))
			die("socketpair");
		if (j->nb)
			fcntl(j->sv[0], F_SETFL, O_NONBLOCK);
	} else {
		tcp_pair(j->sv, j->nb);
	}
	j->cap = j->count + sizeof(hdr) + sizeof(trl);
	j->buf = malloc(j->cap + 1);
	j->got = 0;
	if (!j->buf || pthread_create(&rx, NULL, rx_thread, j))
		die("rx");
	if (j->kind == K_SHUT) {
		/* Another thread shuts down or closes a dup of the socket meanwhile. */
		dupfd = dup(j->sv[0]);
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
			ssize_t r = zc_sendv(j->sv[0], s, nr, ZCOPY_SEND_NOSIGNAL, NULL);

			if (r < 0 && errno == EAGAIN) {
				poll(&(struct pollfd){ .fd = j->sv[0], .events = POLLOUT }, 1,
				     1000);
				continue;
			}
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

			if (j->kind == K_NOTIFY) {
				r = zc_sendfile_notify(j->sv[0], j->fd, &off, left,
						       ZCOPY_SEND_NOSIGNAL, next(rs), NULL);
				if (r > 0)
					atomic_fetch_add(&tot->notified, 1);
				if (r < 0 && errno == ENOBUFS) {
					notices_drain();
					r = zc_sendfile_flags(j->sv[0], j->fd, &off, left,
							      ZCOPY_SEND_NOSIGNAL);
				}
			} else {
				r = zc_sendfile_flags(j->sv[0], j->fd, &off, left,
						      ZCOPY_SEND_NOSIGNAL);
			}
			if (r < 0 && errno == EAGAIN) {
				poll(&(struct pollfd){ .fd = j->sv[0], .events = POLLOUT }, 1,
				     1000);
				continue;
			}
			if (r < 0) {
				if (!expected_errno(j->kind, errno) ||
				    (j->kind != K_RESET && j->kind != K_SHUT))
					bad("kind %d: zc_sendfile failed: %s", j->kind,
					    errname(errno));
				else
					atomic_fetch_add(&tot->faults, 1);
				break;
			}
			if (r == 0)
				break; /* end of file (or truncated under it) */
			if (off != j->off + (off_t)(sent + r))
				bad("offset %lld after %zu bytes from %lld", (long long)off,
				    sent + r, (long long)j->off);
			sent += r;
			left -= r;
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
	atomic_fetch_add(&tot->bytes, sent);
	free(j->buf);
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
	    connect(s, (void *)&a, sizeof(a)))
		die("udp");
	setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	j->count = j->count % 9000;
	j->buf = malloc(65536);
	n = zc_sendfile(s, j->fd, &off, j->count);
	if (n > 0) {
		got = recv(r, j->buf, 65536, 0);
		j->cap = 65536;
		if (got != n)
			bad("udp: sent %zd, received %zd", n, got);
		else
			verify(j, got);
		atomic_fetch_add(&tot->bytes, n);
	} else if (n < 0 && !expected_errno(K_UDP, errno)) {
		bad("udp: %s", errname(errno));
	}
	free(j->buf);
	close(r);
	close(s);
}

static void one_job(uint64_t *rs)
{
	struct job j = { .kind = (enum kind)(next(rs) % K_KINDS), .nb = (int)(next(rs) & 1) };
	int f = (int)(next(rs) % NFILES);

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
		j.reset_after = (int)(next(rs) % (256 * 1024));
	}
	j.off = j.file_size ? (off_t)(next(rs) % (j.file_size + 1)) : 0;
	j.count = (size_t)(next(rs) % (j.file_size + 2));
	if (next(rs) % 4 == 0)
		j.count = j.file_size; /* past the end, often */
	if (j.kind == K_UDP)
		udp_job(&j);
	else
		stream_job(&j, rs);
	close(j.fd);
	atomic_fetch_add(&tot->transfers, 1);
}

static void worker_loop(uint64_t seed)
{
	uint64_t rs = seed;

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
		size_t at = next(&rs) % MUT_SIZE, len = next(&rs) % (MUT_SIZE - at) + 1;

		switch (next(&rs) % 4) {
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

void test_stress(void)
{
	const char *env = getenv("ZC_STRESS_SECONDS");
	double seconds = env && *env ? atof(env) : 20, start;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = (int)(4 * (cpus > 0 ? cpus : 1)), nprocs = (int)(cpus > 0 ? cpus : 1);
	pthread_t *th = calloc(nthreads, sizeof(*th)), mut, fk;
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
	    pthread_create(&fk, NULL, forker, NULL))
		die("pthread_create");
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1)))
			die("pthread_create");
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	pthread_join(fk, NULL);
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
		     "verified, %lu faults injected or met, %lu forks",
		     tot->transfers, tot->transfers / el, tot->bytes, tot->bytes / el / 1e6,
		     tot->verified, tot->faults, tot->forks);
	}
	report(!tot->unexpected && !tot->corrupt && tot->transfers > 0 && tot->verified > 0,
	       "stress: every call a count or a defined errno, every received byte right",
	       "%lu unexpected, %lu corrupt; first: %s", tot->unexpected, tot->corrupt, tot->first);
	report(tot->notices == tot->notified, "stress: one notice per notified call that sent",
	       "%lu notified, %lu notices", tot->notified, tot->notices);
	report(tot->forks > 0 && !tot->forks_bad,
	       "stress: children forked during transfers sent right", "%lu of %lu failed",
	       tot->forks_bad, tot->forks);
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
