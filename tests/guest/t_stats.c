/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_stats.c - the "zcopy" generic netlink family, through libzcopy.
 *
 * Known transfers, and the counters must move by exactly what they did:
 * zero-copy over loopback, copied by a route without scatter-gather, by a
 * memory segment and by a procfs file, three errnos; a cold ext4 file
 * read in. A transfer on a socket of the peer namespace counts there and
 * not here. Reset, events and settings need CAP_NET_ADMIN, reading does
 * not. Every call is reported by exactly one event, as it happened; a
 * flood over the rate limit loses events, and what it lost is told both
 * by the events that follow and by the counters.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/zcopy_netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NCOUNTERS (ZCOPY_A_STATS_MAX + 1)

/* What the counters must have moved by; errors by errno. */
struct expect {
	uint64_t value[NCOUNTERS];
	uint64_t errors[ZC_ERRNO_MAX + 1];
};

static void get_counters(struct zc_counters *c)
{
	if (zc_stats_get(c) < 0)
		die("zc_stats_get");
}

/*
 * @after - @before must equal @want for every counter but the page and
 * readahead ones (which depend on the page cache: the callers check
 * them) and in_flight (a level: 0 at rest). Reports under @name.
 */
static void check_delta(const char *name, const struct zc_counters *before,
			const struct zc_counters *after, const struct expect *want)
{
	char what[128];

	for (unsigned int i = ZCOPY_A_STATS_CALLS_SENDFILE; i < NCOUNTERS; i++) {
		uint64_t d = after->value[i] - before->value[i];

		if (i == ZCOPY_A_STATS_ERROR ||
		    (i >= ZCOPY_A_STATS_PAGES_CACHED && i <= ZCOPY_A_STATS_READAHEAD_ASYNC))
			continue;
		if (i == ZCOPY_A_STATS_IN_FLIGHT) {
			snprintf(what, sizeof(what), "%s: in_flight is 0 at rest", name);
			report(after->value[i] == 0, what, "%llu",
			       (unsigned long long)after->value[i]);
			continue;
		}
		snprintf(what, sizeof(what), "%s: %s moved by %llu", name, zc_stat_name(i),
			 (unsigned long long)want->value[i]);
		report(d == want->value[i], what, "moved by %llu", (unsigned long long)d);
	}
	for (unsigned int e = 0; e <= ZC_ERRNO_MAX; e++) {
		uint64_t d = after->errors[e] - before->errors[e];

		if (!d && !want->errors[e])
			continue;
		snprintf(what, sizeof(what), "%s: errors[%s] moved by %llu", name, errname(e),
			 (unsigned long long)want->errors[e]);
		report(d == want->errors[e], what, "moved by %llu", (unsigned long long)d);
	}
}

static uint64_t delta(const struct zc_counters *before, const struct zc_counters *after,
		      unsigned int attr)
{
	return after->value[attr] - before->value[attr];
}

/* ---- transfers whose counts are known ------------------------------------ */

/*
 * Send @len bytes of @fd from offset 0 to a receiver on @p, in as many
 * zc_sendfile_ex() calls as it takes; count them in @want, with the
 * bytes as zero-copy or copied per the calls' own reports, which must
 * say @zc (all zero-copy) or not (all copied). Returns 0 if all went.
 */
static int send_counted(const struct peer *p, int fd, size_t len, int zc, unsigned int copy_attr,
			struct expect *want)
{
	struct rx rx;
	int sock = rx_start(&rx, p, 0, -1), bad = 0;
	off_t off = 0;

	while ((size_t)off < len) {
		struct zc_stats st;
		ssize_t n = zc_sendfile_ex(sock, fd, &off, len - off, 0, &st);

		want->value[ZCOPY_A_STATS_CALLS_SENDFILE]++;
		if (n <= 0) {
			bad = 1;
			break;
		}
		if (st.zc_bytes != (zc ? (uint64_t)n : 0) ||
		    st.zc_bytes + st.copied_bytes != (uint64_t)n)
			bad = 1;
		want->value[ZCOPY_A_STATS_BYTES_SENT] += n;
		want->value[zc ? ZCOPY_A_STATS_BYTES_ZC : copy_attr] += n;
	}
	rx_finish(&rx, sock);
	bad |= rx.got != len;
	rx_free(&rx);
	return bad ? -1 : 0;
}

/* A failing SENDFILE: counts as a call, a failure and an errno. */
static void send_failing(const char *name, int out, int in, unsigned int flags, int err,
			 struct expect *want)
{
	off_t off = 0;
	ssize_t n = zc_sendfile_flags(out, in, &off, 4096, flags);

	report(n < 0 && errno == err, name, "returned %zd (%s)", n, errname(n < 0 ? errno : 0));
	want->value[ZCOPY_A_STATS_CALLS_SENDFILE]++;
	want->value[ZCOPY_A_STATS_CALLS_FAILED]++;
	want->errors[err]++;
}

/* A bit no version of the ABI gives meaning to (EINVAL). */
#define BAD_FLAG (1U << 30)

static void test_counts(int fd, size_t size)
{
	static char header[1000];
	struct zc_counters before, after;
	struct expect want = { 0 };
	struct zcopy_seg segs[2] = { zc_seg_mem(header, sizeof(header)), zc_seg_file(fd, 0, size) };
	struct zc_stats st;
	struct rx rx;
	int sock, proc, notsock;
	ssize_t n;

	get_counters(&before);

	report(!send_counted(&lo4, fd, size, 1, 0, &want), "stats: sendfile over loopback",
	       "not all sent");
	report(!send_counted(&nosg, fd, size, 0, ZCOPY_A_STATS_BYTES_COPIED_SOCKET, &want),
	       "stats: sendfile over a route without scatter-gather (copied)", "not all sent");
	proc = open("/proc/sys/kernel/ostype", O_RDONLY | O_CLOEXEC);
	if (proc < 0)
		die("/proc/sys/kernel/ostype");
	report(!send_counted(&lo4, proc, 6, 0, ZCOPY_A_STATS_BYTES_COPIED_NO_CACHE, &want),
	       "stats: sendfile of a procfs file (copied, no page cache)", "not 6 bytes");
	close(proc);

	/* SENDV: the header copied from memory, the file lent. */
	sock = rx_start(&rx, &lo4, 0, -1);
	n = zc_sendv(sock, segs, 2, 0, &st);
	rx_finish(&rx, sock);
	rx_free(&rx);
	report(n == (ssize_t)(sizeof(header) + size) && st.copied_bytes == sizeof(header),
	       "stats: sendv of a memory and a file segment", "returned %zd, %llu copied", n,
	       (unsigned long long)st.copied_bytes);
	want.value[ZCOPY_A_STATS_CALLS_SENDV]++;
	want.value[ZCOPY_A_STATS_BYTES_SENT] += sizeof(header) + size;
	want.value[ZCOPY_A_STATS_BYTES_COPIED_MEMORY] += sizeof(header);
	want.value[ZCOPY_A_STATS_BYTES_ZC] += size;

	/* Failures, each on a path that never reaches a socket. */
	sock = rx_start(&rx, &lo4, 0, -1);
	notsock = open("/dev/null", O_WRONLY | O_CLOEXEC); /* writable: not EBADF */
	if (notsock < 0)
		die("/dev/null");
	send_failing("stats: a closed in_fd fails EBADF", sock, 1000, 0, EBADF, &want);
	send_failing("stats: /dev/null as out_fd fails ENOTSOCK", notsock, fd, 0, ENOTSOCK, &want);
	send_failing("stats: an unknown flag fails EINVAL", sock, fd, BAD_FLAG, EINVAL, &want);
	close(notsock);
	rx_finish(&rx, sock);
	rx_free(&rx);

	get_counters(&after);
	check_delta("stats", &before, &after, &want);
	report(delta(&before, &after, ZCOPY_A_STATS_PAGES_CACHED) > 0,
	       "stats: a warm file's pages count as cached", "pages_cached did not move");
	report(delta(&before, &after, ZCOPY_A_STATS_PAGES_READ) == 0,
	       "stats: a warm file's pages are not read in", "pages_read moved by %llu",
	       (unsigned long long)delta(&before, &after, ZCOPY_A_STATS_PAGES_READ));
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd < 0 || write(fd, "3", 1) != 1)
		die("drop_caches");
	close(fd);
}

/* A file on a disk file system, its cache dropped: its pages are read in. */
static void test_cold(void)
{
	const char *ext4 = getenv("ZC_EXT4_DIR");
	struct zc_counters before, after;
	struct expect want = { 0 };
	char *path;
	int fd;

	if (!ext4) {
		report(0, "stats: cold ext4 file", "ZC_EXT4_DIR not set");
		return;
	}
	path = make_file_in(ext4, "stats-cold", 4 * MiB, 31);
	drop_caches();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	get_counters(&before);
	report(!send_counted(&lo4, fd, 4 * MiB, 1, 0, &want), "stats: sendfile of a cold ext4 file",
	       "not all sent");
	get_counters(&after);
	close(fd);
	unlink(path);
	check_delta("stats, cold ext4 file", &before, &after, &want);
	report(delta(&before, &after, ZCOPY_A_STATS_PAGES_READ) > 0,
	       "stats: a cold ext4 file's pages count as read in", "pages_read did not move");
	report(delta(&before, &after, ZCOPY_A_STATS_READAHEAD_SYNC) > 0,
	       "stats: a cold ext4 file starts a synchronous readahead",
	       "readahead_sync did not move");
}

/* ---- network namespaces ------------------------------------------------ */

/*
 * In the peer namespace (this thread only: setns() is per thread), a
 * transfer over its own loopback and a failing call; both count there,
 * and nothing here.
 */
static void test_netns(int fd, size_t size)
{
	struct zc_counters a0, a1, b0, b1;
	struct expect want = { 0 }, none = { 0 };
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), ok;
	off_t off = 0;

	if (veth.netns_fd < 0) {
		report(0, "stats: peer namespace", "ZC_PEER_NETNS not set");
		return;
	}
	get_counters(&a0);
	if (self < 0 || setns(veth.netns_fd, CLONE_NEWNET) < 0)
		die("enter peer netns");
	get_counters(&b0);
	ok = !send_counted(&lo4, fd, size, 1, 0, &want);
	/* No socket: counts in the calling thread's namespace. */
	ok &= zc_sendfile(1000, fd, &off, 100) < 0 && errno == EBADF;
	want.value[ZCOPY_A_STATS_CALLS_SENDFILE]++;
	want.value[ZCOPY_A_STATS_CALLS_FAILED]++;
	want.errors[EBADF]++;
	get_counters(&b1);
	if (setns(self, CLONE_NEWNET) < 0)
		die("leave peer netns");
	close(self);
	get_counters(&a1);

	report(ok, "stats: sendfile over the peer namespace's loopback, and an EBADF there",
	       "not all sent, or not EBADF");
	check_delta("stats, peer namespace read there", &b0, &b1, &want);
	check_delta("stats, this namespace meanwhile", &a0, &a1, &none);
}

/* The settings; zeros if they cannot be read (0 is never a setting). */
static struct zc_config config_now(void)
{
	struct zc_config cfg;

	if (zc_config_get(&cfg) < 0)
		cfg = (struct zc_config){ 0 };
	return cfg;
}

/* ---- CAP_NET_ADMIN ------------------------------------------------------- */

/* Take CAP_NET_ADMIN out of this process's sets, leaving the rest. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	const unsigned int bit = 1U << (CAP_NET_ADMIN % 32);

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	data[CAP_NET_ADMIN / 32].effective &= ~bit;
	data[CAP_NET_ADMIN / 32].permitted &= ~bit;
	data[CAP_NET_ADMIN / 32].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, data);
}

enum {
	CAP_GET_FAILED = 1,
	CAP_RESET_NOT_EPERM = 2,
	CAP_MONITOR_NOT_EPERM = 4,
	CAP_SET_NOT_EPERM = 8,
	CAP_CONFIG_GET_FAILED = 16,
	CAP_SETUP = 32
};

/* The child: what it found, as bits of its exit status. */
static int unprivileged_child(void)
{
	struct zc_config cfg = { .events_rate = 5 };
	struct zc_counters c;
	struct zc_monitor *m;
	int res = 0;

	if (drop_net_admin() < 0)
		return CAP_SETUP;
	if (zc_stats_get(&c) < 0)
		res |= CAP_GET_FAILED;
	if (zc_stats_reset() == 0 || errno != EPERM)
		res |= CAP_RESET_NOT_EPERM;
	m = zc_monitor_open();
	if (m || errno != EPERM)
		res |= CAP_MONITOR_NOT_EPERM;
	zc_monitor_close(m);
	if (zc_config_set(&cfg) == 0 || errno != EPERM)
		res |= CAP_SET_NOT_EPERM;
	if (zc_config_get(&cfg) < 0)
		res |= CAP_CONFIG_GET_FAILED;
	return res;
}

static void test_capability(void)
{
	struct zc_counters before, after;
	struct zc_config cfg;
	int status = -1;
	pid_t pid;

	get_counters(&before);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(unprivileged_child());
	waitpid(pid, &status, 0);
	get_counters(&after);
	if (!WIFEXITED(status) || (WEXITSTATUS(status) & CAP_SETUP)) {
		report(0, "stats: a child without CAP_NET_ADMIN", "status %#x", status);
		return;
	}
	status = WEXITSTATUS(status);
	report(!(status & CAP_GET_FAILED), "stats: without CAP_NET_ADMIN, the counters can be read",
	       "zc_stats_get failed");
	report(!(status & CAP_RESET_NOT_EPERM), "stats: without CAP_NET_ADMIN, a reset fails EPERM",
	       "it did not");
	report(!(status & CAP_MONITOR_NOT_EPERM),
	       "stats: without CAP_NET_ADMIN, joining the events group fails EPERM", "it did not");
	report(!(status & CAP_SET_NOT_EPERM),
	       "stats: without CAP_NET_ADMIN, changing the settings fails EPERM", "it did not");
	report(!(status & CAP_CONFIG_GET_FAILED),
	       "stats: without CAP_NET_ADMIN, the settings can be read", "zc_config_get failed");
	report(after.value[ZCOPY_A_STATS_CALLS_SENDFILE] ==
			       before.value[ZCOPY_A_STATS_CALLS_SENDFILE] &&
		       before.value[ZCOPY_A_STATS_CALLS_SENDFILE] > 0,
	       "stats: the refused reset left the counters alone", "calls_sendfile %llu -> %llu",
	       (unsigned long long)before.value[ZCOPY_A_STATS_CALLS_SENDFILE],
	       (unsigned long long)after.value[ZCOPY_A_STATS_CALLS_SENDFILE]);
	cfg = config_now();
	report(cfg.events_rate == ZCOPY_EVENTS_RATE_DEFAULT,
	       "stats: the refused setting left the rate alone", "rate %u", cfg.events_rate);
}

/* ---- events ------------------------------------------------------------ */

#define MAX_EVENTS 600

struct ev_log {
	struct zc_event ev[MAX_EVENTS];
	int n;
	uint64_t dropped; /* the sum of the events' dropped counts */
};

static int collect(const struct zc_event *ev, void *arg)
{
	struct ev_log *log = arg;

	if (log->n < MAX_EVENTS)
		log->ev[log->n] = *ev;
	log->n++;
	log->dropped += ev->dropped;
	return 0;
}

/*
 * Read events into @log until @want have come, then for @quiet_ms more,
 * so that an extra one would be seen too. Returns -1 with errno set if
 * a read failed (ENOBUFS: some were lost).
 */
static int read_events(struct zc_monitor *m, struct ev_log *log, int want, int quiet_ms)
{
	struct pollfd pfd = { .fd = zc_monitor_fd(m), .events = POLLIN };

	for (;;) {
		int n = poll(&pfd, 1, log->n >= want ? quiet_ms : 5000);

		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (zc_monitor_read(m, collect, log) < 0)
			return -1;
	}
}

/* One call whose event is awaited, as the call itself reported it. */
struct call {
	unsigned int ioctl_nr;
	unsigned int flags;
	uint64_t requested;
	ssize_t ret;
	int err;
	struct zc_stats st;
	uint64_t wall_ns; /* measured around the call, on the event's clock */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * Does the monotonic clock count nanoseconds? Where it ticks in jiffies
 * (the debug kernels under TCG: the TSC is found unstable, no HPET), a
 * quick call lasts 0 ns.
 */
static int fine_clock(void)
{
	struct timespec res;

	return !clock_getres(CLOCK_MONOTONIC, &res) && !res.tv_sec && res.tv_nsec == 1;
}

static void check_event(int i, const struct zc_event *ev, const struct call *c, const char *comm)
{
	uint64_t sent = c->ret > 0 ? (uint64_t)c->ret : 0;
	char name[96];

	/* The event's interval lies within the one measured around the call. */
	int duration_ok = ev->duration_ns <= c->wall_ns && (ev->duration_ns > 0 || !fine_clock());

	snprintf(name, sizeof(name), "events: event %d tells call %d as it was", i, i);
	report(ev->ioctl_nr == c->ioctl_nr && ev->pid == (uint32_t)getpid() &&
		       ev->tid == (uint32_t)gettid() && !strcmp(ev->comm, comm) &&
		       ev->flags == c->flags && ev->requested == c->requested && ev->sent == sent &&
		       ev->zc_bytes == c->st.zc_bytes && ev->copied_bytes == c->st.copied_bytes &&
		       ev->err == (uint32_t)c->err && duration_ok && ev->dropped == 0,
	       name,
	       "ioctl %u pid %u tid %u comm %s flags %#x requested %llu sent %llu zc %llu "
	       "copied %llu errno %u duration %llu dropped %u; want ioctl %u pid %d tid %d "
	       "comm %s flags %#x requested %llu sent %llu zc %llu copied %llu errno %d, "
	       "duration at most %llu",
	       ev->ioctl_nr, ev->pid, ev->tid, ev->comm, ev->flags,
	       (unsigned long long)ev->requested, (unsigned long long)ev->sent,
	       (unsigned long long)ev->zc_bytes, (unsigned long long)ev->copied_bytes, ev->err,
	       (unsigned long long)ev->duration_ns, ev->dropped, c->ioctl_nr, getpid(), gettid(),
	       comm, c->flags, (unsigned long long)c->requested, (unsigned long long)sent,
	       (unsigned long long)c->st.zc_bytes, (unsigned long long)c->st.copied_bytes, c->err,
	       (unsigned long long)c->wall_ns);
}

static void do_sendfile(struct call *c, int sock, int fd, size_t count, unsigned int flags)
{
	uint64_t t0 = now_ns();
	off_t off = 0;

	c->ioctl_nr = _IOC_NR(ZCOPY_IOC_SENDFILE);
	/* The library's, for @off: a 64-bit off_t goes as a pointer. */
	c->flags = flags | ZCOPY_SEND_OFFSET | ZCOPY_SEND_OFFSET_PTR;
	c->requested = count;
	c->ret = zc_sendfile_ex(sock, fd, &off, count, flags, &c->st);
	c->err = c->ret < 0 ? errno : 0;
	c->wall_ns = now_ns() - t0;
}

/* K calls, each told by one event, in order, with what the call did. */
static void test_events_exact(struct zc_monitor *m, int fd, size_t size)
{
	enum { K = 6 };
	static char mem[3000];
	static struct ev_log log;
	struct zcopy_seg segs[2] = { zc_seg_mem(mem, sizeof(mem)), zc_seg_file(fd, 0, size) };
	struct zc_counters before, after;
	struct call calls[K];
	char comm[16] = "";
	struct rx rx, rx2;
	int sock, sock2;

	prctl(PR_GET_NAME, comm);
	get_counters(&before);
	sock = rx_start(&rx, &lo4, 0, -1);
	sock2 = rx_start(&rx2, &nosg, 0, -1);
	do_sendfile(&calls[0], sock, fd, 1000, 0);
	do_sendfile(&calls[1], sock, fd, size, ZCOPY_SEND_NOSIGNAL);
	do_sendfile(&calls[2], sock2, fd, 70000, 0);
	calls[3] = (struct call){ .ioctl_nr = _IOC_NR(ZCOPY_IOC_SENDV),
				  .requested = sizeof(mem) + size };
	calls[3].wall_ns = now_ns();
	calls[3].ret = zc_sendv(sock, segs, 2, 0, &calls[3].st);
	calls[3].wall_ns = now_ns() - calls[3].wall_ns;
	do_sendfile(&calls[4], sock, 1000, 100, 0);	  /* EBADF */
	do_sendfile(&calls[5], sock, fd, 4096, BAD_FLAG); /* EINVAL */
	rx_finish(&rx, sock);
	rx_finish(&rx2, sock2);
	rx_free(&rx);
	rx_free(&rx2);
	report(calls[4].err == EBADF && calls[5].err == EINVAL && calls[3].ret > 0,
	       "events: the calls did what they should", "sendv %zd, errnos %s %s", calls[3].ret,
	       errname(calls[4].err), errname(calls[5].err));

	if (read_events(m, &log, K, 300) < 0)
		report(0, "events: read", "%s", strerror(errno));
	report(log.n == K, "events: exactly one event per call", "%d events for %d calls", log.n,
	       K);
	for (int i = 0; i < K && i < log.n; i++)
		check_event(i, &log.ev[i], &calls[i], comm);
	get_counters(&after);
	report(delta(&before, &after, ZCOPY_A_STATS_EVENTS_SENT) == K &&
		       delta(&before, &after, ZCOPY_A_STATS_EVENTS_DROPPED) == 0,
	       "events: events_sent counts them, none dropped", "sent %llu, dropped %llu",
	       (unsigned long long)delta(&before, &after, ZCOPY_A_STATS_EVENTS_SENT),
	       (unsigned long long)delta(&before, &after, ZCOPY_A_STATS_EVENTS_DROPPED));
}

/*
 * A flood over the rate: what is not sent is counted, and the next event
 * sent carries the count. A last call after a pause (the bucket refills
 * at rate 100/s: one token per 10 ms) carries the flood's last drops.
 */
static void test_events_flood(struct zc_monitor *m, int fd)
{
	enum { FLOOD = 500 };
	static struct ev_log log;
	struct zc_config cfg = { .events_rate = 100, .events_burst = 10 };
	struct zc_counters before, after;
	struct rx rx;
	int sock, failed = 0, ret;

	ret = zc_config_set(&cfg);
	report(ret == 0, "events: rate 100/s, burst 10 set", "%s", strerror(errno));
	cfg = config_now();
	report(cfg.events_rate == 100 && cfg.events_burst == 10, "events: the settings read back",
	       "rate %u burst %u", cfg.events_rate, cfg.events_burst);
	get_counters(&before);
	sock = rx_start(&rx, &lo4, 0, -1);
	for (int i = 0; i < FLOOD; i++) {
		off_t off = i;

		failed |= zc_sendfile(sock, fd, &off, 1) != 1;
	}
	usleep(200 * 1000);
	failed |= zc_sendfile(sock, fd, NULL, 2) != 2; /* the last: 2 bytes */
	rx_finish(&rx, sock);
	rx_free(&rx);
	report(!failed, "events: 500 one-byte calls and a last one", "some failed");

	if (read_events(m, &log, FLOOD + 1, 300) < 0 && errno != ENOBUFS)
		report(0, "events: read the flood", "%s", strerror(errno));
	get_counters(&after);
	report(log.n + log.dropped == FLOOD + 1,
	       "events: events received + dropped reported = calls", "%d + %llu != %d", log.n,
	       (unsigned long long)log.dropped, FLOOD + 1);
	report(log.dropped > 0 && log.n > 1 && log.n < FLOOD / 2,
	       "events: the rate limit let some through and dropped the rest", "%d events", log.n);
	report(log.n > 0 && log.n <= MAX_EVENTS && log.ev[log.n - 1].sent == 2,
	       "events: the last call, after a pause, was told", "it was not");
	report(delta(&before, &after, ZCOPY_A_STATS_EVENTS_DROPPED) == log.dropped,
	       "events: events_dropped = the drops the events reported", "%llu != %llu",
	       (unsigned long long)delta(&before, &after, ZCOPY_A_STATS_EVENTS_DROPPED),
	       (unsigned long long)log.dropped);
	report(delta(&before, &after, ZCOPY_A_STATS_EVENTS_SENT) == (uint64_t)log.n,
	       "events: events_sent = the events received", "%llu != %d",
	       (unsigned long long)delta(&before, &after, ZCOPY_A_STATS_EVENTS_SENT), log.n);

	cfg = (struct zc_config){ ZCOPY_EVENTS_RATE_DEFAULT, ZCOPY_EVENTS_BURST_DEFAULT };
	ret = zc_config_set(&cfg);
	cfg = config_now();
	report(ret == 0 && cfg.events_rate == ZCOPY_EVENTS_RATE_DEFAULT &&
		       cfg.events_burst == ZCOPY_EVENTS_BURST_DEFAULT,
	       "events: defaults restored (1000/s, burst 1000)", "rate %u burst %u",
	       cfg.events_rate, cfg.events_burst);
}

static void test_config_range(void)
{
	struct zc_config cfg = { .events_rate = ZCOPY_EVENTS_RATE_MAX + 1 };
	int ret = zc_config_set(&cfg);

	report(ret < 0 && (errno == ERANGE || errno == EINVAL),
	       "config: a rate over 1000000 is refused (ERANGE or EINVAL)", "returned %d (%s)", ret,
	       errname(ret < 0 ? errno : 0));
	cfg = config_now();
	report(cfg.events_rate == ZCOPY_EVENTS_RATE_DEFAULT,
	       "config: the refused rate left the setting alone", "rate %u", cfg.events_rate);
}

/* ---- the part ---------------------------------------------------------- */

static void test_reset(void)
{
	uint64_t nonzero = 0, known = 0;
	int ret = zc_stats_reset();
	struct zc_counters c;

	report(ret == 0, "stats: reset", "%s", strerror(errno));
	get_counters(&c);
	for (unsigned int i = ZCOPY_A_STATS_CALLS_SENDFILE; i < NCOUNTERS; i++) {
		if (i == ZCOPY_A_STATS_ERROR)
			continue;
		known |= 1ULL << i;
		if (c.value[i])
			nonzero |= 1ULL << i;
	}
	for (unsigned int e = 0; e <= ZC_ERRNO_MAX; e++)
		if (c.errors[e])
			nonzero |= 1; /* bit 0: an errno's count */
	report((c.have & known) == known, "stats: the module reports every counter",
	       "have %#llx, want %#llx", (unsigned long long)c.have, (unsigned long long)known);
	report(!nonzero, "stats: after a reset every counter is 0", "non-zero: %#llx",
	       (unsigned long long)nonzero);
	report(zc_stat_name(ZCOPY_A_STATS_BYTES_ZC) &&
		       !strcmp(zc_stat_name(ZCOPY_A_STATS_BYTES_ZC), "bytes_zc") &&
		       !zc_stat_name(ZCOPY_A_STATS_PAD) && !zc_stat_name(ZCOPY_A_STATS_ERROR) &&
		       !zc_stat_name(ZC_COUNTERS_MAX),
	       "stats: zc_stat_name()", "wrong names");
}

void test_stats(void)
{
	const size_t size = 1 * MiB + 123;
	char *file = make_file("stats", size, 29);
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct zc_monitor *m;

	if (fd < 0)
		die(file);
	test_reset();
	test_counts(fd, size);
	test_cold();
	test_netns(fd, size);
	test_capability();
	test_config_range();

	m = zc_monitor_open();
	if (!m) {
		report(0, "events: zc_monitor_open", "%s", strerror(errno));
	} else {
		test_events_exact(m, fd, size);
		test_events_flood(m, fd);
		zc_monitor_close(m);
	}
	close(fd);
	unlink(file);
}
