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
 *	block on a full socket), ZCOPY_SEND_MORE (more follows: leave the
 *	last partial segment corked, e.g. a header sent before a file);
 *	other bits give EINVAL.
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

/* ---- vectors: a response in one call ------------------------------------ */

/** zc_seg_mem() - a segment of @len bytes at @buf (copied, as by write(2)) */
static inline struct zcopy_seg zc_seg_mem(const void *buf, size_t len)
{
	struct zcopy_seg s = { .type = ZCOPY_SEG_MEM, .len = len };

	s.addr = (uint64_t)(uintptr_t)buf;
	return s;
}

/**
 * zc_seg_file() - a segment of @len bytes of file @fd from @offset (lent by
 * reference from the page cache; the file position is never used or moved)
 */
static inline struct zcopy_seg zc_seg_file(int fd, off_t offset, size_t len)
{
	struct zcopy_seg s = { .type = ZCOPY_SEG_FILE, .fd = fd, .len = len };

	s.offset = offset;
	return s;
}

/**
 * zc_sendv() - send a vector of memory and file segments to a socket
 * @out_fd: a socket open for writing.
 * @segs: @nr segments (zc_seg_mem(), zc_seg_file()), sent in order.
 * @nr: 0 to ZCOPY_SENDV_MAX_SEGS (1024).
 * @flags: ZCOPY_SEND_NOSIGNAL, ZCOPY_SEND_DONTWAIT, ZCOPY_SEND_MORE (keep
 *	the socket corked after this call: more of the response follows).
 * @stats: if not NULL, filled on success (zeroed on failure); memory
 *	segments count as copied.
 *
 * One ioctl: the whole vector goes to the socket in full segments, pushed
 * at the end (unless ZCOPY_SEND_MORE). Every segment is checked before
 * anything is sent.
 *
 * Return: bytes sent, or -1 with errno set. Fewer than the vector's total
 * when the socket is non-blocking and filled up, a signal arrived, a
 * memory segment faulted after progress, or a file segment reached end
 * of file early: zc_sendv_advance() then gives the vector to resume with.
 * 0 for an empty vector, or when the first segment is a file at its end.
 */
ssize_t zc_sendv(int out_fd, const struct zcopy_seg *segs, unsigned int nr, unsigned int flags,
		 struct zc_stats *stats);

/**
 * zc_sendv_advance() - move a vector past the bytes a call sent
 * @segs: in/out: the vector; on return it points at the first segment not
 *	yet wholly sent (segments of length 0 before it skipped too).
 * @nr: in/out: segments in *@segs.
 * @sent: what zc_sendv() returned.
 *
 * The first remaining segment is changed in place (its address or offset
 * moves on by what was sent of it, its length shrinks), so the array must
 * be writable. Resuming with the result sends exactly the bytes not sent.
 *
 * Return: 0, or -1 with errno EINVAL if @sent is more than the vector holds.
 */
int zc_sendv_advance(struct zcopy_seg **segs, unsigned int *nr, size_t sent);

/**
 * zc_send_response() - header, file range and trailer in one call
 * @out_fd: a socket open for writing.
 * @header: @hlen bytes sent first (copied); may be NULL if @hlen is 0.
 * @fd: the file; @len bytes from @offset (its position is not used).
 * @trailer: @tlen bytes sent last; may be NULL if @tlen is 0.
 *
 * zc_sendv() of three segments with ZCOPY_SEND_NOSIGNAL: a closed peer is
 * EPIPE, not SIGPIPE, as servers want. On a blocking socket the return
 * value is @hlen + @len + @tlen unless a signal came or the file is
 * shorter than @offset + @len; resume with zc_sendv()/zc_sendv_advance().
 *
 * Return: bytes sent, or -1 with errno set.
 */
ssize_t zc_send_response(int out_fd, const void *header, size_t hlen, int fd, off_t offset,
			 size_t len, const void *trailer, size_t tlen);

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
