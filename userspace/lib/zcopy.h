/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libzcopy - userspace side of /dev/zcopy.
 *
 * A thin layer: it opens /dev/zcopy once, fills struct zcopy_sendfile and
 * turns the ioctl's result into sendfile(2)'s return convention. It adds
 * no policy: no retry loop, no fallback to sendfile(2) when the module is
 * missing (the caller decides that; errno is then ENOENT or ENODEV).
 */
#ifndef ZCOPY_LIB_H
#define ZCOPY_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/zcopy.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * zc_sendfile() - sendfile(2) from a page-cache file to a socket, zero-copy
 * @out_fd: a socket open for writing (anything else: ENOTSOCK).
 * @in_fd: a regular file open for reading.
 * @offset: as for sendfile(2): NULL to read from and advance the file
 *	position; otherwise read from *offset, advance *offset by the bytes
 *	sent and leave the file position alone.
 * @count: the most bytes to send (a call sends at most 0x7ffff000).
 *
 * Return: bytes sent (0 at end of file), or -1 with errno set. A short
 * count is not an error, exactly as for sendfile(2).
 */
ssize_t zc_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);

/**
 * zc_sendfile_flags() - zc_sendfile() with flags
 * @flags: ZCOPY_SEND_NOSIGNAL (no SIGPIPE), ZCOPY_SEND_DONTWAIT (do not
 *	block on a full socket); other bits give EINVAL.
 */
ssize_t zc_sendfile_flags(int out_fd, int in_fd, off_t *offset, size_t count, unsigned int flags);

/**
 * struct zc_stats - where the bytes of one call went
 * @zc_bytes: bytes the socket took by reference (page-cache pages became
 *	skb fragments; no CPU copy).
 * @copied_bytes: bytes that were copied (route without scatter-gather,
 *	kTLS, a file without page cache); zc_bytes + copied_bytes is the
 *	call's return value.
 */
struct zc_stats {
	uint64_t zc_bytes;
	uint64_t copied_bytes;
};

/**
 * zc_sendfile_ex() - zc_sendfile_flags() that also reports where the bytes went
 * @stats: if not NULL, filled on success (zeroed on failure).
 */
ssize_t zc_sendfile_ex(int out_fd, int in_fd, off_t *offset, size_t count, unsigned int flags,
		       struct zc_stats *stats);

/**
 * zc_device_fd() - the library's descriptor of /dev/zcopy
 *
 * Opened (O_CLOEXEC) on first use and kept. Returns -1 with errno set if
 * the device cannot be opened (ENOENT: module not loaded).
 */
int zc_device_fd(void);

/**
 * zc_close() - close the library's descriptor of /dev/zcopy
 *
 * For programs that close descriptors they did not open (daemons after
 * fork): call this first. The next call opens the device again.
 */
void zc_close(void);

/** zc_version() - the library's version string. */
const char *zc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ZCOPY_LIB_H */
