/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_sources.c - the file side: files with no page cache to lend (procfs,
 * /dev/zero, O_DIRECT: read by their ->splice_read into pages of its own,
 * counted as copied), ext4 on a loop device and the
 * block device itself, a cold cache (readahead, counted in read requests),
 * tmpfs with huge pages, overlayfs, sparse files past MAX_RW_COUNT, and a file
 * truncated while its pages are in flight.
 *
 * Environment set by run.sh: ZC_EXT4_DIR (an ext4 mount), ZC_EXT4_DEV (its
 * loop device), ZC_EXT4_STAT (that device's /sys/block/.../stat),
 * ZC_HUGE_DIR (a tmpfs mounted huge=always), ZC_OVL_DIR and ZC_OVL_LOWER
 * (an overlayfs mount and its lower directory).
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read a whole small file with read(2), for comparison. */
static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t got = 0;
	ssize_t n;

	while (fd >= 0 && got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += n;
	if (fd >= 0)
		close(fd);
	return got;
}

/* Send @count bytes of @path (opened with @oflags) to a unix peer, looping. */
static size_t send_all(const struct method *m, const char *path, int oflags, off_t start,
		       size_t count, struct rx *rx, size_t cap, struct zc_stats *total)
{
	int fd = open(path, O_RDONLY | oflags), sock = rx_start(rx, &unix_peer, cap, -1);
	off_t off = start;
	size_t sent = 0;

	*total = (struct zc_stats){ 0 };
	if (fd < 0)
		die(path);
	while (sent < count) {
		struct zc_stats st;
		ssize_t n = m->fn(sock, fd, &off, count - sent, &st);

		if (n <= 0)
			break;
		sent += n;
		total->zc_bytes += st.zc_bytes;
		total->copied_bytes += st.copied_bytes;
	}
	rx_finish(rx, sock);
	close(fd);
	return sent;
}

/* Files whose data is not in the page cache: zcopy copies, as sendfile. */
static void test_copy_path(void)
{
	unsigned char want[8192];
	struct zc_stats st;
	struct rx rx;
	size_t n, sent;
	char name[120];
	int e;

	n = slurp("/proc/version", want, sizeof(want));
	sent = send_all(&m_zcopy, "/proc/version", 0, 0, 65536, &rx, 65536, &st);
	report(n > 0 && sent == n && rx.got == n && !memcmp(rx.buf, want, n) &&
		       st.copied_bytes == n && st.zc_bytes == 0,
	       "procfs file (/proc/version): sent through a copy, bytes as read(2) gives them",
	       "read(2) %zu, sent %zu, received %zu, zc %llu copied %llu", n, sent, rx.got,
	       (unsigned long long)st.zc_bytes, (unsigned long long)st.copied_bytes);
	rx_free(&rx);

	/*
	 * /dev/zero: sendfile(2) reads it on 6.12 (copy_splice_read) and
	 * refuses it on 6.1 (no ->splice_read); zcopy must do the same.
	 */
	errno = 0;
	sent = send_all(&m_sendfile, "/dev/zero", 0, 0, 300000, &rx, 300000, &st);
	e = sent ? 0 : errno;
	rx_free(&rx);
	errno = 0;
	sent = send_all(&m_zcopy, "/dev/zero", 0, 0, 300000, &rx, 300000, &st);
	n = 0;
	for (size_t i = 0; i < rx.got && i < 300000; i++)
		n += rx.buf[i] != 0;
	if (e)
		report(sent == 0 && errno == e, "/dev/zero: refused as sendfile(2) refuses it",
		       "sendfile %s, zcopy sent %zu (%s)", errname(e), sent, errname(errno));
	else
		report(sent == 300000 && rx.got == 300000 && n == 0 && st.copied_bytes == 300000,
		       "/dev/zero: 300000 zero bytes through a copy, as sendfile(2)",
		       "sent %zu, received %zu, %zu non-zero, copied %llu", sent, rx.got, n,
		       (unsigned long long)st.copied_bytes);
	rx_free(&rx);

	n = slurp("/proc/version", want, sizeof(want));
	for (int m = 0; m < 2 && n > 20; m++) {
		sent = send_all(methods[m], "/proc/version", 0, 3, 10, &rx, 10, &st);
		snprintf(name, sizeof(name), "procfs file at offset 3: %s sends bytes 3..12",
			 methods[m]->name);
		report(sent == 10 && rx.got == 10 && !memcmp(rx.buf, want + 3, 10), name,
		       "sent %zu, received %zu (%s)", sent, rx.got, errname(errno));
		rx_free(&rx);
	}
}

static void test_ext4(void)
{
	const char *ext4 = getenv("ZC_EXT4_DIR"), *dev = getenv("ZC_EXT4_DEV");
	struct zc_stats st;
	struct rx rx;
	size_t sent;
	char *path;
	long bad;

	if (!ext4 || !dev) {
		report(0, "ext4 on a loop device", "ZC_EXT4_DIR/ZC_EXT4_DEV not set");
		return;
	}
	path = make_file_in(ext4, "ext4-file", 3 * MiB + 3 * PAGE, 41);
	for (int m = 0; m < 2; m++) {
		char name[120];

		sent = send_all(methods[m], path, 0, 4095, 3 * MiB, &rx, 3 * MiB, &st);
		bad = rx.got == 3 * MiB ? check_pattern(rx.buf, 3 * MiB, 41, 4095) : -2;
		snprintf(name, sizeof(name), "ext4: %s sends 3 MiB from offset 4095 intact%s",
			 methods[m]->name, m ? "" : ", all zero-copy");
		report(sent == 3 * MiB && bad == -1 && (m || st.zc_bytes == sent), name,
		       "sent %zu, received %zu, first bad byte %ld, zc %llu", sent, rx.got, bad,
		       (unsigned long long)st.zc_bytes);
		rx_free(&rx);
	}

	/* O_DIRECT: the caller bypasses the cache; zcopy reads directly too. */
	for (int m = 0; m < 2; m++) {
		char name[120];

		sent = send_all(methods[m], path, O_DIRECT, 8192, MiB, &rx, MiB, &st);
		bad = rx.got == MiB ? check_pattern(rx.buf, MiB, 41, 8192) : -2;
		snprintf(name, sizeof(name), "ext4 O_DIRECT file: %s sends 1 MiB intact%s",
			 methods[m]->name, m ? "" : ", counted as copied");
		report(sent == MiB && bad == -1 && (m || st.copied_bytes == MiB), name,
		       "sent %zu, received %zu, first bad byte %ld, copied %llu (%s)", sent, rx.got,
		       bad, (unsigned long long)st.copied_bytes, errname(errno));
		rx_free(&rx);
	}

	/* The block device under it: its own page cache, lent as pages. */
	{
		unsigned char *want = malloc(MiB);
		int fd = open(dev, O_RDONLY);
		ssize_t n = pread(fd, want, MiB, 12345);

		close(fd);
		sent = send_all(&m_zcopy, dev, 0, 12345, MiB, &rx, MiB, &st);
		report(n == (ssize_t)MiB && sent == MiB && rx.got == MiB &&
			       !memcmp(rx.buf, want, MiB) && st.zc_bytes == MiB,
		       "block device (loop): 1 MiB from offset 12345 as pread(2) reads it, "
		       "zero-copy",
		       "pread %zd, sent %zu, received %zu, zc %llu", n, sent, rx.got,
		       (unsigned long long)st.zc_bytes);
		rx_free(&rx);
		free(want);
	}
	unlink(path);
}

/* A block device's stat file starts with its count of completed reads. */
static long read_ios(const char *stat)
{
	return read_long(stat);
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd < 0 || write(fd, "3", 1) != 1)
		die("drop_caches");
	close(fd);
}

/*
 * A cold 64 MiB file: the pages are read from the device as the transfer
 * walks the file. With readahead that takes a few hundred large reads; one
 * read per page would take 16384.
 */
static void test_cold_cache(void)
{
	const char *ext4 = getenv("ZC_EXT4_DIR"), *stat = getenv("ZC_EXT4_STAT");
	const size_t size = 64 * MiB;
	long reads[2];
	char *path;

	if (!ext4 || !stat || read_ios(stat) < 0) {
		report(0, "cold cache readahead", "ZC_EXT4_DIR/ZC_EXT4_STAT not usable");
		return;
	}
	path = make_file_in(ext4, "cold", size, 61);
	for (int m = 0; m < 2; m++) {
		struct zc_stats st;
		struct rx rx;
		size_t sent;
		long before, bad;
		char name[120];

		drop_caches();
		before = read_ios(stat);
		sent = send_all(methods[m], path, 0, 0, size, &rx, size, &st);
		reads[m] = read_ios(stat) - before;
		bad = rx.got == size ? check_pattern(rx.buf, size, 61, 0) : -2;
		snprintf(name, sizeof(name), "cold cache: %s sends 64 MiB intact",
			 methods[m]->name);
		report(sent == size && bad == -1, name, "sent %zu, received %zu, first bad %ld",
		       sent, rx.got, bad);
		rx_free(&rx);
	}
	note("cold 64 MiB on ext4/loop: zcopy %ld read requests, sendfile %ld (16384 pages)",
	     reads[0], reads[1]);
	report(reads[0] > 0 && reads[0] < 2048 && reads[0] <= 2 * reads[1] + 16,
	       "cold cache: readahead, not a read per page (as few requests as sendfile, x2)",
	       "zcopy %ld read requests, sendfile %ld", reads[0], reads[1]);
	unlink(path);
}

static long meminfo(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

/* tmpfs huge=always: 2 MiB folios, split into page fragments correctly. */
static void test_huge(void)
{
	const char *huge = getenv("ZC_HUGE_DIR");
	const size_t size = 16 * MiB + 3;
	static const struct {
		off_t start;
		size_t count;
	} ranges[] = { { 0, 16 * MiB + 3 }, { 2 * MiB - 3, 4 * MiB + 7 }, { 6 * MiB + 4095, 5 } };
	char *path;
	long hp;

	if (!huge) {
		report(0, "tmpfs huge=always", "ZC_HUGE_DIR not set");
		return;
	}
	path = make_file_in(huge, "huge", size, 71);
	hp = meminfo("ShmemHugePages:");
	report(hp >= 8 * 1024, "tmpfs huge=always: the file sits in huge folios",
	       "ShmemHugePages %ld kB", hp);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		for (int m = 0; m < 2; m++) {
			struct zc_stats st;
			struct rx rx;
			char name[160];
			size_t sent = send_all(methods[m], path, 0, ranges[i].start,
					       ranges[i].count, &rx, ranges[i].count, &st);
			long bad = rx.got == ranges[i].count
					   ? check_pattern(rx.buf, rx.got, 71, ranges[i].start)
					   : -2;

			snprintf(name, sizeof(name), "huge folios: %s, %zu bytes from %lld intact",
				 methods[m]->name, ranges[i].count, (long long)ranges[i].start);
			report(sent == ranges[i].count && bad == -1 && (m || st.zc_bytes == sent),
			       name, "sent %zu, received %zu, first bad %ld, zc %llu", sent, rx.got,
			       bad, (unsigned long long)st.zc_bytes);
			rx_free(&rx);
		}
	}
	unlink(path);
}

/* A receiver that counts bytes and checks they are all zero. */
struct zero_rx {
	int fd;
	size_t got, nonzero;
};

static void *zero_rx_main(void *arg)
{
	struct zero_rx *z = arg;
	static unsigned char buf[256 * 1024];
	ssize_t n;

	while ((n = read(z->fd, buf, sizeof(buf))) > 0) {
		z->got += n;
		for (ssize_t i = 0; i < n; i += 8)
			z->nonzero += *(uint64_t *)(buf + i) != 0;
	}
	return NULL;
}

/*
 * A 3 GiB sparse tmpfs file, count 3 GiB: one call sends MAX_RW_COUNT
 * (2 GiB minus a page) like sendfile(2); the holes are sent as zeros
 * without allocating memory for them.
 */
static void test_max_rw_count(void)
{
	const size_t size = 3UL << 30, max_rw = 0x7ffff000;
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/sparse", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, size))
		die("sparse file");
	for (int m = 0; m < 2; m++) {
		struct zero_rx z = { 0 };
		pthread_t t;
		int sv[2];
		ssize_t r;
		char name[120];

		unix_pair(sv);
		z.fd = sv[1];
		pthread_create(&t, NULL, zero_rx_main, &z);
		lseek(fd, 0, SEEK_SET);
		r = methods[m]->fn(sv[0], fd, NULL, size, NULL);
		close(sv[0]);
		pthread_join(t, NULL);
		close(sv[1]);
		snprintf(name, sizeof(name),
			 "count 3 GiB on a sparse file: %s sends MAX_RW_COUNT zeros",
			 methods[m]->name);
		report(r == (ssize_t)max_rw && z.got == max_rw && !z.nonzero &&
			       lseek(fd, 0, SEEK_CUR) == (off_t)max_rw,
		       name, "returned %zd (%s), received %zu, %zu non-zero words", r,
		       errname(errno), z.got, z.nonzero);
	}
	report(meminfo("Shmem:") < 512 * 1024, "sparse file holes were not allocated",
	       "Shmem %ld kB", meminfo("Shmem:"));
	close(fd);
	unlink(path);
}

struct trunc_ctx {
	const struct method *m;
	int sock, fd;
	ssize_t ret;
	int err;
};

static void *trunc_sender(void *arg)
{
	struct trunc_ctx *c = arg;

	c->ret = c->m->fn(c->sock, c->fd, NULL, 32 * MiB, NULL);
	c->err = errno;
	return NULL;
}

/*
 * Truncate the file, below what is already queued, while a transfer to a
 * peer that is not reading is blocked with pages in flight. The transfer must end with a short count
 * (no crash, no leak); the peer gets exactly that many bytes, each either
 * the file's byte or a zero (truncate zeroes the cut folio's tail, which a
 * queued fragment may still show), and nothing past the old data.
 */
static void test_truncate(void)
{
	const size_t size = 32 * MiB, cut = 64 * KiB + 123;

	for (int m = 0; m < 2; m++) {
		char *path = make_file("trunc", size, 81);
		struct trunc_ctx c = { .m = methods[m] };
		int gate[2], sock;
		size_t wrong = 0;
		unsigned char want[4096];
		struct rx rx;
		pthread_t t;
		char name[160];
		ssize_t again;

		if (pipe(gate))
			die("pipe");
		c.fd = open(path, O_RDWR);
		sock = rx_start(&rx, &unix_peer, size, gate[0]);
		c.sock = sock;
		pthread_create(&t, NULL, trunc_sender, &c);
		usleep(300000); /* the sender fills the socket and blocks */
		if (ftruncate(c.fd, cut))
			die("truncate");
		if (write(gate[1], "g", 1) != 1)
			die("gate");
		pthread_join(t, NULL);
		again = methods[m]->fn(sock, c.fd, NULL, 32 * MiB, NULL);
		rx_finish(&rx, sock);
		for (size_t off = 0; off < rx.got && off < size; off += sizeof(want)) {
			size_t n = rx.got - off < sizeof(want) ? rx.got - off : sizeof(want);

			pattern(81, off, want, n);
			for (size_t i = 0; i < n; i++)
				wrong += rx.buf[off + i] != want[i] && rx.buf[off + i] != 0;
		}
		snprintf(name, sizeof(name),
			 "truncated in flight: %s ends short, peer gets file bytes or zeros",
			 methods[m]->name);
		report(c.ret > 0 && (size_t)c.ret < size &&
			       rx.got == (size_t)c.ret + (again > 0 ? again : 0) && !wrong &&
			       again >= 0,
		       name, "returned %zd (%s), then %zd; received %zu, %zu wrong bytes", c.ret,
		       errname(c.err), again, rx.got, wrong);
		note("truncate to %zu in flight: %s returned %zd, next call %zd", cut,
		     methods[m]->name, c.ret, again);
		rx_free(&rx);
		close(c.fd);
		close(gate[0]);
		close(gate[1]);
		unlink(path);
	}
}

/*
 * overlayfs: the file a program opens is overlayfs's, whose own mapping
 * holds no pages (the data lives in the lower or upper file system), so
 * zcopy reads it through overlayfs's ->splice_read, as sendfile(2) does.
 * That hands on the lower tmpfs file's page-cache pages, which still
 * leave by reference: all bytes zero-copy.
 */
static void test_overlay(void)
{
	const char *ovl = getenv("ZC_OVL_DIR"), *lower = getenv("ZC_OVL_LOWER");
	char *path, merged[300];
	struct zc_stats st;
	struct rx rx;
	size_t sent;
	long bad;

	if (!ovl || !lower) {
		report(0, "overlayfs", "ZC_OVL_DIR/ZC_OVL_LOWER not set");
		return;
	}
	make_file_in(lower, "ovl-file", MiB + 7, 95);
	snprintf(merged, sizeof(merged), "%s/ovl-file", ovl);
	path = merged;
	for (int m = 0; m < 2; m++) {
		char name[120];

		sent = send_all(methods[m], path, 0, 3, MiB + 4, &rx, MiB + 4, &st);
		bad = rx.got == MiB + 4 ? check_pattern(rx.buf, MiB + 4, 95, 3) : -2;
		snprintf(name, sizeof(name), "overlayfs file: %s sends it intact%s",
			 methods[m]->name, m ? "" : " (its ->splice_read), all by reference");
		report(sent == MiB + 4 && bad == -1 && (m || st.zc_bytes == sent), name,
		       "sent %zu, received %zu, first bad %ld, zero-copy %llu", sent, rx.got, bad,
		       (unsigned long long)st.zc_bytes);
		rx_free(&rx);
	}
}

void test_sources(void)
{
	test_copy_path();
	test_overlay();
	test_ext4();
	test_cold_cache();
	test_huge();
	test_max_rw_count();
	test_truncate();
}
