// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * t_faults.c - transfers while the kernel's allocations fail (debug kernels).
 *
 * What it shows: that every allocation failure zcopy can meet on its way
 * (its batch, the skbs TCP and AF_UNIX allocate for the pages) ends in a
 * clean errno or a short count, never in lost, repeated or stale bytes, and
 * never in a leak or a use-after-free (the debug kernels run KASAN and
 * kmemleak underneath). The kernel's failslab fault injector fails slab
 * allocations of one task only: run.sh sets it up (task-filter, a
 * probability, GFP_KERNEL included) and this test marks the sending thread
 * with /proc/thread-self/make-it-fail around each call, so the receiving
 * thread and softirq work are left alone.
 *
 * A failed allocation surfaces as ENOMEM (zcopy's own batch) or ENOBUFS
 * (the socket's skb: AF_UNIX); TCP waits for memory and retries inside
 * the call. Like any program using sendfile(2), the sender retries after
 * either and continues from the offset the call reports; the receiver must
 * then have exactly the file. The test also requires that failures were
 * injected (failslab's "times" budget went down): otherwise the injector
 * was not working and nothing was tested.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define FAILSLAB_TIMES "/sys/kernel/debug/failslab/times"

static long failslab_times(void)
{
	return read_long(FAILSLAB_TIMES);
}

/*
 * Mark or unmark this thread for failslab. The file stays open: opening it
 * allocates (a struct file), and with the mark set that allocation could
 * fail and leave the thread marked for good.
 */
static int make_it_fail(int on)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc/thread-self/make-it-fail", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return pwrite(fd, on ? "1" : "0", 1, 0) == 1 ? 0 : -1;
}

/* One transfer of @size bytes of @path to @p under fault injection. */
static void faulty_transfer(const struct peer *p, const char *path, size_t size, uint64_t seed,
			    int *nomem, int *other)
{
	char name[128];
	size_t sent = 0;
	off_t off = 0;
	struct rx rx;
	int in, sock, calls = 0;
	long bad;

	snprintf(name, sizeof(name), "failslab: %zu bytes to %s arrive intact", size, p->name);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(path);
	sock = rx_start(&rx, p, size + 1, -1);
	while (sent < size && calls < 100000) {
		ssize_t n;
		int err;

		if (make_it_fail(1))
			die("/proc/thread-self/make-it-fail");
		/* 256 KiB per call: many calls, many batches to fail. */
		n = zc_sendfile(sock, in, &off, size - sent < 256 * KiB ? size - sent : 256 * KiB);
		err = errno;
		if (make_it_fail(0))
			die("/proc/thread-self/make-it-fail");
		calls++;
		if (n > 0) {
			sent += (size_t)n;
		} else if (n < 0 && (err == ENOMEM || err == ENOBUFS)) {
			(*nomem)++;
		} else {
			(*other)++;
			note("%s: call %d returned %zd (%s)", name, calls, n,
			     n < 0 ? errname(err) : "no progress");
			break;
		}
		if (off != (off_t)sent) {
			(*other)++;
			note("%s: offset %lld after %zu bytes sent", name, (long long)off, sent);
			break;
		}
	}
	rx_finish(&rx, sock);
	close(in);
	bad = rx.got == size ? check_pattern(rx.buf, size, seed, 0) : -1;
	if (rx.got != size)
		report(0, name, "peer received %zu of %zu bytes (%zu sent)", rx.got, size, sent);
	else if (bad >= 0)
		report(0, name, "byte %ld differs", bad);
	else
		report(1, name, "%d calls", calls);
	rx_free(&rx);
}

void test_faults(void)
{
	const struct peer *peers[] = { &lo4, &unix_peer, &lo6 };
	long times = failslab_times();
	int nomem = 0, other = 0;
	unsigned int i, j;

	if (times <= 0) {
		report(0, "failslab is set up with a budget of failures", FAILSLAB_TIMES " is %ld",
		       times);
		return;
	}
	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		for (j = 0; j < 4; j++) {
			size_t size = (j + 1) * MiB + j * 1234;
			char *path = make_file("faults", size, 40 + j);

			faulty_transfer(peers[i], path, size, 40 + j, &nomem, &other);
			unlink(path);
		}
	}
	times -= failslab_times();
	report(times > 0, "failslab: allocations failed in zcopy's calls", "%ld failures injected",
	       times);
	note("failslab: %d calls failed with ENOMEM or ENOBUFS and were retried", nomem);
	report(other == 0, "failslab: every failed call failed with ENOMEM or ENOBUFS", "%d others",
	       other);
}
