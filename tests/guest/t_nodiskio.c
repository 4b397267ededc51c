/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_nodiskio.c - ZCOPY_SEND_NODISKIO and the readahead hint, on a real disk.
 *
 * The files live on /dev/vda (ZC_DISK_DIR), an ext4 image that the harness
 * made on the host (tests/vm/lib.sh, make_disk) and QEMU throttles to
 * 4 MiB/s and 200 requests/s: a cold 16 MiB file takes seconds to read, so
 * "the call did not wait for the disk" is a measurement, not a guess. The
 * page cache is emptied before each case (sync, drop_caches, and
 * POSIX_FADV_DONTNEED on the file).
 *
 * Every row asserts on the return value, errno, the @stop field, and on
 * the bytes a real peer received, compared with pread(2) of the file and
 * with what sendfile(2) sends for the same range.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DISK_BPS (4.0 * MiB) /* tests/vm/lib.sh: ZC_DISK_BPS */

static const char *disk;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void drop_caches(int fd)
{
	int p;

	sync();
	p = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (p >= 0) {
		if (write(p, "3", 1) != 1)
			note("drop_caches: %s", strerror(errno));
		close(p);
	}
	if (fd >= 0)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

/* Pages of [0, len) of @fd resident in the page cache (mincore). */
static size_t resident(int fd, size_t len)
{
	size_t pages = (len + PAGE - 1) / PAGE, n = 0, i;
	unsigned char *vec = malloc(pages);
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	if (!vec || map == MAP_FAILED)
		die("mincore setup");
	if (mincore(map, len, vec))
		die("mincore");
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	munmap(map, len);
	free(vec);
	return n;
}

struct nd {
	ssize_t ret;
	int err;
	uint32_t stop;
	double secs;
	off_t off; /* advanced */
};

/* One ZCOPY_IOC_SENDFILE with an explicit offset; size VER1. */
static struct nd nd_call(int sock, int fd, off_t off, size_t count, uint32_t flags,
			 uint64_t readahead)
{
	struct zcopy_sendfile a = {
		.size = sizeof(a),
		.flags = ZCOPY_SEND_OFFSET | ZCOPY_SEND_NOSIGNAL | flags,
		.in_fd = fd,
		.out_fd = sock,
		.offset = off,
		.count = count,
		.readahead = readahead,
		.stop = 0xdead,
	};
	struct nd r;
	double t0 = now();

	errno = 0;
	r.ret = ioctl(zc_device_fd(), ZCOPY_IOC_SENDFILE, &a);
	r.err = r.ret < 0 ? errno : 0;
	r.secs = now() - t0;
	r.stop = a.stop;
	r.off = a.offset;
	if (r.ret >= 0 && (uint64_t)r.ret != a.sent) {
		r.ret = -2; /* @sent must equal the return value */
		r.err = EPROTO;
	}
	return r;
}

static const char *stop_name(uint32_t s)
{
	static const char *const n[] = { "DONE", "EOF", "DISK", "SOCKET", "SIGNAL", "ERROR" };

	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

/* The whole file, by pread(2) (after the test: it fills the cache). */
static unsigned char *file_bytes(int fd, size_t len)
{
	unsigned char *b = malloc(len ? len : 1);
	size_t at = 0;

	if (!b)
		die("malloc");
	while (at < len) {
		ssize_t n = pread(fd, b + at, len - at, at);

		if (n <= 0)
			die("pread");
		at += n;
	}
	return b;
}

/* What sendfile(2) sends of [off, off + count) over @p. */
static void sendfile_ref(const struct peer *p, int fd, off_t off, size_t count, struct rx *rx)
{
	int s = rx_start(rx, p, count, -1);
	size_t done = 0;

	while (done < count) {
		ssize_t n = sendfile(s, fd, &off, count - done);

		if (n <= 0)
			break;
		done += n;
	}
	rx_finish(rx, s);
}

/*
 * NODISKIO calls in a loop until [off, off + count) is sent or end of file
 * (a call returning 0): on EBUSY the loop sleeps 2 ms and calls again, as
 * an event loop would come back later. The calls carry DONTWAIT, and a full
 * socket is waited for outside them (poll), so that a call's time is its
 * own and never the receiver's. Returns the bytes sent; *@calls, *@busy,
 * *@max_secs: calls made, of them EBUSY, the longest of those (a call that
 * met the disk and sent nothing: what it did is look up, start readahead
 * and return). The time of all calls together goes to nd_in_calls: a call
 * that sends cached pages over TCP on loopback runs the receiver's
 * protocol too, which under TCG can take a good part of a second of CPU.
 */
static double nd_in_calls;

static size_t nd_loop(int s, int fd, off_t off, size_t count, uint64_t ra, int *calls, int *busy,
		      double *max_secs, int *bad_err)
{
	size_t done = 0;
	double t_end = now() + 120;

	*calls = *busy = 0;
	*max_secs = 0;
	*bad_err = 0;
	nd_in_calls = 0;
	while (done < count && now() < t_end) {
		struct nd r = nd_call(s, fd, off + done, count - done,
				      ZCOPY_SEND_NODISKIO | ZCOPY_SEND_DONTWAIT, ra);
		struct pollfd pfd = { .fd = s, .events = POLLOUT };

		(*calls)++;
		nd_in_calls += r.secs;
		if (r.ret == -1 && r.secs > *max_secs)
			*max_secs = r.secs;
		if (r.ret > 0) {
			done += r.ret;
			if (r.stop == ZCOPY_STOP_SOCKET)
				poll(&pfd, 1, 1000);
			continue;
		}
		if (r.ret == 0)
			break;
		if (r.err == EAGAIN && r.stop == ZCOPY_STOP_SOCKET) {
			poll(&pfd, 1, 1000);
			continue;
		}
		if (r.err != EBUSY || r.stop != ZCOPY_STOP_DISK) {
			*bad_err = r.err ? r.err : -1;
			break;
		}
		(*busy)++;
		usleep(2000);
	}
	return done;
}

/*
 * The first NODISKIO call on a cold file: -1 EBUSY, stop DISK, nothing
 * sent; or, since QEMU's throttle lets a first burst through at full speed
 * (a tenth of a second's worth, 400 KiB) and the host has the image in its
 * cache, that burst's readahead may have completed before the call looked
 * at the page again: then a partial send of at most 1 MiB, stop DISK.
 */
static int cold_ok(const struct nd *r, size_t len)
{
	if (r->ret == -1)
		return r->err == EBUSY && r->stop == ZCOPY_STOP_DISK && r->off == 0;
	return r->ret > 0 && (size_t)r->ret <= MiB && (size_t)r->ret < len &&
	       r->stop == ZCOPY_STOP_DISK && r->off == r->ret;
}

/* Cold file over @p: the first call returns at once, stop DISK; then all of it. */
static void cold_file(const struct peer *p, const char *name)
{
	char path[256], t[160];
	size_t len = 16 * MiB, got;
	int fd, s, calls, busy, bad;
	double max_secs, t0, total;
	struct rx rx, ref;
	struct nd r;
	unsigned char *want;

	snprintf(path, sizeof(path), "%s/%s", disk, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	drop_caches(fd);
	s = rx_start(&rx, p, len, -1);
	r = nd_call(s, fd, 0, len, ZCOPY_SEND_NODISKIO | ZCOPY_SEND_DONTWAIT, 0);
	snprintf(t, sizeof(t), "nodiskio %s: cold 16 MiB file: stop DISK at once, EBUSY or a burst",
		 p->name);
	report(cold_ok(&r, len) && r.secs < 0.1 * len / DISK_BPS, t,
	       "ret %zd %s stop %s offset %lld in %.3f s (drive: %.1f s)", r.ret, errname(r.err),
	       stop_name(r.stop), (long long)r.off, r.secs, len / DISK_BPS);
	t0 = now();
	got = r.ret > 0 ? r.ret : 0;
	got += nd_loop(s, fd, got, len - got, 0, &calls, &busy, &max_secs, &bad);
	total = now() - t0;
	rx_finish(&rx, s);
	note("nodiskio %s: first call %.4f s; whole file in %.2f s, %d calls (%d EBUSY), longest "
	     "EBUSY call %.4f s, %.2f s in calls",
	     p->name, r.secs, total, calls, busy, max_secs, nd_in_calls);
	snprintf(t, sizeof(t), "nodiskio %s: repeated calls deliver the whole file, no call waits",
		 p->name);
	/*
	 * The drive is slow (the file took seconds), yet no call that met it
	 * waited for it, and the calls together took a fraction of the time:
	 * the rest the loop spent sleeping, free to serve others.
	 */
	report(!bad && got == len && rx.got == len && total > 0.5 * len / DISK_BPS &&
		       max_secs < 0.05 * total && nd_in_calls < 0.5 * total,
	       t,
	       "sent %zu received %zu err %s, total %.2f s, longest EBUSY call %.4f s, %.2f s in "
	       "calls",
	       got, rx.got, errname(bad), total, max_secs, nd_in_calls);
	want = file_bytes(fd, len);
	sendfile_ref(p, fd, 0, len, &ref);
	snprintf(t, sizeof(t), "nodiskio %s: bytes equal pread(2)'s and sendfile(2)'s", p->name);
	report(rx.got == len && ref.got == len && !memcmp(rx.buf, want, len) &&
		       !memcmp(ref.buf, want, len),
	       t, "received %zu, sendfile %zu", rx.got, ref.got);
	free(want);
	rx_free(&rx);
	rx_free(&ref);
	close(fd);
}

/* A middle range dropped: exactly the cached prefix, then EBUSY, then the rest. */
static void partly_cached(void)
{
	char path[256];
	size_t len = 16 * MiB, got;
	int fd, s, calls, busy, bad;
	double max_secs;
	unsigned char *want;
	struct rx rx;
	struct nd r, r2;

	snprintf(path, sizeof(path), "%s/part.bin", disk);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	drop_caches(fd);
	want = file_bytes(fd, len);
	posix_fadvise(fd, 4 * MiB, 4 * MiB, POSIX_FADV_DONTNEED);
	report(resident(fd, len) == (len - 4 * MiB) / PAGE,
	       "nodiskio: part.bin cached but [4, 8) MiB", "%zu pages resident", resident(fd, len));
	s = rx_start(&rx, &lo4, len, -1);
	/*
	 * The cached prefix, then a stop inside the dropped range at a page
	 * the disk still owes. Exactly the prefix, but for one race: reading
	 * the prefix meets its readahead marks, which start the readahead of
	 * the dropped range, and on a slow or busy host the drive's first
	 * burst of it may land before the call gets there (5.25 MiB seen on
	 * a debug kernel under load).
	 */
	r = nd_call(s, fd, 0, len, ZCOPY_SEND_NODISKIO, 0);
	report(r.ret >= (ssize_t)(4 * MiB) && r.ret < (ssize_t)(8 * MiB) && r.ret % PAGE == 0 &&
		       r.stop == ZCOPY_STOP_DISK && r.off == (off_t)r.ret,
	       "nodiskio: partly cached file: the 4 MiB prefix (or with the burst), stop DISK",
	       "ret %zd %s stop %s offset %lld", r.ret, errname(r.err), stop_name(r.stop),
	       (long long)r.off);
	/*
	 * At once at the dropped range: EBUSY. The first call started the
	 * readahead of that range, and a slow (debug) kernel may see the
	 * drive's first burst of it land before this call: then what landed,
	 * at most 2 MiB of the 12 MiB left, still at once and stop DISK.
	 */
	got = r.ret > 0 ? r.ret : 0;
	r2 = nd_call(s, fd, got, len - got, ZCOPY_SEND_NODISKIO, 0);
	report(((r2.ret == -1 && r2.err == EBUSY) || (r2.ret > 0 && (size_t)r2.ret <= 2 * MiB)) &&
		       r2.stop == ZCOPY_STOP_DISK && r2.secs < 0.1 * (len - 4 * MiB) / DISK_BPS,
	       "nodiskio: partly cached file: at the dropped range, at once: EBUSY or the burst",
	       "ret %zd %s stop %s in %.3f s", r2.ret, errname(r2.err), stop_name(r2.stop),
	       r2.secs);
	got += r2.ret > 0 ? r2.ret : 0;
	got += nd_loop(s, fd, got, len - got, 0, &calls, &busy, &max_secs, &bad);
	rx_finish(&rx, s);
	report(!bad && got == len && rx.got == len && !memcmp(rx.buf, want, len),
	       "nodiskio: partly cached file: then the rest, bytes equal pread(2)'s",
	       "sent %zu received %zu err %s", got, rx.got, errname(bad));
	free(want);
	rx_free(&rx);
	close(fd);
}

/* A 64 KiB request on a cold file: as cold_ok(), or all of it in the burst. */
static int small_ok(const struct nd *r)
{
	return r->ret == (ssize_t)(64 * KiB) && r->stop == ZCOPY_STOP_DONE;
}

/* The readahead hint reads the whole file; without it, much less is read. */
static void readahead_hint(void)
{
	char path[256];
	size_t len = 16 * MiB, pages = len / PAGE, res_hint = 0, res_none, res0, res1;
	int fd, s;
	double t0;
	struct rx rx;
	struct nd r;

	snprintf(path, sizeof(path), "%s/cold.bin", disk);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);

	/* Without a hint: the file's own readahead only. */
	drop_caches(fd);
	res0 = resident(fd, len);
	s = rx_start(&rx, &lo4, 0, -1);
	r = nd_call(s, fd, 0, 64 * KiB, ZCOPY_SEND_NODISKIO, 0);
	sleep(2);
	res_none = resident(fd, len);
	report((cold_ok(&r, len) || small_ok(&r)) && !res0 && res_none > 0 && res_none < pages / 4,
	       "nodiskio: no hint: only the file's own readahead is started",
	       "ret %zd %s, %zu of %zu pages resident before, %zu after 2 s", r.ret, errname(r.err),
	       res0, pages, res_none);
	close(fd);

	/* A hint of the whole file past 64 KiB: all of it, without waiting. */
	snprintf(path, sizeof(path), "%s/hint.bin", disk);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	drop_caches(fd);
	res1 = resident(fd, len);
	t0 = now();
	r = nd_call(s, fd, 0, 64 * KiB, ZCOPY_SEND_NODISKIO, len);
	while (now() - t0 < 30 && (res_hint = resident(fd, len)) < pages)
		usleep(100000);
	note("nodiskio: with a 16 MiB hint the file was cached %.2f s after the call, which took "
	     "%.4f s",
	     now() - t0, r.secs);
	report((cold_ok(&r, len) || small_ok(&r)) && r.secs < 0.1 * len / DISK_BPS && !res1 &&
		       res_hint == pages,
	       "nodiskio: readahead hint reads the whole file, the call does not wait",
	       "ret %zd %s in %.3f s, %zu of %zu pages resident (%zu before)", r.ret,
	       errname(r.err), r.secs, res_hint, pages, res1);
	rx_finish(&rx, s);
	rx_free(&rx);
	close(fd);
}

/* Holes read as zeros, as in the blocking call. */
static void sparse(void)
{
	char path[256];
	size_t len = 8 * MiB, got;
	int fd, s, calls, busy, bad;
	double max_secs;
	unsigned char *want;
	struct rx rx, ref;

	snprintf(path, sizeof(path), "%s/sparse.bin", disk);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	drop_caches(fd);
	s = rx_start(&rx, &lo4, len, -1);
	got = nd_loop(s, fd, 0, len, 0, &calls, &busy, &max_secs, &bad);
	rx_finish(&rx, s);
	want = file_bytes(fd, len);
	sendfile_ref(&lo4, fd, 0, len, &ref);
	report(!bad && got == len && rx.got == len && !memcmp(rx.buf, want, len) &&
		       ref.got == len && !memcmp(ref.buf, want, len) && !want[0] &&
		       !want[3 * MiB] && !want[len - 1],
	       "nodiskio: sparse file: holes arrive as zeros, bytes equal sendfile(2)'s",
	       "sent %zu received %zu (%d calls, %d EBUSY) err %s", got, rx.got, calls, busy,
	       errname(bad));
	free(want);
	rx_free(&rx);
	rx_free(&ref);
	close(fd);
}

/* Truncated while its readahead is in flight: the call ends at the new end. */
static void truncation(void)
{
	char path[256];
	size_t len = 16 * MiB, newlen = 5 * MiB + 100, got;
	int fd, s, calls, busy, bad;
	double max_secs;
	unsigned char *want;
	struct rx rx;
	struct nd r, e, sf;
	off_t off;

	snprintf(path, sizeof(path), "%s/trunc.bin", disk);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die(path);
	drop_caches(fd);
	s = rx_start(&rx, &lo4, len, -1);
	r = nd_call(s, fd, 0, len, ZCOPY_SEND_NODISKIO, 0);
	if (ftruncate(fd, newlen))
		die("ftruncate");
	got = r.ret > 0 ? r.ret : 0;
	got += nd_loop(s, fd, got, len - got, 0, &calls, &busy, &max_secs, &bad);
	e = nd_call(s, fd, newlen, 100, ZCOPY_SEND_NODISKIO, 0);
	rx_finish(&rx, s);
	want = file_bytes(fd, newlen);
	report(cold_ok(&r, len) && !bad && got == newlen && rx.got == newlen &&
		       !memcmp(rx.buf, want, newlen),
	       "nodiskio: truncated to 5 MiB + 100 during readahead: exactly that much arrives",
	       "first %zd %s; sent %zu received %zu err %s", r.ret, errname(r.err), got, rx.got,
	       errname(bad));
	s = rx_start(&rx, &lo4, 0, -1);
	off = newlen;
	sf.ret = sendfile(s, fd, &off, 100);
	rx_finish(&rx, s);
	report(e.ret == 0 && e.stop == ZCOPY_STOP_EOF && sf.ret == 0,
	       "nodiskio: at end of file: 0, stop EOF (sendfile(2): 0)",
	       "ret %zd %s stop %s, sendfile %zd", e.ret, errname(e.err), stop_name(e.stop),
	       sf.ret);
	free(want);
	rx_free(&rx);
	close(fd);
}

/*
 * Fill non-blocking @s from @fd at @pos with sendfile(2) until it takes
 * nothing more three times running, 100 ms apart: over loopback TCP keeps
 * freeing send space as segments leave for a receive window still open,
 * so one EAGAIN does not mean full (a slow debug kernel showed it: the
 * next call sent 94336 bytes). Returns the offset reached.
 */
static off_t fill_stuck(int s, int fd, off_t pos, size_t len)
{
	int quiet = 0;

	while (quiet < 3) {
		off_t o = pos;
		ssize_t n = sendfile(s, fd, &o, len);

		if (n > 0) {
			pos += n;
			quiet = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			die("fill");
		quiet++;
		usleep(100000);
	}
	return pos;
}

/* A full non-blocking socket is SOCKET, not DISK; a cold file on it is DISK. */
static void nonblocking(void)
{
	char path[256];
	size_t len = 16 * MiB;
	int fd, s, gate[2], fl;
	struct rx rx;
	struct nd r, full, cold;
	ssize_t sf;
	off_t off = 0;
	unsigned char *want;

	snprintf(path, sizeof(path), "%s/cold.bin", disk);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	drop_caches(fd);
	if (pipe(gate))
		die("pipe");
	s = rx_start(&rx, &lo4, 0, gate[0]);
	fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	cold = nd_call(s, fd, 0, len, ZCOPY_SEND_NODISKIO, 0);
	want = file_bytes(fd, len); /* now cached */
	r = nd_call(s, fd, 0, len, ZCOPY_SEND_NODISKIO, 0);
	off = fill_stuck(s, fd, r.ret > 0 ? r.ret : 0, len);
	full = nd_call(s, fd, off, len, ZCOPY_SEND_NODISKIO, 0);
	sf = sendfile(s, fd, &off, len);
	report(cold_ok(&cold, len),
	       "nodiskio non-blocking socket: cold file: stop DISK, EBUSY or a burst",
	       "ret %zd %s stop %s", cold.ret, errname(cold.err), stop_name(cold.stop));
	report(r.ret > 0 && (size_t)r.ret < len && r.stop == ZCOPY_STOP_SOCKET,
	       "nodiskio non-blocking socket: cached file: partial send, stop SOCKET",
	       "ret %zd %s stop %s", r.ret, errname(r.err), stop_name(r.stop));
	report(full.ret == -1 && full.err == EAGAIN && full.stop == ZCOPY_STOP_SOCKET && sf == -1 &&
		       errno == EAGAIN,
	       "nodiskio non-blocking socket: full: EAGAIN, stop SOCKET (sendfile(2): EAGAIN)",
	       "ret %zd %s stop %s", full.ret, errname(full.err), stop_name(full.stop));
	if (write(gate[1], "g", 1) != 1)
		die("gate");
	rx_finish(&rx, s);
	close(gate[0]);
	close(gate[1]);
	rx_free(&rx);

	/* Blocking socket, cached file: everything, stop DONE. */
	s = rx_start(&rx, &unix_peer, len, -1);
	r = nd_call(s, fd, 0, len, ZCOPY_SEND_NODISKIO, 0);
	rx_finish(&rx, s);
	report(r.ret == (ssize_t)len && r.stop == ZCOPY_STOP_DONE && rx.got == len &&
		       !memcmp(rx.buf, want, len),
	       "nodiskio blocking AF_UNIX socket: cached file: all of it, stop DONE",
	       "ret %zd %s stop %s received %zu", r.ret, errname(r.err), stop_name(r.stop), rx.got);
	rx_free(&rx);
	free(want);
	close(fd);
}

/* SENDV: header sent, file segment cold: the header's bytes, stop DISK. */
static void sendv_cold(void)
{
	char path[256], hdr[] = "HTTP/1.1 200 OK\r\n\r\n";
	size_t hl = strlen(hdr), len = 16 * MiB;
	struct zcopy_seg v[2];
	struct zcopy_sendv a;
	int fd, s, rc;
	struct rx rx;
	ssize_t r1, r2;
	uint32_t st1, st2;

	snprintf(path, sizeof(path), "%s/unix.bin", disk);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	drop_caches(fd);
	v[0] = zc_seg_mem(hdr, hl);
	v[1] = zc_seg_file(fd, 0, len);
	s = rx_start(&rx, &lo4, 1 * MiB, -1);
	a = (struct zcopy_sendv){ .size = sizeof(a),
				  .flags = ZCOPY_SEND_NODISKIO,
				  .out_fd = s,
				  .nr_segs = 2,
				  .segs = (uintptr_t)v,
				  .stop = 0xdead };
	r1 = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a);
	st1 = a.stop;
	/*
	 * The first call started readahead from offset 0, which a slow
	 * (debug) kernel may see land before its next call: the segment alone
	 * asks for the file's last 4 MiB, which that readahead does not reach
	 * for seconds at the drive's 4 MiB/s.
	 */
	v[1] = zc_seg_file(fd, len - 4 * MiB, 4 * MiB);
	a.nr_segs = 1;
	a.segs = (uintptr_t)&v[1];
	a.stop = 0xdead;
	r2 = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a);
	rc = r2 < 0 ? errno : 0;
	st2 = a.stop;
	rx_finish(&rx, s);
	report(r1 == (ssize_t)hl && st1 == ZCOPY_STOP_DISK && rx.got == hl &&
		       !memcmp(rx.buf, hdr, hl),
	       "nodiskio sendv: header then a cold file: the header, stop DISK",
	       "ret %zd stop %s received %zu", r1, stop_name(st1), rx.got);
	report(r2 == -1 && rc == EBUSY && st2 == ZCOPY_STOP_DISK,
	       "nodiskio sendv: a cold file segment alone: EBUSY, stop DISK", "ret %zd %s stop %s",
	       r2, errname(rc), stop_name(st2));
	rx_free(&rx);
	close(fd);
}

/* Bad combinations, and files NODISKIO cannot promise anything for. */
static void bad_inputs(void)
{
	int fd = open("/proc/version", O_RDONLY), sv[2], rc;
	char path[256];
	struct nd r;
	struct zcopy_sendfile a;
	struct zcopy_sendv v;
	struct zcopy_seg seg;
	ssize_t ret;
	int tf;
	char *tmp = make_file("nodiskio-tmpfs", 3 * PAGE + 10, 77);

	unix_pair(sv);
	r = nd_call(sv[0], fd, 0, 100, ZCOPY_SEND_NODISKIO, 0);
	report(r.ret == -1 && r.err == EOPNOTSUPP,
	       "nodiskio bad: a file read by ->splice_read (procfs): EOPNOTSUPP", "ret %zd %s",
	       r.ret, errname(r.err));
	seg = zc_seg_file(fd, 0, 100);
	v = (struct zcopy_sendv){ .size = sizeof(v),
				  .flags = ZCOPY_SEND_NODISKIO,
				  .out_fd = sv[0],
				  .nr_segs = 1,
				  .segs = (uintptr_t)&seg };
	ret = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &v);
	rc = ret < 0 ? errno : 0;
	report(ret == -1 && rc == EOPNOTSUPP, "nodiskio bad: sendv of a procfs segment: EOPNOTSUPP",
	       "ret %zd %s", ret, errname(rc));
	v.flags = ZCOPY_SEND_NODISKIO | ZCOPY_SEND_OFFSET;
	ret = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &v);
	rc = ret < 0 ? errno : 0;
	report(ret == -1 && rc == EINVAL, "nodiskio bad: sendv with OFFSET: EINVAL", "ret %zd %s",
	       ret, errname(rc));
	close(fd);

	tf = open(tmp, O_RDONLY);
	/* The first bit no version defines (0x40 was, until 0.4.0). */
	r = nd_call(sv[0], tf, 0, 100, (ZCOPY_SEND_ALL_FLAGS + 1) & ~ZCOPY_SEND_ALL_FLAGS, 0);
	report(r.ret == -1 && r.err == EINVAL, "nodiskio bad: the first unknown flag: EINVAL",
	       "flag %#x: ret %zd %s", (ZCOPY_SEND_ALL_FLAGS + 1) & ~ZCOPY_SEND_ALL_FLAGS, r.ret,
	       errname(r.err));
	a = (struct zcopy_sendfile){ .size = sizeof(a),
				     .flags = ZCOPY_SEND_NODISKIO,
				     .in_fd = tf,
				     .out_fd = sv[0],
				     .count = 10,
				     .cookie = 1 };
	ret = ioctl(zc_device_fd(), ZCOPY_IOC_SENDFILE, &a);
	rc = ret < 0 ? errno : 0;
	report(ret == -1 && rc == EINVAL, "nodiskio bad: cookie set: EINVAL", "ret %zd %s", ret,
	       errname(rc));
	r = nd_call(sv[0], tf, 0, 0, ZCOPY_SEND_NODISKIO, 0);
	report(r.ret == 0 && r.stop == ZCOPY_STOP_DONE, "nodiskio: count 0: 0, stop DONE",
	       "ret %zd %s stop %s", r.ret, errname(r.err), stop_name(r.stop));
	/* tmpfs is always cached: all of it, stop DONE; a VER0 caller gets no stop. */
	r = nd_call(sv[0], tf, 0, 3 * PAGE + 10, ZCOPY_SEND_NODISKIO, 1 * MiB);
	report(r.ret == (ssize_t)(3 * PAGE + 10) && r.stop == ZCOPY_STOP_DONE,
	       "nodiskio tmpfs: all of it, stop DONE (hint ignored)", "ret %zd %s stop %s", r.ret,
	       errname(r.err), stop_name(r.stop));
	a = (struct zcopy_sendfile){ .size = ZCOPY_SENDFILE_SIZE_VER0,
				     .flags = ZCOPY_SEND_NODISKIO | ZCOPY_SEND_OFFSET,
				     .in_fd = tf,
				     .out_fd = sv[0],
				     .count = 1000,
				     .stop = 0xdead };
	ret = ioctl(zc_device_fd(), ZCOPY_IOC_SENDFILE, &a);
	report(ret == 1000 && a.stop == 0xdead && a.sent == 1000,
	       "nodiskio: a VER0 caller works, and its struct past 72 bytes is not written",
	       "ret %zd stop %#x", ret, a.stop);
	r = nd_call(sv[0], tf, 10 * PAGE, 10, ZCOPY_SEND_NODISKIO, 0);
	report(r.ret == 0 && r.stop == ZCOPY_STOP_EOF, "nodiskio tmpfs: past end of file: 0, EOF",
	       "ret %zd %s stop %s", r.ret, errname(r.err), stop_name(r.stop));
	close(tf);
	unlink(tmp);
	close(sv[0]);
	close(sv[1]);
	(void)path;
}

/*
 * The other page-cache ways: xfs (the IOLOCK only tried) on its loop
 * device, and the throttled block device itself (/dev/vda, read through
 * its own page cache). Cold, then delivered whole by repeated calls.
 */
static void other_ways(void)
{
	const char *xfs = getenv("ZC_XFS_DIR");
	char *path = xfs ? make_file_in(xfs, "nodiskio.bin", 4 * MiB + 123, 41) : NULL;
	const char *const files[] = { path, "/dev/vda" };
	const char *const names[] = { "xfs", "block device /dev/vda" };
	size_t lens[] = { 4 * MiB + 123, 4 * MiB };
	char t[160];
	int i;

	for (i = 0; i < 2; i++) {
		int fd = files[i] ? open(files[i], O_RDONLY) : -1, s, calls, busy, bad;
		size_t len = lens[i], got;
		unsigned char *want;
		double max_secs;
		struct rx rx;

		snprintf(t, sizeof(t),
			 "nodiskio %s: a cold range, delivered whole, bytes equal pread(2)'s",
			 names[i]);
		if (fd < 0) {
			report(0, t, "cannot open %s", files[i] ? files[i] : "(no ZC_XFS_DIR)");
			continue;
		}
		drop_caches(fd);
		s = rx_start(&rx, &lo4, len, -1);
		got = nd_loop(s, fd, 0, len, 0, &calls, &busy, &max_secs, &bad);
		rx_finish(&rx, s);
		want = file_bytes(fd, len);
		report(!bad && got == len && rx.got == len && !memcmp(rx.buf, want, len), t,
		       "sent %zu received %zu (%d calls, %d EBUSY) err %s", got, rx.got, calls,
		       busy, errname(bad));
		free(want);
		rx_free(&rx);
		close(fd);
	}
	if (path)
		unlink(path);
}

void test_nodiskio(void)
{
	disk = getenv("ZC_DISK_DIR");
	if (!disk) {
		report(0, "nodiskio: ZC_DISK_DIR set", "the throttled disk is missing");
		return;
	}
	bad_inputs();
	cold_file(&lo4, "cold.bin");
	cold_file(&unix_peer, "unix.bin");
	partly_cached();
	readahead_hint();
	sparse();
	truncation();
	nonblocking();
	sendv_cold();
	other_ways();
}
