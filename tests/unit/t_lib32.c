// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * t_lib32 - host unit test of libzcopy's offset limit (tests/host.sh).
 *
 * With a 32-bit off_t, sendfile(2) given an offset stops at MAX_NON_LFS
 * (2 GiB - 1): a range ending past it is cut there, one starting there
 * fails with EOVERFLOW. The library must do the same, since its ioctl
 * carries 64-bit offsets. host.sh builds this test with
 * userspace/lib/zcopy.c for -m64, -m32 and -m32 -D_FILE_OFFSET_BITS=64,
 * linked with -Wl,--wrap=open,--wrap=open64,--wrap=ioctl: opening
 * /dev/zcopy gives /dev/null, and ZCOPY_IOC_SENDFILE is answered by a
 * model of the module (a 5 GiB file, one pair of valid descriptors), so
 * the library runs as built, without the kernel.
 *
 *   t_lib32          run the tests; "ok"/"not ok" lines, then a summary
 *   t_lib32 probe    exit 0 (host.sh: can this machine run the build?)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zc_limits.h"
#include "zcopy.h"

#define IN_FD	  40
#define OUT_FD	  41
#define FILE_SIZE (5LL << 30)
#define MAX_RW	  0x7ffff000LL

static int passed, failed;

static void expect(int cond, const char *name)
{
	if (cond) {
		passed++;
		printf("ok - %s\n", name);
	} else {
		failed++;
		printf("not ok - %s\n", name);
	}
}

/* ---- the model of /dev/zcopy ------------------------------------------ */

static int old_module;		   /* 1: a module before 0.4.0 (no OFFSET_PTR) */
static int64_t fpos;		   /* the in file's position */
static int calls;		   /* ioctls since reset() */
static struct zcopy_sendfile seen; /* the last ioctl's argument, as passed */

int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);

static int fake_open(const char *path, int flags, va_list ap)
{
	mode_t mode = 0;

	if (!strcmp(path, ZCOPY_DEVICE_PATH))
		return __real_open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	return __real_open(path, flags, mode);
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = fake_open(path, flags, ap);
	va_end(ap);
	return fd;
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = fake_open(path, flags, ap);
	va_end(ap);
	return fd;
}

/* The module's answer, for the parts this test needs (kmod/xfer.c). */
int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct zcopy_sendfile *a;
	int64_t pos, n, *uoff = NULL;
	va_list ap;
	int r;

	(void)fd;
	va_start(ap, req);
	a = va_arg(ap, struct zcopy_sendfile *);
	va_end(ap);
	if (req != ZCOPY_IOC_SENDFILE) {
		errno = ENOTTY;
		return -1;
	}
	calls++;
	seen = *a;
	if (a->in_fd != IN_FD || a->out_fd != OUT_FD) {
		errno = EBADF;
		return -1;
	}
	if ((a->flags & ZCOPY_SEND_OFFSET_PTR) && old_module) {
		errno = EINVAL; /* an unknown flag */
		return -1;
	}
	/* ZCOPY_SEND_OFFSET_PTR: the offset read through the caller's pointer. */
	if (a->flags & ZCOPY_SEND_OFFSET_PTR)
		memcpy(&a->offset, (void *)(uintptr_t)a->offset, 8);
	if (a->flags & ZCOPY_SEND_OFFSET_PTR)
		uoff = (int64_t *)(uintptr_t)seen.offset;
	pos = (a->flags & ZCOPY_SEND_OFFSET) ? a->offset : fpos;
	if (pos < 0) {
		errno = EINVAL;
		return -1;
	}
	n = a->count < (uint64_t)MAX_RW ? (int64_t)a->count : MAX_RW;
	if (n > FILE_SIZE - pos)
		n = pos < FILE_SIZE ? FILE_SIZE - pos : 0;
	a->offset = pos + n;
	if (!(a->flags & ZCOPY_SEND_OFFSET))
		fpos = pos + n;
	a->sent = a->zc_bytes = (uint64_t)n;
	a->copied_bytes = 0;
	a->stop = (uint64_t)n < a->count ? ZCOPY_STOP_EOF : ZCOPY_STOP_DONE;
	r = (int)n;
	/* NODISKIO in this model: the page cache holds the first 8 KiB only. */
	if ((a->flags & ZCOPY_SEND_NODISKIO) && pos + n > 8192) {
		n = pos < 8192 ? 8192 - pos : 0;
		a->offset = pos + n;
		a->sent = a->zc_bytes = (uint64_t)n;
		a->stop = ZCOPY_STOP_DISK;
		r = (int)n;
		if (!n) {
			errno = EBUSY;
			r = -1;
		}
	}
	/* sendfile(2)'s write-back, after success and failure alike. */
	if (uoff)
		*uoff = a->offset;
	return r;
}

/* @o as 64 bits: compares with 64-bit values in every build, no warning. */
static int64_t off64(off_t o)
{
	return o;
}

static void reset(void)
{
	calls = 0;
	memset(&seen, 0, sizeof(seen));
	errno = 0;
}

/* ---- zc_limit_range(): do_sendfile()'s arithmetic ------------------------ */

static void test_limit_range(void)
{
	static const struct {
		const char *name;
		int64_t pos;
		uint64_t count, want;
		int ret;
	} rows[] = {
		{ "range well below the limit: unchanged", 0, 100, 100, 0 },
		{ "range ending at the limit: unchanged", 0x7fffff00, 0xff, 0xff, 0 },
		{ "range crossing the limit: cut at it", 0x7ffff000, 1 << 20, 0xfff, 0 },
		{ "count SIZE_MAX from 0: cut at the limit", 0, UINT64_MAX, 0x7fffffff, 0 },
		{ "start at the limit, 1 byte: EOVERFLOW", 0x7fffffff, 1, 1, -1 },
		{ "start at the limit, 0 bytes: no error", 0x7fffffff, 0, 0, 0 },
		{ "start past the limit, 0 bytes: EOVERFLOW", 0x80000000LL, 0, 0, -1 },
		{ "start far past the limit: EOVERFLOW", INT64_MAX, 1, 1, -1 },
		{ "negative start: left to the kernel", -1, 10, 10, 0 },
	};
	char name[160];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t count = rows[i].count;
		int ret = zc_limit_range(rows[i].pos, &count, ZC_MAX_NON_LFS);

		snprintf(name, sizeof(name), "zc_limit_range: %s", rows[i].name);
		expect(ret == rows[i].ret && count == rows[i].want, name);
	}
}

/* ---- the library, through the model -------------------------------------- */

static void test_library(void)
{
	int small = sizeof(off_t) < 8;
	struct zc_stats st = { .zc_bytes = 1, .copied_bytes = 1 };
	off_t off;
	ssize_t n;

	/* A range crossing 2 GiB - 1: cut there with a 32-bit off_t. */
	reset();
	off = 0x7ffff000;
	n = zc_sendfile(OUT_FD, IN_FD, &off, 1 << 20);
	if (small)
		expect(n == 0xfff && off == 0x7fffffff && seen.count == 0xfff,
		       "32-bit off_t: a range crossing 2 GiB - 1 ends there, offset 0x7fffffff");
	else
		expect(n == 1 << 20 && off64(off) == 0x7ffff000LL + (1 << 20) &&
			       seen.count == 1 << 20,
		       "64-bit off_t: a range crossing 2 GiB - 1 is sent whole");

	/* The next call, from 2 GiB - 1. */
	reset();
	off = 0x7fffffff;
	n = zc_sendfile_ex(OUT_FD, IN_FD, &off, 4096, 0, &st);
	if (small)
		expect(n == -1 && errno == EOVERFLOW && off == 0x7fffffff && calls == 1 &&
			       seen.count == 0 && st.zc_bytes == 0 && st.copied_bytes == 0,
		       "32-bit off_t: from 2 GiB - 1, EOVERFLOW, offset and stats untouched");
	else
		expect(n == 4096 && off64(off) == 0x7fffffffLL + 4096 && st.zc_bytes == 4096,
		       "64-bit off_t: from 2 GiB - 1, sent");

	reset();
	off = 0x7fffffff;
	n = zc_sendfile(OUT_FD, IN_FD, &off, 0);
	expect(n == 0 && off == 0x7fffffff && calls == 1,
	       "a zero count at 2 GiB - 1 returns 0, no error");

	/* do_sendfile() checks the descriptors before the range. */
	reset();
	off = 0x7fffffff;
	n = zc_sendfile(OUT_FD, IN_FD + 2, &off, 4096);
	expect(n == -1 && errno == EBADF && off == 0x7fffffff,
	       "from 2 GiB - 1 with a bad in_fd: EBADF, as sendfile(2)");

	reset();
	off = -1;
	n = zc_sendfile(OUT_FD, IN_FD, &off, 10);
	expect(n == -1 && errno == EINVAL && off == -1, "a negative offset: EINVAL");

	/*
	 * NULL offset: sendfile(2) reads at the file position with the file
	 * system's limit, not MAX_NON_LFS, for every off_t: nothing is cut.
	 */
	reset();
	fpos = 0x7ffff000;
	n = zc_sendfile(OUT_FD, IN_FD, NULL, 1 << 20);
	expect(n == 1 << 20 && seen.count == 1 << 20 && !(seen.flags & ZCOPY_SEND_OFFSET) &&
		       fpos == 0x7ffff000LL + (1 << 20),
	       "NULL offset: a range crossing 2 GiB - 1 is sent whole (no off_t involved)");

	if (!small) {
		int64_t big = 3LL << 30;

		reset();
		off = (off_t)big;
		n = zc_sendfile(OUT_FD, IN_FD, &off, 8192);
		expect(n == 8192 && off64(off) == big + 8192,
		       "64-bit off_t: an offset of 3 GiB works");
	}

	/* ZC_SEND_EXT: the hint goes in, the stop reason comes out. */
	reset();
	off = 0;
	st = (struct zc_stats){ .readahead = 1 << 20, .stop = 77 };
	n = zc_sendfile_ex(OUT_FD, IN_FD, &off, 65536, ZCOPY_SEND_NODISKIO | ZC_SEND_EXT, &st);
	expect(n == 8192 && off == 8192 && seen.readahead == 1 << 20 &&
		       !(seen.flags & ZC_SEND_EXT) && (seen.flags & ZCOPY_SEND_NODISKIO) &&
		       st.stop == ZCOPY_STOP_DISK && st.zc_bytes == 8192,
	       "ZC_SEND_EXT: readahead passed, the library flag not, stop DISK back");
	st = (struct zc_stats){ .readahead = 4096, .stop = 77 };
	n = zc_sendfile_ex(OUT_FD, IN_FD, &off, 65536, ZCOPY_SEND_NODISKIO | ZC_SEND_EXT, &st);
	expect(n == -1 && errno == EBUSY && off == 8192 && st.stop == ZCOPY_STOP_DISK &&
		       st.zc_bytes == 0 && st.readahead == 4096,
	       "ZC_SEND_EXT: EBUSY, stop DISK, the hint left alone");
	st = (struct zc_stats){ .readahead = 4096, .stop = 77 };
	n = zc_sendfile_ex(OUT_FD, IN_FD, &off, 100, 0, &st);
	expect(n == 100 && seen.readahead == 0 && st.stop == 77,
	       "without ZC_SEND_EXT: no hint passed, stop untouched (a 0.2.0 caller's struct)");
	zc_close();
}

/*
 * The offset pointer goes to the module (ZCOPY_SEND_OFFSET_PTR) with a
 * 64-bit off_t; a module before 0.4.0 refuses the flag (EINVAL) and the
 * library, having learnt that, reads and writes the offset itself.
 */
static void test_offset_ptr(void)
{
	int big = sizeof(off_t) == 8;
	off_t off;
	ssize_t n;

	reset();
	old_module = 1;
	off = 100;
	n = zc_sendfile(OUT_FD, IN_FD, &off, 10);
	expect(n == 10 && off64(off) == 110 && calls == 1 + big &&
		       !(seen.flags & ZCOPY_SEND_OFFSET_PTR) && seen.offset == 100,
	       big ? "older module: the flag refused (EINVAL), the call made again the old way"
		   : "32-bit off_t: the library reads and writes the offset itself");
	reset();
	off = 200;
	n = zc_sendfile(OUT_FD, IN_FD, &off, 10);
	expect(n == 10 && off64(off) == 210 && calls == 1 && !(seen.flags & ZCOPY_SEND_OFFSET_PTR),
	       "older module, learnt: one call, the old way");
	reset();
	off = -1;
	n = zc_sendfile(OUT_FD, IN_FD, &off, 10);
	expect(n == -1 && errno == EINVAL && off64(off) == -1 && calls == 1,
	       "older module: a negative offset is EINVAL, once");
	old_module = 0;
	zc_close();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "probe"))
		return 0;
	printf("# off_t: %zu bits, pointers: %zu bits\n", sizeof(off_t) * 8, sizeof(void *) * 8);
	test_limit_range();
	/* In a child: what the library learns about the module lasts a process. */
	fflush(stdout);
	if (!fork()) {
		test_offset_ptr();
		printf("t_lib32 older module: %d passed, %d failed\n", passed, failed);
		fflush(stdout);
		_exit(failed != 0);
	} else {
		int status;

		wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	test_library();
	printf("t_lib32: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
