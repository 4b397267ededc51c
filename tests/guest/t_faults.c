// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * t_faults.c - transfers while the kernel's allocations fail (debug kernels).
 *
 * What it shows: that every allocation failure zcopy can meet on its way
 * (its batch, the page cache folios it adds for a file that is not cached,
 * the page fragment a memory segment is copied into, the skbs TCP and
 * AF_UNIX allocate for the pages) ends in a clean errno or a short count,
 * never in lost, repeated or stale bytes, and never in a leak or a
 * use-after-free (the debug kernels run KASAN and kmemleak underneath).
 *
 * Two of the kernel's fault injectors, one run each (`zctest faults slab`,
 * `zctest faults page`): failslab fails slab allocations (kmalloc, the
 * skb heads), fail_page_alloc fails the page allocator itself (page cache
 * folios, page fragments, large kmallocs, the pages behind new slabs).
 * Both fail allocations of marked tasks only: run.sh sets the injector up
 * (task-filter, a probability, GFP_KERNEL and, for pages, order 0 and
 * highmem-capable allocations included) and this test marks the sending
 * thread with /proc/thread-self/make-it-fail around each call, so the
 * receiving thread and softirq work are left alone.
 *
 * A failed allocation surfaces as ENOMEM (zcopy's own batch, a page cache
 * folio, a page fragment) or ENOBUFS (the socket's skb: AF_UNIX); TCP
 * waits for memory and retries inside the call. Like any program using
 * sendfile(2), the sender retries after either and continues from the
 * offset the call reports; the receiver must then have exactly the bytes.
 * The test also requires that failures were injected (the injector's
 * "times" budget went down): otherwise the injector was not working and
 * nothing was tested.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

/* A fault injector of the kernel, as debugfs shows it. */
struct injector {
	const char *name;  /* its debugfs directory, /sys/kernel/debug/NAME */
	const char *times; /* its budget of failures left */
};

static const struct injector failslab = { "failslab", FAILSLAB_TIMES };
static const struct injector fail_page_alloc = { "fail_page_alloc", FAIL_PAGE_TIMES };

/* What the calls of one run met. */
struct tally {
	int nomem;  /* calls that failed ENOMEM or ENOBUFS and were retried */
	int shorts; /* calls that sent less than asked (a later page failed) */
	int other;  /* calls that failed otherwise: each one a failed check */
};

static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Length: ...\r\n\r\n";
static const char trl[] = "\r\n--trailer--\r\n";

/*
 * Drop @path's pages from the page cache, so that zcopy must add a folio
 * for each and read it (the allocations fail_page_alloc fails). Returns
 * how many pages stayed resident (mincore()).
 */
static size_t make_cold(const char *path, size_t size)
{
	size_t pages = (size + PAGE - 1) / PAGE, resident = 0;
	unsigned char *vec = malloc(pages ? pages : 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *map;

	if (fd < 0 || !vec)
		die(path);
	if (fdatasync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die("fadvise DONTNEED");
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || mincore(map, size, vec))
		die("mincore");
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	munmap(map, size);
	close(fd);
	free(vec);
	return resident;
}

/*
 * One transfer of @size bytes of @path to @p under fault injection: with
 * zc_sendfile() of @chunk bytes a call, or (@sendv) with zc_sendv() of a
 * header, the file and a trailer (the header and trailer are copied into
 * page fragments).
 */
static void faulty_transfer(const struct injector *inj, const struct peer *p, const char *path,
			    size_t size, uint64_t seed, int sendv, size_t chunk, int advice,
			    const char *what, struct tally *t)
{
	size_t want = size + (sendv ? sizeof(hdr) + sizeof(trl) : 0), sent = 0;
	struct zcopy_seg segs[3], *s = segs;
	unsigned int nr = 3;
	char name[192];
	off_t off = 0;
	struct rx rx;
	int in, sock, calls = 0;
	long bad = -1;

	snprintf(name, sizeof(name), "%s: %s%s, %zu bytes, to %s arrive intact", inj->name,
		 sendv ? "header + " : "", what, size, p->name);
	if (sendv)
		strcat(name, " + trailer");
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0 || posix_fadvise(in, 0, 0, advice))
		die(path);
	segs[0] = zc_seg_mem(hdr, sizeof(hdr));
	segs[1] = zc_seg_file(in, 0, size);
	segs[2] = zc_seg_mem(trl, sizeof(trl));
	sock = rx_start(&rx, p, want + 1, -1);
	while (sent < want && calls < 100000) {
		size_t ask = want - sent < chunk ? want - sent : chunk;
		ssize_t n;
		int err;

		if (make_it_fail(1))
			die("/proc/thread-self/make-it-fail");
		if (sendv)
			n = zc_sendv(sock, s, nr, 0, NULL);
		else
			n = zc_sendfile(sock, in, &off, ask);
		err = errno;
		if (make_it_fail(0))
			die("/proc/thread-self/make-it-fail");
		calls++;
		if (n > 0) {
			sent += (size_t)n;
			if (!sendv && (size_t)n < ask)
				t->shorts++;
			if (sendv && zc_sendv_advance(&s, &nr, (size_t)n)) {
				t->other++;
				note("%s: %zd bytes sent, more than the vector held", name, n);
				break;
			}
		} else if (n < 0 && (err == ENOMEM || err == ENOBUFS)) {
			t->nomem++;
		} else {
			t->other++;
			note("%s: call %d returned %zd (%s)", name, calls, n,
			     n < 0 ? errname(err) : "no progress");
			break;
		}
		if (!sendv && off != (off_t)sent) {
			t->other++;
			note("%s: offset %lld after %zu bytes sent", name, (long long)off, sent);
			break;
		}
	}
	rx_finish(&rx, sock);
	close(in);
	if (rx.got == want) {
		size_t at = sendv ? sizeof(hdr) : 0;

		if (sendv && memcmp(rx.buf, hdr, sizeof(hdr)))
			bad = 0;
		else if (sendv && memcmp(rx.buf + at + size, trl, sizeof(trl)))
			bad = (long)(at + size);
		else if ((bad = check_pattern(rx.buf + at, size, seed, 0)) >= 0)
			bad += (long)at;
	}
	if (rx.got != want)
		report(0, name, "peer received %zu of %zu bytes (%zu sent)", rx.got, want, sent);
	else if (bad >= 0)
		report(0, name, "byte %ld differs", bad);
	else
		report(1, name, "%d calls", calls);
	rx_free(&rx);
}

/* Files in the page cache (tmpfs) to every kind of peer, whole and in a vector. */
static void hot_files(const struct injector *inj, struct tally *t)
{
	const struct peer *peers[] = { &lo4, &unix_peer, &lo6 };
	unsigned int i, j;

	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		for (j = 0; j < 4; j++) {
			size_t size = (j + 1) * MiB + j * 1234;
			char *path = make_file("faults", size, 40 + j);

			/* 256 KiB a call: many calls, many batches to fail. */
			faulty_transfer(inj, peers[i], path, size, 40 + j, j == 3, 256 * KiB,
					POSIX_FADV_NORMAL, "a tmpfs file", t);
			unlink(path);
		}
	}
}

/* Set @inj's probability of failure, in percent; returns the old one. */
static long set_probability(const struct injector *inj, long pct)
{
	char path[128], val[32];
	long old;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/probability", inj->name);
	old = read_long(path);
	snprintf(val, sizeof(val), "%ld", pct);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die(path);
	close(fd);
	return old;
}

/*
 * Files on ext4 whose pages were dropped: zcopy adds and reads each folio
 * itself (fail_page_alloc only). Readahead would hide that: it allocates
 * first, without retrying, and a failure only narrows its window. So the
 * descriptor is POSIX_FADV_RANDOM (readahead reads just the pages asked
 * for) and each call asks for 4 pages: when readahead's allocation failed
 * and then zcopy's own does, the call fails ENOMEM (its first page) or
 * stops short (a later one). That takes two failures in a row, so this
 * phase fails one page allocation in four, not ten; the test requires
 * some of those calls.
 */
static void cold_files(const struct injector *inj, const char *fs_dir, struct tally *t)
{
	const struct peer *peers[] = { &lo4, &unix_peer };
	int before = t->nomem + t->shorts;
	size_t resident = 0;
	unsigned int i, j;
	long old = set_probability(inj, 25);

	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		for (j = 0; j < 2; j++) {
			size_t size = (j + 1) * 2 * MiB + 4321;
			char *path = make_file_in(fs_dir, "faults-cold", size, 50 + j);

			resident += make_cold(path, size);
			faulty_transfer(inj, peers[i], path, size, 50 + j, j == 1, 4 * PAGE,
					POSIX_FADV_RANDOM, "an uncached ext4 file", t);
			unlink(path);
		}
	}
	set_probability(inj, old);
	note("%s: %zu pages of the ext4 files were still cached when sent", inj->name, resident);
	note("%s: %d calls on them ended ENOMEM or short", inj->name,
	     t->nomem + t->shorts - before);
	report(t->nomem + t->shorts > before,
	       "fail_page_alloc: zcopy's own folio allocations failed (calls ended ENOMEM or "
	       "short)",
	       "no call did");
}

/*
 * zctest faults slab|page [EXT4_DIR]: transfers under failslab or
 * fail_page_alloc, which run.sh has set up; EXT4_DIR (page only) holds
 * the uncached files.
 */
void test_faults(const char *which, const char *ext4_dir)
{
	const struct injector *inj = !strcmp(which, "page") ? &fail_page_alloc : &failslab;
	long times = read_long(inj->times);
	struct tally t = { 0, 0, 0 };
	char name[128];

	if (times <= 0) {
		snprintf(name, sizeof(name), "%s is set up with a budget of failures", inj->name);
		report(0, name, "%s is %ld", inj->times, times);
		return;
	}
	hot_files(inj, &t);
	if (inj == &fail_page_alloc && ext4_dir)
		cold_files(inj, ext4_dir, &t);
	times -= read_long(inj->times);
	snprintf(name, sizeof(name), "%s: allocations failed in zcopy's calls", inj->name);
	report(times > 0, name, "%ld failures injected", times);
	note("%s: %ld allocations failed", inj->name, times);
	note("%s: %d calls failed with ENOMEM or ENOBUFS and were retried, %d were short",
	     inj->name, t.nomem, t.shorts);
	snprintf(name, sizeof(name), "%s: every failed call failed with ENOMEM or ENOBUFS",
		 inj->name);
	report(t.other == 0, name, "%d others", t.other);
}
