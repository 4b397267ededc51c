/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_fsmatrix.c - zcopy against sendfile(2), the oracle, on every kind of
 * file the guest can make, and on the cases where a file changes or fails
 * under the transfer:
 *
 *  1. the file-system matrix: tmpfs (plain and huge=always), ext4, xfs,
 *     overlayfs (lower and upper file), FUSE (cached and direct-io), sysfs,
 *     procfs, cgroup2, configfs, debugfs and a block device; six requests
 *     each (file position from 0, offset 0, an odd offset, a page-crossing
 *     range ending mid-file, at EOF, past EOF), to TCP and AF_UNIX: return
 *     value, errno, offset, file position and received bytes must be
 *     sendfile's, and the bytes the file's (the pattern, read(2) or pread(2));
 *  2. a file appended to while the sender follows its end: the receiver
 *     must hold exactly the file, no zeros where the writer wrote data;
 *  3. truncation and hole punching during a transfer: a defined result,
 *     every byte the file's or zero;
 *  4. record sockets (AF_UNIX SOCK_SEQPACKET, SOCK_DGRAM): the same records;
 *  5. a read-only ioctl argument: EFAULT before anything is sent;
 *  6. a hardware-poisoned page (MADV_HWPOISON): EIO, as sendfile(2);
 *  7. a transfer that stops early on a read error pushes its tail at once.
 *
 * Environment set by run.sh: ZC_TMPFS_DIR, ZC_HUGE_DIR, ZC_EXT4_DIR,
 * ZC_EXT4_DEV, ZC_XFS_DIR, ZC_OVL_DIR, ZC_OVL_LOWER, ZC_FUSE_DIR (zcfuse.c),
 * ZC_CGROUP_DIR, ZC_CONFIGFS_DIR (a netconsole target); debugfs mounted on
 * /sys/kernel/debug. A missing one fails its tests; only what a kernel
 * cannot do (MADV_HWPOISON without CONFIG_MEMORY_FAILURE) is skipped.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ==== 1. the file-system matrix ========================================= */

enum kind {
	K_PATTERN, /* pattern(seed) bytes (or @data), of a known size */
	K_READ,	   /* a pseudo file: what read(2) gives (slurped once) */
	K_PREAD,   /* a block device: pread(2) of the same range */
};

struct src {
	char label[96];
	char path[300];
	enum kind kind;
	uint64_t seed;
	size_t size; /* K_READ: the length read(2) gave */
	size_t big;  /* the count of the "whole file" requests */
	unsigned char *data;
};

struct req {
	char name[64];
	int use_off;
	off_t start;
	size_t count;
};

struct run {
	ssize_t ret;
	int err;
	off_t off, pos;
	size_t got, cap;
	unsigned char *buf;
};

static const struct peer *const sinks[2] = { &lo4, &unix_peer };

static void make_reqs(const struct src *s, struct req q[6])
{
	size_t size = s->size, mid;
	off_t odd = size <= s->big ? 3 : (off_t)(size - s->big / 2 - 1);

	mid = size > 8192 ? 4093 : size / 3;
	q[0] = (struct req){ "", 0, 0, s->big };
	snprintf(q[0].name, sizeof(q[0].name), "file position 0, count %zu", s->big);
	q[1] = (struct req){ "", 1, 0, s->big };
	snprintf(q[1].name, sizeof(q[1].name), "offset 0, count %zu", s->big);
	q[2] = (struct req){ "", 1, odd, s->big };
	snprintf(q[2].name, sizeof(q[2].name), "offset %lld, count %zu", (long long)odd, s->big);
	q[3] = (struct req){ "", 1, (off_t)mid, min_sz((size - mid) / 2 + 7, s->big / 2 + 7) };
	snprintf(q[3].name, sizeof(q[3].name), "offset %zu, count %zu (ends mid-file)", mid,
		 q[3].count);
	q[4] = (struct req){ "", 1, (off_t)size, 4096 };
	snprintf(q[4].name, sizeof(q[4].name), "offset %zu (EOF), count 4096", size);
	q[5] = (struct req){ "", 1, (off_t)(size + 4097), 4096 };
	snprintf(q[5].name, sizeof(q[5].name), "offset %zu (past EOF), count 4096", size + 4097);
}

static void run_req(const struct method *m, const struct src *s, const struct req *q,
		    const struct peer *p, struct run *r)
{
	off_t off = q->start;
	struct rx rx;
	int in, sock;

	memset(r, 0, sizeof(*r));
	r->cap = min_sz(q->count, s->size + 8192) + 1;
	in = open(s->path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r->ret = -1;
		r->err = errno;
		r->off = r->pos = -1;
		r->buf = calloc(1, 1);
		return;
	}
	/* Offset mode: the file position is a sentinel that must not move. */
	lseek(in, q->use_off ? 1 : 0, SEEK_SET);
	sock = rx_start(&rx, p, r->cap, -1);
	errno = 0;
	r->ret = m->fn(sock, in, q->use_off ? &off : NULL, q->count, NULL);
	r->err = r->ret < 0 ? errno : 0;
	rx_finish(&rx, sock);
	r->got = rx.got;
	r->buf = rx.buf; /* the caller frees it */
	r->off = q->use_off ? off : -1;
	r->pos = lseek(in, 0, SEEK_CUR);
	close(in);
}

/*
 * The first received byte that is not the file's, -1 if all are; -2 if
 * the peer got a different count than the call returned; -3 if it got
 * more than could be kept.
 */
static long verify(const struct src *s, const struct req *q, const struct run *r)
{
	off_t start = q->use_off ? q->start : 0;
	size_t n = r->ret > 0 ? (size_t)r->ret : 0, have;
	const unsigned char *want;
	unsigned char *buf = NULL;
	long bad = -1;

	if (r->got != n)
		return -2;
	if (!n)
		return -1;
	if (n >= r->cap)
		return -3;
	if (s->data) {
		have = (size_t)start < s->size ? s->size - start : 0;
		want = s->data + (have ? start : 0);
	} else {
		int fd = open(s->path, O_RDONLY | O_CLOEXEC);
		ssize_t got;

		buf = malloc(n);
		if (!buf)
			die("malloc");
		got = fd >= 0 ? pread(fd, buf, n, start) : -1;
		if (fd >= 0)
			close(fd);
		have = got > 0 ? (size_t)got : 0;
		want = buf;
	}
	/* The first difference, or the first byte the file does not have. */
	if (memcmp(r->buf, want, min_sz(n, have)))
		for (size_t i = 0; i < min_sz(n, have); i++)
			if (r->buf[i] != want[i]) {
				bad = (long)i;
				break;
			}
	if (bad < 0 && n > have)
		bad = (long)have;
	free(buf);
	return bad;
}

static int same_run(const struct run *a, const struct run *b)
{
	size_t n = min_sz(a->got, a->cap);

	return a->ret == b->ret && a->err == b->err && a->off == b->off && a->pos == b->pos &&
	       a->got == b->got && !memcmp(a->buf, b->buf, n);
}

static int describe_run(char *msg, size_t room, const char *who, const struct run *r, long bad)
{
	return snprintf(msg, room, " %s ret %zd %s off %lld pos %lld got %zu bad %ld;", who, r->ret,
			errname(r->err), (long long)r->off, (long long)r->pos, r->got, bad);
}

/* One request of one file, both sinks: one report line. */
static void check_req(const struct src *s, const struct req *q, int *sendfile_failed)
{
	char name[768], msg[1024];
	size_t len = 0;
	int ok = 1;
	/* Files of known size: a blocking send to a reading peer sends all. */
	long want = -1;

	if (s->kind != K_READ)
		want = (size_t)q->start >= s->size ? 0 : (long)min_sz(q->count, s->size - q->start);
	msg[0] = 0;
	for (int k = 0; k < 2; k++) {
		struct run sf, zc;
		long bsf, bzc;
		int good;

		run_req(&m_sendfile, s, q, sinks[k], &sf);
		run_req(&m_zcopy, s, q, sinks[k], &zc);
		bsf = verify(s, q, &sf);
		bzc = verify(s, q, &zc);
		good = same_run(&sf, &zc) && bsf == -1 && bzc == -1 &&
		       (want < 0 || (sf.ret == want && zc.ret == want));
		if (sf.ret < 0 && !*sendfile_failed) {
			*sendfile_failed = 1;
			note("fsmatrix: %s: sendfile(2) fails with %s (%s)", s->label,
			     errname(sf.err), q->name);
		}
		if (!good && len < sizeof(msg) - 200) {
			ok = 0;
			len += snprintf(msg + len, sizeof(msg) - len, "%s%s:", len ? " | " : "",
					sinks[k]->name);
			if (want >= 0)
				len += snprintf(msg + len, sizeof(msg) - len, " want %ld;", want);
			len += describe_run(msg + len, sizeof(msg) - len, "sendfile", &sf, bsf);
			len += describe_run(msg + len, sizeof(msg) - len, "zcopy", &zc, bzc);
			if (sf.got == zc.got && sf.ret == zc.ret && !same_run(&sf, &zc))
				len += snprintf(msg + len, sizeof(msg) - len,
						" received bytes differ");
		}
		free(sf.buf);
		free(zc.buf);
	}
	snprintf(name, sizeof(name), "fsmatrix: %s, %s: zcopy as sendfile(2) over tcp and unix",
		 s->label, q->name);
	report(ok, name, "%s", msg);
}

static void check_src(const struct src *src)
{
	struct src s = *src;
	struct req q[6];
	int sendfile_failed = 0;

	/* The pattern once, to compare every run with. */
	if (s.kind == K_PATTERN && !s.data) {
		s.data = malloc(s.size ? s.size : 1);
		if (!s.data)
			die("malloc");
		pattern(s.seed, 0, s.data, s.size);
	}
	make_reqs(&s, q);
	for (int i = 0; i < 6; i++)
		check_req(&s, &q[i], &sendfile_failed);
	if (s.data != src->data)
		free(s.data);
}

/* Regular files of pattern bytes in @in_dir, of each size. */
static void matrix_regular(const char *fs, const char *var)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 3 * MiB + 5 };
	const char *d = getenv(var);

	if (!d) {
		report(0, fs, "fsmatrix: %s not set", var);
		return;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct src s = { .kind = K_PATTERN, .seed = 7100 + i, .size = sizes[i] };
		char *path = make_file_in(d, "fsmatrix.bin", sizes[i], s.seed);

		snprintf(s.label, sizeof(s.label), "%s %zu B", fs, sizes[i]);
		snprintf(s.path, sizeof(s.path), "%s", path);
		s.big = 8 * MiB;
		check_src(&s);
		unlink(s.path);
	}
}

static void matrix_overlay(void)
{
	const char *ovl = getenv("ZC_OVL_DIR"), *lower = getenv("ZC_OVL_LOWER");
	struct src s = { .kind = K_PATTERN, .size = 3 * MiB + 5, .big = 8 * MiB };
	char lower_path[300];

	if (!ovl || !lower) {
		report(0, "fsmatrix: overlayfs", "ZC_OVL_DIR/ZC_OVL_LOWER not set");
		return;
	}
	/* A lower file, never opened for writing: not copied up. */
	s.seed = 7201;
	snprintf(lower_path, sizeof(lower_path), "%s",
		 make_file_in(lower, "fsm-lower", s.size, 7201));
	snprintf(s.path, sizeof(s.path), "%s/fsm-lower", ovl);
	snprintf(s.label, sizeof(s.label), "overlayfs lower file %zu B", s.size);
	check_src(&s);
	/* A file created through the overlay: it lives in the upper layer. */
	s.seed = 7202;
	snprintf(s.path, sizeof(s.path), "%s", make_file_in(ovl, "fsm-upper", s.size, 7202));
	snprintf(s.label, sizeof(s.label), "overlayfs upper file %zu B", s.size);
	check_src(&s);
	unlink(s.path);
	unlink(lower_path);
}

static void matrix_fuse(void)
{
	static const struct {
		const char *name;
		size_t size;
		uint64_t seed;
		const char *text;
	} files[] = {
		{ "cached.bin", 3 * MiB + 12345, 71, NULL },
		{ "direct.bin", MiB + 777, 72, NULL },
		{ "empty.bin", 0, 0, NULL },
		{ "small.txt", 6, 0, "hello\n" },
	};
	const char *fuse = getenv("ZC_FUSE_DIR");

	if (!fuse) {
		report(0, "fsmatrix: FUSE", "FUSE not mounted (ZC_FUSE_DIR not set)");
		return;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct src s = { .kind = K_PATTERN, .seed = files[i].seed, .size = files[i].size };
		struct stat st;

		snprintf(s.path, sizeof(s.path), "%s/%s", fuse, files[i].name);
		snprintf(s.label, sizeof(s.label), "FUSE %s %zu B", files[i].name, files[i].size);
		s.big = 8 * MiB;
		if (stat(s.path, &st) || (size_t)st.st_size != files[i].size) {
			report(0, s.label, "fsmatrix: %s missing or of the wrong size (%s)", s.path,
			       errname(errno));
			continue;
		}
		if (files[i].text)
			s.data = (unsigned char *)files[i].text;
		check_src(&s);
	}
}

/* Read a whole (small) file with read(2). Returns the length, or -1. */
static long slurp_all(const char *path, unsigned char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 0;

	if (fd < 0)
		return -1;
	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += n;
	close(fd);
	return n < 0 ? -1 : (long)got;
}

static void matrix_pseudo(const char *fs, const char *dirname, const char *name, int optional)
{
	static unsigned char data[65536];
	struct src s = { .kind = K_READ, .big = 65536, .data = data };
	long n;

	snprintf(s.label, sizeof(s.label), "%s %s", fs, name);
	if (!dirname) {
		report(0, s.label, "fsmatrix: %s not set up", fs);
		return;
	}
	snprintf(s.path, sizeof(s.path), "%s/%s", dirname, name);
	if (optional && access(s.path, F_OK)) {
		note("skip fsmatrix: %s: %s does not exist on this kernel", fs, s.path);
		return;
	}
	n = slurp_all(s.path, data, sizeof(data));
	if (n < 0) {
		report(0, s.label, "fsmatrix: read(2) of %s: %s", s.path, errname(errno));
		return;
	}
	s.size = n;
	check_src(&s);
}

static void matrix_blockdev(void)
{
	const char *dev = getenv("ZC_EXT4_DEV");
	struct src s = { .kind = K_PREAD, .big = MiB };
	uint64_t bytes = 0;
	int fd;

	if (!dev) {
		report(0, "fsmatrix: block device", "ZC_EXT4_DEV not set");
		return;
	}
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes)) {
		report(0, "fsmatrix: block device", "%s: %s", dev, errname(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	snprintf(s.path, sizeof(s.path), "%s", dev);
	snprintf(s.label, sizeof(s.label), "block device %s (%llu B)", dev,
		 (unsigned long long)bytes);
	s.size = bytes;
	sync(); /* nothing of ext4's left to write while both methods read it */
	check_src(&s);
}

static void test_matrix(void)
{
	const char *cg = getenv("ZC_CGROUP_DIR"), *cfs = getenv("ZC_CONFIGFS_DIR");
	const char *dbg = "/sys/kernel/debug";

	matrix_blockdev();
	matrix_regular("tmpfs", "ZC_TMPFS_DIR");
	matrix_regular("tmpfs huge=always", "ZC_HUGE_DIR");
	matrix_regular("ext4", "ZC_EXT4_DIR");
	matrix_regular("xfs", "ZC_XFS_DIR");
	matrix_overlay();
	matrix_fuse();
	matrix_pseudo("sysfs", "/sys/class/net/lo", "mtu", 0);
	matrix_pseudo("sysfs", "/sys/class/net/lo", "address", 0);
	matrix_pseudo("sysfs", "/sys/kernel/mm/transparent_hugepage", "enabled", 1);
	matrix_pseudo("procfs", "/proc/sys/kernel", "ostype", 0);
	matrix_pseudo("procfs", "/proc", "version", 0);
	matrix_pseudo("cgroup2", cg, "cgroup.controllers", 0);
	matrix_pseudo("cgroup2", cg, "cgroup.max.depth", 0);
	matrix_pseudo("configfs", cfs, "dev_name", 0);
	matrix_pseudo("configfs", cfs, "local_port", 0);
	matrix_pseudo("configfs", cfs, "remote_port", 0);
	matrix_pseudo("configfs", cfs, "enabled", 0);
	matrix_pseudo("debugfs", access(dbg, F_OK) ? NULL : dbg, "fault_around_bytes", 0);
}

/* ==== 2. an appending writer, the sender following end of file ========= */

struct appender {
	int fd;
	size_t wsize, size;
	uint64_t seed;
	int go;	      /* atomic: the sender is at end of file; start writing */
	size_t total; /* written so far (atomic) */
	int done;     /* atomic */
	int err;
};

/* Append @size pattern bytes, @wsize at a time: byte i is pattern(seed, i). */
static void *append_main(void *arg)
{
	struct appender *a = arg;
	unsigned char buf[4096];
	size_t total = 0;

	while (!__atomic_load_n(&a->go, __ATOMIC_ACQUIRE))
		sched_yield();
	while (total < a->size) {
		size_t k = min_sz(a->wsize, a->size - total);
		ssize_t n;

		pattern(a->seed, total, buf, k);
		n = write(a->fd, buf, k);
		if (n != (ssize_t)k) {
			a->err = n < 0 ? errno : EIO;
			break;
		}
		total += n;
		__atomic_store_n(&a->total, total, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct append_stats {
	int rounds, bad_rounds, first_bad_round;
	size_t bytes, zeros, calls, zero_calls;
	long first_bad;
	char first[300]; /* what went wrong first */
};

/*
 * One round: a new empty file, a writer appending @size bytes to it, and
 * the sender following end of file from offset 0 with repeated calls,
 * retrying on 0 until the writer is done and everything is sent. A new
 * file each round: its first write lands in a new folio, the moment an
 * append is most easily seen half done.
 */
static void append_round(const struct method *m, const char *d, size_t wsize, size_t size,
			 uint64_t seed, int round, struct append_stats *st)
{
	struct appender a = { .wsize = wsize, .size = size, .seed = seed };
	unsigned char want[4096];
	size_t zeros = 0;
	long first_bad = -1;
	double deadline = now() + 20;
	char path[300];
	int in, sock, err = 0, timed_out = 0;
	off_t off = 0;
	pthread_t t;
	struct rx rx;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/fsm-append", d);
	unlink(path);
	a.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (a.fd < 0 || in < 0)
		die(path);
	sock = rx_start(&rx, &lo4, size + 1, -1);
	if (pthread_create(&t, NULL, append_main, &a))
		die("pthread_create");
	for (;;) {
		errno = 0;
		n = m->fn(sock, in, &off, 64 * MiB, NULL);
		st->calls++;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n > 0)
			continue;
		st->zero_calls++;
		__atomic_store_n(&a.go, 1, __ATOMIC_RELEASE);
		/* At end of file: done once the writer is and all is sent. */
		if (__atomic_load_n(&a.done, __ATOMIC_ACQUIRE) &&
		    (size_t)off >= __atomic_load_n(&a.total, __ATOMIC_ACQUIRE))
			break;
		if (now() > deadline) {
			timed_out = 1;
			break;
		}
	}
	__atomic_store_n(&a.go, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	rx_finish(&rx, sock);
	for (size_t at = 0; at < rx.got && at < size; at += sizeof(want)) {
		size_t k = min_sz(sizeof(want), min_sz(rx.got, size) - at);

		pattern(seed, at, want, k);
		for (size_t i = 0; i < k; i++) {
			if (rx.buf[at + i] == want[i])
				continue;
			if (first_bad < 0)
				first_bad = (long)(at + i);
			zeros += rx.buf[at + i] == 0;
		}
	}
	st->rounds++;
	st->bytes += rx.got;
	st->zeros += zeros;
	if (err || timed_out || a.err || (size_t)off != a.total || rx.got != a.total ||
	    first_bad >= 0) {
		if (!st->bad_rounds++) {
			st->first_bad_round = round;
			st->first_bad = first_bad;
			snprintf(
				st->first, sizeof(st->first),
				"round %d: file %zu B, offset %lld, received %zu, first wrong byte "
				"at %ld, %zu zero bytes where the file has data; %s%s, writer %s",
				round, a.total, (long long)off, rx.got, first_bad, zeros,
				errname(err), timed_out ? " (timed out)" : "", errname(a.err));
		}
	}
	rx_free(&rx);
	close(in);
	close(a.fd);
	unlink(path);
}

/* Rounds of append_round() for about 1.5 s. */
static void append_case(const struct method *m, const char *fs, const char *d, size_t wsize,
			uint64_t seed)
{
	struct append_stats st = { .first_bad = -1 };
	size_t size = wsize >= 4096 ? 256 * KiB : 64 * KiB;
	double end = now() + 1.5;
	char name[200];

	do
		append_round(m, d, wsize, size, seed + st.rounds, st.rounds, &st);
	while (now() < end && st.rounds < 10000);
	snprintf(name, sizeof(name),
		 "fsmatrix append: %s, %zu-byte appends, %s following end of file: the peer gets "
		 "exactly the file",
		 fs, wsize, m->name);
	report(!st.bad_rounds, name,
	       "%d of %d rounds of %zu B wrong, %zu zero bytes where the file has data in all; "
	       "first: %s",
	       st.bad_rounds, st.rounds, size, st.zeros, st.first);
	note("append on %s, %zu-byte writes, %s: %d rounds of %zu B, %d wrong, %zu calls (%zu "
	     "returned 0)",
	     fs, wsize, m->name, st.rounds, size, st.bad_rounds, st.calls, st.zero_calls);
}

static void test_append(void)
{
	static const struct {
		const char *fs, *var;
	} fss[] = {
		{ "tmpfs", "ZC_TMPFS_DIR" },
		{ "tmpfs huge=always", "ZC_HUGE_DIR" },
		{ "ext4", "ZC_EXT4_DIR" },
		{ "xfs", "ZC_XFS_DIR" },
	};
	static const size_t wsizes[] = { 100, 4096 };

	for (size_t f = 0; f < sizeof(fss) / sizeof(fss[0]); f++) {
		const char *d = getenv(fss[f].var);

		if (!d) {
			report(0, "fsmatrix append", "%s not set", fss[f].var);
			continue;
		}
		for (size_t w = 0; w < 2; w++)
			for (int m = 0; m < 2; m++)
				append_case(methods[1 - m], fss[f].fs, d, wsizes[w],
					    (uint64_t)(f * 2 + w) << 32);
	}
}

/* ==== 3. truncation and hole punching during a transfer ================ */

struct mutator {
	int fd, punch;
	unsigned int delay_us;
	int err;
	double when;
};

static void *mutate_main(void *arg)
{
	struct mutator *mu = arg;

	usleep(mu->delay_us);
	mu->when = now();
	if (mu->punch ? fallocate(mu->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * MiB,
				  2 * MiB)
		      : ftruncate(mu->fd, MiB + 123))
		mu->err = errno;
	return NULL;
}

/* Returns the errno the transfer ended with (0: it ended with 0). */
static int mutate_case(const struct method *m, const char *fs, const char *d, int punch,
		       int allowed_err)
{
	const size_t size = 8 * MiB;
	struct mutator mu = { .punch = punch, .delay_us = 3000 };
	unsigned char want[4096];
	size_t total = 0, wrong = 0, calls = 0;
	char name[200], *path;
	double t0;
	off_t off = 0;
	pthread_t t;
	struct rx rx;
	int in, sock, err = 0;
	ssize_t n;
	int ok;

	path = make_file_in(d, "fsm-mutate", size, 7400 + punch);
	mu.fd = open(path, O_RDWR | O_CLOEXEC);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (mu.fd < 0 || in < 0)
		die(path);
	sock = rx_start(&rx, &lo4, size + 1, -1);
	t0 = now();
	if (pthread_create(&t, NULL, mutate_main, &mu))
		die("pthread_create");
	do {
		errno = 0;
		n = m->fn(sock, in, &off, size, NULL);
		calls++;
		if (n > 0)
			total += n;
		else if (n < 0)
			err = errno;
	} while (n > 0 && calls < 100000);
	pthread_join(t, NULL);
	rx_finish(&rx, sock);
	for (size_t at = 0; at < rx.got && at < size; at += sizeof(want)) {
		size_t k = min_sz(sizeof(want), min_sz(rx.got, size) - at);

		pattern(7400 + punch, at, want, k);
		for (size_t i = 0; i < k; i++)
			wrong += rx.buf[at + i] != want[i] && rx.buf[at + i] != 0;
	}
	ok = (!err || err == allowed_err) && !mu.err && rx.got == total && !wrong &&
	     (size_t)off == total && (punch ? total == size : total >= MiB + 123 && total <= size);
	snprintf(name, sizeof(name),
		 "fsmatrix %s: %s during a transfer on %s: %s ends defined, file bytes or zeros",
		 punch ? "punch" : "truncate",
		 punch ? "hole punched over [2 MiB, 4 MiB)" : "truncated to 1 MiB + 123", fs,
		 m->name);
	report(ok, name,
	       "sent %zu in %zu calls, ended %s (allowed: %s), offset %lld, received %zu, %zu "
	       "bytes neither the file's nor zero; mutation %s",
	       total, calls, errname(err), errname(allowed_err), (long long)off, rx.got, wrong,
	       errname(mu.err));
	note("%s on %s with %s: mutated after %.1f ms, %zu bytes sent",
	     punch ? "punch" : "truncate", fs, m->name, (mu.when - t0) * 1e3, total);
	rx_free(&rx);
	close(in);
	close(mu.fd);
	unlink(path);
	return err;
}

static void test_mutate(void)
{
	static const struct {
		const char *fs, *var;
	} fss[] = { { "tmpfs", "ZC_TMPFS_DIR" }, { "ext4", "ZC_EXT4_DIR" } };

	for (size_t f = 0; f < 2; f++) {
		const char *d = getenv(fss[f].var);

		if (!d) {
			report(0, "fsmatrix truncate/punch", "%s not set", fss[f].var);
			continue;
		}
		for (int punch = 0; punch < 2; punch++) {
			/* sendfile first: what it ends with is what zcopy may. */
			int e = mutate_case(&m_sendfile, fss[f].fs, d, punch, 0);

			mutate_case(&m_zcopy, fss[f].fs, d, punch, e);
		}
	}
}

/* ==== 4. record sockets ================================================= */

#define REC_BUF	  (300 * KiB)
#define REC_SLOTS 256

struct rec_rx {
	int fd;
	unsigned char *buf; /* all record bytes, concatenated */
	size_t cap, got;
	int n, truncated, err;
	size_t sizes[REC_SLOTS];
};

/* Read records until the empty end marker (or an error or timeout). */
static void *rec_main(void *arg)
{
	struct rec_rx *r = arg;
	unsigned char *tmp = malloc(REC_BUF);

	if (!tmp)
		die("malloc");
	for (;;) {
		ssize_t n = recv(r->fd, tmp, REC_BUF, MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r->err = errno;
		if (n <= 0)
			break;
		if (r->n < REC_SLOTS)
			r->sizes[r->n] = n;
		r->n++;
		if (n > (ssize_t)REC_BUF) {
			r->truncated++;
			n = REC_BUF;
		}
		if (r->got + n <= r->cap)
			memcpy(r->buf + r->got, tmp, n);
		r->got += n;
	}
	free(tmp);
	return NULL;
}

struct rec_out {
	ssize_t ret;
	int err;
	struct rec_rx rx;
	long bad;
};

static void rec_run(const struct method *m, int type, int big_bufs, const char *path, size_t count,
		    uint64_t seed, struct rec_out *o)
{
	struct timeval tv = { .tv_sec = 10 };
	int sv[2], in = open(path, O_RDONLY | O_CLOEXEC), buf = 4 * MiB;
	off_t off = 0;
	pthread_t t;

	memset(o, 0, sizeof(*o));
	if (in < 0 || socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		die("record socket pair");
	if (big_bufs && (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) ||
			 setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf))))
		die("SO_SNDBUFFORCE");
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	o->rx.fd = sv[1];
	o->rx.cap = 2 * count + REC_BUF;
	o->rx.buf = malloc(o->rx.cap);
	if (!o->rx.buf || pthread_create(&t, NULL, rec_main, &o->rx))
		die("record receiver");
	errno = 0;
	o->ret = m->fn(sv[0], in, &off, count, NULL);
	o->err = o->ret < 0 ? errno : 0;
	if (send(sv[0], "", 0, 0) != 0) /* the end marker */
		die("record end marker");
	pthread_join(t, NULL);
	o->bad = o->rx.got <= o->rx.cap ? check_pattern(o->rx.buf, o->rx.got, seed, 0) : -2;
	close(sv[0]);
	close(sv[1]);
	close(in);
}

static int rec_describe(char *msg, size_t room, const char *who, const struct rec_out *o)
{
	int len = snprintf(msg, room, " %s: ret %zd %s, %d records (%d truncated, rx %s) of", who,
			   o->ret, errname(o->err), o->rx.n, o->rx.truncated, errname(o->rx.err));

	for (int i = 0; i < o->rx.n && i < 6 && (size_t)len < room; i++)
		len += snprintf(msg + len, room - len, " %zu", o->rx.sizes[i]);
	if ((size_t)len < room)
		len += snprintf(msg + len, room - len, "%s, %zu bytes, bad %ld;",
				o->rx.n > 6 ? " ..." : "", o->rx.got, o->bad);
	return len;
}

static void test_records(void)
{
	static const struct {
		int type, big_bufs;
		size_t size;
		const char *name;
	} cases[] = {
		{ SOCK_SEQPACKET, 1, 256 * KiB, "SOCK_SEQPACKET, 4 MiB buffers, 256 KiB file" },
		{ SOCK_DGRAM, 1, 256 * KiB, "SOCK_DGRAM, 4 MiB buffers, 256 KiB file" },
		{ SOCK_SEQPACKET, 1, 64 * KiB + 1,
		  "SOCK_SEQPACKET, 4 MiB buffers, 64 KiB + 1 file" },
		{ SOCK_SEQPACKET, 0, 256 * KiB, "SOCK_SEQPACKET, default buffers, 256 KiB file" },
	};
	const char *d = getenv("ZC_TMPFS_DIR");

	if (!d)
		d = dir;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = make_file_in(d, "fsm-records", cases[i].size, 7500 + i);
		struct rec_out sf, zc;
		char name[200], msg[600];
		int ok, len;

		rec_run(&m_sendfile, cases[i].type, cases[i].big_bufs, path, cases[i].size,
			7500 + i, &sf);
		rec_run(&m_zcopy, cases[i].type, cases[i].big_bufs, path, cases[i].size, 7500 + i,
			&zc);
		ok = sf.ret == zc.ret && sf.err == zc.err && sf.rx.n == zc.rx.n &&
		     sf.rx.got == zc.rx.got && !sf.rx.truncated && !zc.rx.truncated &&
		     sf.bad == -1 && zc.bad == -1 && !zc.rx.err &&
		     (sf.ret < 0 || (size_t)sf.ret == sf.rx.got);
		for (int k = 0; ok && k < sf.rx.n && k < REC_SLOTS; k++)
			ok = sf.rx.sizes[k] == zc.rx.sizes[k];
		len = rec_describe(msg, sizeof(msg), "sendfile", &sf);
		rec_describe(msg + len, sizeof(msg) - len, "zcopy", &zc);
		snprintf(name, sizeof(name),
			 "fsmatrix records: AF_UNIX %s: zcopy makes sendfile(2)'s records",
			 cases[i].name);
		report(ok, name, "%s", msg);
		note("records, %s:%s", cases[i].name, msg);
		free(sf.rx.buf);
		free(zc.rx.buf);
		unlink(path);
	}
}

/* ==== 5. a read-only ioctl argument ===================================== */

static void test_readonly_arg(void)
{
	const char *d = getenv("ZC_TMPFS_DIR");
	char *path = make_file_in(d ? d : dir, "fsm-efault", MiB, 7600);

	for (int mode = 0; mode < 2; mode++) {
		struct zcopy_sendfile *a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int in = open(path, O_RDONLY | O_CLOEXEC), sock, e;
		char name[200];
		struct rx rx;
		off_t pos;
		int r;

		if (a == MAP_FAILED || in < 0)
			die("efault setup");
		sock = rx_start(&rx, &unix_peer, MiB, -1);
		*a = (struct zcopy_sendfile){
			.size = sizeof(*a),
			.flags = mode ? ZCOPY_SEND_OFFSET : 0,
			.in_fd = in,
			.out_fd = sock,
			.offset = 0,
			.count = MiB,
		};
		if (mprotect(a, PAGE, PROT_READ))
			die("mprotect");
		errno = 0;
		r = ioctl(zc_device_fd(), ZCOPY_IOC_SENDFILE, a);
		e = errno;
		rx_finish(&rx, sock);
		pos = lseek(in, 0, SEEK_CUR);
		snprintf(name, sizeof(name),
			 "fsmatrix: read-only ioctl argument (%s): EFAULT, and nothing sent",
			 mode ? "ZCOPY_SEND_OFFSET" : "file position");
		report(r == -1 && e == EFAULT && rx.got == 0 && pos == 0, name,
		       "ioctl returned %d (%s), peer received %zu bytes, file position %lld", r,
		       errname(e), rx.got, (long long)pos);
		rx_free(&rx);
		close(in);
		munmap(a, PAGE);
	}

	/* For the record: sendfile(2) with its offset in a read-only page. */
	{
		off_t *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		int in = open(path, O_RDONLY | O_CLOEXEC), sock;
		struct rx rx;
		ssize_t r;
		int e;

		if (ro == MAP_FAILED || in < 0)
			die("efault setup");
		*ro = 0;
		mprotect(ro, PAGE, PROT_READ);
		sock = rx_start(&rx, &unix_peer, MiB, -1);
		errno = 0;
		r = sendfile(sock, in, ro, MiB);
		e = errno;
		rx_finish(&rx, sock);
		note("sendfile(2) with its offset in a read-only page: returned %zd (%s), peer "
		     "received %zu bytes",
		     r, errname(e), rx.got);
		rx_free(&rx);
		close(in);
		munmap(ro, PAGE);
	}
	unlink(path);
}

/* ==== 6. a hardware-poisoned page ======================================= */

/*
 * A memfd of 3 pages of pattern(@seed) bytes with page @bad poisoned by
 * madvise(MADV_HWPOISON). The page is mapped and poisoned by a child:
 * memory_failure() sends SIGBUS to the process that has a poisoned dirty
 * page mapped, and that is then the child. Returns the memfd, or -1 with
 * *why: EINVAL when the kernel has no CONFIG_MEMORY_FAILURE.
 */
static int poisoned_memfd(uint64_t seed, int bad, int *why)
{
	unsigned char buf[3 * PAGE];
	int fd = memfd_create("zc-hwpoison", MFD_CLOEXEC), status;
	pid_t pid;

	pattern(seed, 0, buf, sizeof(buf));
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		die("memfd");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED)
			_exit(errno);
		if (madvise(p + bad * PAGE, PAGE, MADV_HWPOISON))
			_exit(errno);
		munmap(p, 3 * PAGE);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	*why = 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		return fd; /* poisoned, and the child that mapped it killed */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return fd;
	*why = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	close(fd);
	return -1;
}

static int hwpoison_skipped(int why, const char *what)
{
	if (why == EINVAL) {
		note("skip fsmatrix %s: madvise(MADV_HWPOISON) gives EINVAL: this kernel has no "
		     "CONFIG_MEMORY_FAILURE",
		     what);
		return 1;
	}
	report(0, what, "madvise(MADV_HWPOISON) failed: %s (status %d)",
	       why > 0 ? errname(why) : "killed", why);
	return 1;
}

static void test_hwpoison(void)
{
	unsigned char buf[PAGE];
	int why, fd = poisoned_memfd(7700, 1, &why);
	ssize_t n;

	if (fd < 0 && hwpoison_skipped(why, "hwpoison: memfd with its middle page poisoned"))
		return;
	errno = 0;
	n = pread(fd, buf, PAGE, PAGE);
	report(n == -1 && errno == EIO,
	       "fsmatrix hwpoison: pread(2) of the poisoned page gives EIO (sanity)",
	       "pread returned %zd (%s)", n, errname(errno));
	for (int m = 0; m < 2; m++) {
		const struct method *me = methods[1 - m];
		struct rx rx;
		int sock = rx_start(&rx, &unix_peer, 4 * PAGE, -1), e1, e2, e3;
		off_t off = 0, o1, o2, o3;
		ssize_t r1, r2, r3;
		long bad0, bad2;
		char name[200];

		errno = 0;
		r1 = me->fn(sock, fd, &off, 3 * PAGE, NULL);
		e1 = r1 < 0 ? errno : 0;
		o1 = off;
		off = PAGE;
		errno = 0;
		r2 = me->fn(sock, fd, &off, 2 * PAGE, NULL);
		e2 = r2 < 0 ? errno : 0;
		o2 = off;
		off = 2 * PAGE;
		errno = 0;
		r3 = me->fn(sock, fd, &off, PAGE, NULL);
		e3 = r3 < 0 ? errno : 0;
		o3 = off;
		rx_finish(&rx, sock);
		bad0 = rx.got >= PAGE ? check_pattern(rx.buf, PAGE, 7700, 0) : -2;
		bad2 = rx.got >= 2 * PAGE ? check_pattern(rx.buf + PAGE, PAGE, 7700, 2 * PAGE) : -2;
		snprintf(name, sizeof(name),
			 "fsmatrix hwpoison: %s stops before the poisoned page, EIO on it, sends "
			 "the page after it",
			 me->name);
		report(r1 == PAGE && o1 == PAGE && r2 == -1 && e2 == EIO && o2 == PAGE &&
			       r3 == PAGE && o3 == 3 * PAGE && rx.got == 2 * PAGE && bad0 == -1 &&
			       bad2 == -1,
		       name,
		       "from 0: %zd %s (offset %lld); from 4096: %zd %s (offset %lld); from 8192: "
		       "%zd %s (offset %lld); received %zu, first bad byte of page 1 %ld, of page "
		       "3 %ld",
		       r1, errname(e1), (long long)o1, r2, errname(e2), (long long)o2, r3,
		       errname(e3), (long long)o3, rx.got, bad0, bad2);
		rx_free(&rx);
	}
	close(fd);
}

/* ==== 7. a transfer stopping early pushes its tail ====================== */

#define EIO_AT (65536 + 4096) /* zcfuse.c: reads at or past it fail */

/* Until the peer holds @want bytes, for at most @limit s; returns the time. */
static double wait_rx(struct rx *rx, size_t want, double t0, double limit)
{
	double t;

	while ((t = now() - t0) < limit && __atomic_load_n(&rx->got, __ATOMIC_RELAXED) < want)
		usleep(1000);
	return t;
}

/*
 * How soon the peer must hold what a call returned. A tail left corked
 * (MSG_MORE, then nothing more) is sent by TCP's zero-window probe timer,
 * at least TCP_RTO_MIN (200 ms) after it was queued, which may be a little
 * less than 200 ms after the call returned; a pushed tail takes a few ms.
 */
#define TAIL_MS 100

/*
 * Send @count bytes from offset @start of @in over TCP with Nagle on; the
 * first call must return between @lo and @hi bytes (a read error stops
 * it), the peer must hold them within TAIL_MS, and the next call must fail
 * with EIO. Asserted for zcopy; sendfile(2)'s outcome is noted.
 */
static void tail_case(const struct method *m, const char *label, int in, off_t start, size_t count,
		      size_t lo, size_t hi)
{
	unsigned char *want = malloc(count);
	struct rx rx;
	int sock = rx_start(&rx, &lo4, count + 1, -1), e1, e2;
	off_t off = start;
	ssize_t r1, r2, w = 0;
	double t = 0;
	size_t at;
	long bad = -1;
	char name[240];

	if (!want)
		die("malloc");
	errno = 0;
	r1 = m->fn(sock, in, &off, count, NULL);
	e1 = r1 < 0 ? errno : 0;
	if (r1 > 0)
		t = wait_rx(&rx, r1, now(), 1.0);
	at = __atomic_load_n(&rx.got, __ATOMIC_RELAXED);
	errno = 0;
	r2 = m->fn(sock, in, &off, count, NULL);
	e2 = r2 < 0 ? errno : 0;
	rx_finish(&rx, sock);
	if (r1 > 0) {
		w = pread(in, want, r1, start);
		for (size_t i = 0; i < rx.got && i < (size_t)r1; i++)
			if (i >= (size_t)(w > 0 ? w : 0) || rx.buf[i] != want[i]) {
				bad = (long)i;
				break;
			}
	}
	note("tail, %s, %s: returned %zd (%s), the peer had %zu bytes after %.1f ms; then %zd "
	     "(%s)",
	     label, m->name, r1, errname(e1), at, t * 1e3, r2, errname(e2));
	if (m->is_zcopy) {
		snprintf(name, sizeof(name),
			 "fsmatrix tail: %s: zcopy stops at the read error and the peer has every "
			 "byte sent within %d ms",
			 label, TAIL_MS);
		report(r1 >= (ssize_t)lo && r1 <= (ssize_t)hi && at >= (size_t)r1 &&
			       t * 1e3 <= TAIL_MS && r2 == -1 && e2 == EIO &&
			       rx.got == (size_t)r1 && bad == -1,
		       name,
		       "returned %zd (%s; want %zu..%zu), the peer had %zu bytes after %.1f ms; "
		       "then %zd (%s; want EIO); received %zu in all, first bad byte %ld",
		       r1, errname(e1), lo, hi, at, t * 1e3, r2, errname(e2), rx.got, bad);
	}
	rx_free(&rx);
	free(want);
}

static void test_tail(void)
{
	static const char *const names[] = { "eio.bin", "eio-cached.bin" };
	/*
	 * From 0, the 69632 bytes before the error are more than one TCP
	 * segment over loopback (MSS 65483), and the ACK of the first
	 * pushes the rest; from 61440 the 8192 bytes fit one segment and
	 * nothing but the sender can push them.
	 */
	static const off_t starts[] = { 0, EIO_AT - 2 * PAGE };
	const char *fuse = getenv("ZC_FUSE_DIR");
	int why, fd;

	for (int i = 0; i < 2; i++) {
		for (int s = 0; s < 2; s++) {
			char path[300], label[160];

			snprintf(label, sizeof(label), "FUSE %s from %lld, EIO from offset %d",
				 names[i], (long long)starts[s], EIO_AT);
			if (!fuse) {
				report(0, label,
				       "fsmatrix tail: FUSE not mounted (ZC_FUSE_DIR not set)");
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", fuse, names[i]);
			for (int m = 0; m < 2; m++) {
				int in = open(path, O_RDONLY | O_CLOEXEC);

				if (in < 0) {
					report(0, label, "fsmatrix tail: %s: %s", path,
					       errname(errno));
					break;
				}
				tail_case(methods[1 - m], label, in, starts[s], MiB, 1,
					  EIO_AT - starts[s] + PAGE - 1);
				close(in);
			}
		}
	}

	fd = poisoned_memfd(7800, 2, &why);
	if (fd < 0 && hwpoison_skipped(why, "tail: memfd with its third page poisoned"))
		return;
	for (int m = 0; m < 2; m++)
		tail_case(methods[1 - m], "memfd, third of 3 pages poisoned", fd, 0, 3 * PAGE,
			  2 * PAGE, 2 * PAGE);
	close(fd);
}

void test_fsmatrix(void)
{
	static void (*const parts[])(void) = { test_matrix,  test_append,	test_mutate,
					       test_records, test_readonly_arg, test_hwpoison,
					       test_tail };
	double t[8];

	t[0] = now();
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		parts[i]();
		t[i + 1] = now();
	}
	note("fsmatrix: %.1f s (matrix %.1f, append %.1f, truncate/punch %.1f, records %.1f, "
	     "EFAULT %.1f, hwpoison %.1f, tail %.1f)",
	     t[7] - t[0], t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], t[5] - t[4],
	     t[6] - t[5], t[7] - t[6]);
}
