/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libzcopy: sendfile(2)'s signature and contract on top of /dev/zcopy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zc_limits.h"
#include "zcopy.h"

#define ZC_API __attribute__((visibility("default")))

#ifndef ZCOPY_LIB_VERSION
#define ZCOPY_LIB_VERSION "unknown"
#endif

/* -1: not open yet. Shared by all threads; set once by compare-exchange. */
static atomic_int zc_fd = -1;
/*
 * What the device was when the library opened it (st_rdev, st_ino), to
 * tell later whether zc_fd still refers to it: see zc_ioctl().
 */
static atomic_ullong zc_rdev, zc_ino;

ZC_API int zc_device_fd(void)
{
	int fd = atomic_load_explicit(&zc_fd, memory_order_acquire);
	int expected = -1;
	struct stat st;

	if (fd >= 0)
		return fd;
	/*
	 * O_NONBLOCK is for read(2) of notices only (zc_notices_read()):
	 * the sends take their blocking mode from the socket and flags.
	 */
	fd = open(ZCOPY_DEVICE_PATH, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	/*
	 * Every open of the device has the same identity, so racing openers
	 * store the same values; the release below publishes them with fd.
	 */
	if (fstat(fd, &st) == 0) {
		atomic_store_explicit(&zc_rdev, st.st_rdev, memory_order_relaxed);
		atomic_store_explicit(&zc_ino, st.st_ino, memory_order_relaxed);
	}
	/* Another thread may have opened it meanwhile: keep theirs. */
	if (!atomic_compare_exchange_strong(&zc_fd, &expected, fd)) {
		close(fd);
		fd = expected;
	}
	return fd;
}

/* Is @fd (still) a descriptor of the device the library opened? */
static int zc_fd_is_device(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == atomic_load_explicit(&zc_rdev, memory_order_relaxed) &&
	       st.st_ino == atomic_load_explicit(&zc_ino, memory_order_relaxed);
}

ZC_API void zc_close(void)
{
	int fd = atomic_exchange(&zc_fd, -1);

	/* Not ours any more (see zc_ioctl()): the program's, left alone. */
	if (fd >= 0 && zc_fd_is_device(fd))
		close(fd);
}

/*
 * ioctl(2) on the library's descriptor, which may not be the library's
 * any more. Programs close descriptors they did not open: a daemon that
 * closes everything at start-up, a server that dup2()s over a number it
 * believes free. The cached number may then be closed (EBADF) or name
 * the program's own socket, file or pipe, none of which knows zcopy's
 * ioctls (ENOTTY; EINVAL from some drivers). So on exactly those errors
 * (and never on success: no system call added to a send) the descriptor
 * is checked against the device's identity. If it is no longer the
 * device, it is forgotten, not closed (it is the program's now), the
 * device opened again and the call made once more: the first call never
 * reached zcopy, so nothing can be sent twice. Still the device: the
 * error was the call's own, returned as it is.
 */
static int zc_ioctl(unsigned long req, void *arg)
{
	int dev = zc_device_fd();
	int ret, err;

	if (dev < 0)
		return -1;
	ret = ioctl(dev, req, arg);
	if (ret >= 0 || (errno != EBADF && errno != ENOTTY && errno != EINVAL))
		return ret;
	err = errno;
	if (zc_fd_is_device(dev)) {
		errno = err;
		return -1;
	}
	/* Another thread may have done this already: then use its fd. */
	atomic_compare_exchange_strong(&zc_fd, &dev, -1);
	dev = zc_device_fd();
	if (dev < 0)
		return -1;
	return ioctl(dev, req, arg);
}

/*
 * Whether the module takes ZCOPY_SEND_OFFSET_PTR (0.4.0 and later): 1 yes,
 * 0 no (an older module: it refuses the flag with EINVAL), -1 not known
 * yet. Learnt from the first call given an offset; shared by all threads.
 */
static atomic_int zc_offset_ptr = -1;

/*
 * An offset pointer goes to the kernel, which reads and writes it as
 * sendfile(2) does: a pointer to unmapped or read-only memory gives
 * EFAULT, where reading it here would kill the caller. Returns the
 * ioctl's answer, or -2 when only an older module can have refused it.
 */
static int zc_ioctl_offset_ptr(struct zcopy_sendfile *args, off_t *offset)
{
	int known = atomic_load_explicit(&zc_offset_ptr, memory_order_relaxed);
	int r;

	args->flags |= ZCOPY_SEND_OFFSET | ZCOPY_SEND_OFFSET_PTR;
	args->offset = (int64_t)(uintptr_t)offset;
	r = zc_ioctl(ZCOPY_IOC_SENDFILE, args);
	if (r >= 0 || errno != EINVAL || known == 1) {
		if (known < 0 && (r >= 0 || errno != EINVAL))
			atomic_store_explicit(&zc_offset_ptr, 1, memory_order_relaxed);
		return r;
	}
	/*
	 * EINVAL before the module was known: an older module's answer to
	 * the flag, or this one's to the call (a module that knows the flag
	 * reads the pointer first, so the pointer is readable here). The
	 * caller tries again the old way and learns which.
	 */
	args->flags &= ~(ZCOPY_SEND_OFFSET | ZCOPY_SEND_OFFSET_PTR);
	args->offset = 0;
	return -2;
}

/*
 * A successful call's counts, from the struct the module wrote back. If
 * that write-back failed (see zc_sendfile_cookie()) they read as the
 * zeros it wrote before sending: accounting, never the count of bytes.
 */
static void zc_stats_out(struct zc_stats *stats, int ext, uint64_t zc_bytes, uint64_t copied_bytes,
			 uint32_t stop)
{
	if (!stats)
		return;
	stats->zc_bytes = zc_bytes;
	stats->copied_bytes = copied_bytes;
	if (ext)
		stats->stop = stop;
}

static ssize_t zc_sendfile_cookie(int out_fd, int in_fd, off_t *offset, size_t count,
				  unsigned int flags, uint64_t cookie, struct zc_stats *stats)
{
	int ext = stats && (flags & ZC_SEND_EXT);
	struct zcopy_sendfile args = {
		.size = sizeof(args),
		.flags = flags & ~ZC_SEND_EXT,
		.in_fd = in_fd,
		.out_fd = out_fd,
		.count = count,
		.cookie = cookie,
		.readahead = ext ? stats->readahead : 0,
	};
	int r, tried = 0;

	if (stats) {
		stats->zc_bytes = 0;
		stats->copied_bytes = 0;
		if (ext)
			stats->stop = ZCOPY_STOP_ERROR;
	}
	if (flags & (ZCOPY_SEND_OFFSET | ZCOPY_SEND_OFFSET_PTR)) {
		errno = EINVAL; /* the offset pointer decides that */
		return -1;
	}
	if (zc_device_fd() < 0)
		return -1;
	/*
	 * A 64-bit off_t is the kernel's loff_t: the kernel takes the
	 * pointer itself. A 32-bit one it cannot (the flag reads 8 bytes),
	 * nor can an older module: then the library reads and writes it.
	 */
	if (sizeof(off_t) == 8 && offset &&
	    atomic_load_explicit(&zc_offset_ptr, memory_order_relaxed) != 0) {
		r = zc_ioctl_offset_ptr(&args, offset);
		if (r != -2)
			goto out;
		tried = 1;
	}
	if (offset) {
		args.flags |= ZCOPY_SEND_OFFSET;
		args.offset = *offset;
	}
	/*
	 * A 32-bit off_t: this build's sendfile(2) is the syscall that stops
	 * at MAX_NON_LFS (2 GiB - 1) when given an offset. The ioctl carries
	 * 64-bit offsets, so stop at the same place: the range is cut to end
	 * there, and the offset written back always fits. A range starting
	 * there fails with EOVERFLOW, after the descriptors' own checks (as
	 * in do_sendfile()): a call with a zero count makes those. With a
	 * NULL offset sendfile(2) has no such limit (the file's position is
	 * a loff_t), and neither has the library.
	 */
	if (sizeof(off_t) < 8 && offset) {
		uint64_t n = args.count;

		if (zc_limit_range(args.offset, &n, ZC_MAX_NON_LFS) < 0) {
			args.count = 0;
			if (zc_ioctl(ZCOPY_IOC_SENDFILE, &args) >= 0)
				errno = EOVERFLOW;
			return -1;
		}
		args.count = n;
	}
	/*
	 * @stop is left zero going in: a module older than the field (size
	 * VER0 only) refuses nonzero bytes it does not know (E2BIG). A
	 * failure it does not explain (0) is an error.
	 */
	r = zc_ioctl(ZCOPY_IOC_SENDFILE, &args);
	/* Anything but the same EINVAL: it was the flag an older module refused. */
	if (tried && (r >= 0 || errno != EINVAL))
		atomic_store_explicit(&zc_offset_ptr, 0, memory_order_relaxed);
	/* The offset reached is where it started plus the count: see below. */
	if (r >= 0 && offset)
		*offset += r;
out:
	if (r < 0) {
		if (ext)
			stats->stop = args.stop ? args.stop : ZCOPY_STOP_ERROR;
		return -1;
	}
	zc_stats_out(stats, ext, args.zc_bytes, args.copied_bytes, args.stop);
	/*
	 * The count is the ioctl's return value, never the struct's @sent.
	 * The module writes the struct back after the bytes have gone, and
	 * that write can fail where the call could not: another thread made
	 * the page read-only, or forked meanwhile so that the write needs a
	 * copy of the page and memory for it is short. The module then still
	 * returns the count (it fits: both ioctls stop at MAX_RW_COUNT, under
	 * INT_MAX), and a caller told 0 would send those bytes again.
	 */
	return r;
}

ZC_API ssize_t zc_sendfile_ex(int out_fd, int in_fd, off_t *offset, size_t count,
			      unsigned int flags, struct zc_stats *stats)
{
	return zc_sendfile_cookie(out_fd, in_fd, offset, count, flags, 0, stats);
}

ZC_API ssize_t zc_sendfile_notify(int out_fd, int in_fd, off_t *offset, size_t count,
				  unsigned int flags, uint64_t cookie, struct zc_stats *stats)
{
	return zc_sendfile_cookie(out_fd, in_fd, offset, count, flags | ZCOPY_SEND_NOTIFY, cookie,
				  stats);
}

ZC_API ssize_t zc_notices_read(struct zcopy_notice *notices, size_t nr)
{
	int dev = zc_device_fd();
	ssize_t n;

	if (dev < 0)
		return -1;
	if (!nr) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Checked before reading, unlike a send (see zc_ioctl()): a read
	 * from a number the program has taken over would consume its data.
	 * If the program closed the library's descriptor, the notices queued
	 * on it went with it; the number is forgotten, not closed, and the
	 * next call opens the device again.
	 */
	if (!zc_fd_is_device(dev)) {
		atomic_compare_exchange_strong(&zc_fd, &dev, -1);
		errno = EBADF;
		return -1;
	}
	n = read(dev, notices, nr * sizeof(*notices));
	return n < 0 ? -1 : n / (ssize_t)sizeof(*notices);
}

ZC_API ssize_t zc_sendfile_flags(int out_fd, int in_fd, off_t *offset, size_t count,
				 unsigned int flags)
{
	return zc_sendfile_ex(out_fd, in_fd, offset, count, flags, NULL);
}

ZC_API ssize_t zc_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return zc_sendfile_flags(out_fd, in_fd, offset, count, 0);
}

static ssize_t zc_sendv_cookie(int out_fd, const struct zcopy_seg *segs, unsigned int nr,
			       unsigned int flags, uint64_t cookie, struct zc_stats *stats)
{
	int ext = stats && (flags & ZC_SEND_EXT);
	struct zcopy_sendv args = {
		.size = sizeof(args),
		.flags = flags & ~ZC_SEND_EXT,
		.out_fd = out_fd,
		.nr_segs = nr,
		.segs = (uint64_t)(uintptr_t)segs,
		.cookie = cookie,
		.readahead = ext ? stats->readahead : 0,
	};
	int r;

	if (stats) {
		stats->zc_bytes = 0;
		stats->copied_bytes = 0;
		if (ext)
			stats->stop = ZCOPY_STOP_ERROR;
	}
	if (zc_device_fd() < 0)
		return -1;
	r = zc_ioctl(ZCOPY_IOC_SENDV, &args);
	if (r < 0) {
		if (ext)
			stats->stop = args.stop ? args.stop : ZCOPY_STOP_ERROR;
		return -1;
	}
	zc_stats_out(stats, ext, args.zc_bytes, args.copied_bytes, args.stop);
	/* The ioctl's count, not @sent: see zc_sendfile_cookie(). */
	return r;
}

ZC_API ssize_t zc_sendv(int out_fd, const struct zcopy_seg *segs, unsigned int nr,
			unsigned int flags, struct zc_stats *stats)
{
	return zc_sendv_cookie(out_fd, segs, nr, flags, 0, stats);
}

ZC_API ssize_t zc_sendv_notify(int out_fd, const struct zcopy_seg *segs, unsigned int nr,
			       unsigned int flags, uint64_t cookie, struct zc_stats *stats)
{
	return zc_sendv_cookie(out_fd, segs, nr, flags | ZCOPY_SEND_NOTIFY, cookie, stats);
}

ZC_API int zc_sendv_advance(struct zcopy_seg **segs, unsigned int *nr, size_t sent)
{
	struct zcopy_seg *s = *segs;
	unsigned int n = *nr;

	while (n && sent >= s->len) {
		sent -= s->len;
		s++;
		n--;
	}
	if (sent && !n) {
		errno = EINVAL;
		return -1;
	}
	if (sent) {
		/* Memory moves by address, a file by offset: the same field. */
		if (s->type == ZCOPY_SEG_FILE)
			s->offset += (int64_t)sent;
		else
			s->addr += sent;
		s->len -= sent;
	}
	*segs = s;
	*nr = n;
	return 0;
}

ZC_API ssize_t zc_send_response(int out_fd, const void *header, size_t hlen, int fd, off_t offset,
				size_t len, const void *trailer, size_t tlen)
{
	struct zcopy_seg segs[3] = {
		zc_seg_mem(header, hlen),
		zc_seg_file(fd, offset, len),
		zc_seg_mem(trailer, tlen),
	};

	return zc_sendv(out_fd, segs, 3, ZCOPY_SEND_NOSIGNAL, NULL);
}

ZC_API const char *zc_version(void)
{
	return ZCOPY_LIB_VERSION;
}
