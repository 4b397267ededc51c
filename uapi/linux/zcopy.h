/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcopy user ABI: the ioctl interface of /dev/zcopy.
 *
 * This header is shared by the kernel module (kmod/) and userspace
 * (userspace/, tests/). It depends on nothing but <linux/types.h> and
 * <linux/ioctl.h>, so it compiles unchanged on both sides.
 *
 * Growth rule: struct zcopy_sendfile starts with its own size. New fields
 * are only ever appended. The kernel accepts any size from
 * ZCOPY_SENDFILE_SIZE_VER0 up to one page: bytes it does not know must be
 * zero (otherwise E2BIG), fields the caller did not pass read as zero.
 */
#ifndef _UAPI_LINUX_ZCOPY_H
#define _UAPI_LINUX_ZCOPY_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The misc device: /dev/zcopy. */
#define ZCOPY_DEVICE_NAME "zcopy"
#define ZCOPY_DEVICE_PATH "/dev/zcopy"

/* Flags for struct zcopy_sendfile.flags. */

/*
 * ZCOPY_SEND_OFFSET: read from @offset and write the advanced offset back,
 * leaving the file position alone (sendfile(2) with a non-NULL offset).
 * Without it the transfer starts at the file position and advances it
 * (sendfile(2) with a NULL offset); @offset is then only written back.
 */
#define ZCOPY_SEND_OFFSET	0x00000001U
/* ZCOPY_SEND_NOSIGNAL: no SIGPIPE on a closed connection (MSG_NOSIGNAL). */
#define ZCOPY_SEND_NOSIGNAL	0x00000002U
/*
 * ZCOPY_SEND_DONTWAIT: do not block on a full socket for this call, as if
 * the socket were O_NONBLOCK (MSG_DONTWAIT).
 */
#define ZCOPY_SEND_DONTWAIT	0x00000004U

#define ZCOPY_SEND_ALL_FLAGS \
	(ZCOPY_SEND_OFFSET | ZCOPY_SEND_NOSIGNAL | ZCOPY_SEND_DONTWAIT)

/**
 * struct zcopy_sendfile - argument of %ZCOPY_IOC_SENDFILE
 * @size: in: sizeof(struct zcopy_sendfile) as the caller was compiled;
 *	at least %ZCOPY_SENDFILE_SIZE_VER0.
 * @flags: in: ZCOPY_SEND_* flags; unknown bits give EINVAL.
 * @in_fd: in: the file to read, open for reading: any file sendfile(2)
 *	can read. The bytes sent are those sendfile(2) would send: tmpfs,
 *	ext4, xfs and block devices are read from the page cache directly,
 *	every other file through its filesystem's own splice read.
 * @out_fd: in: the socket to write to, open for writing.
 * @offset: in/out: with %ZCOPY_SEND_OFFSET the file offset to start at;
 *	on return the offset just past the last byte sent, in both modes.
 * @count: in: the most bytes to send. Like sendfile(2), at most
 *	MAX_RW_COUNT (2 GiB minus one page) are sent by one call.
 * @sent: out: bytes sent; equal to the ioctl's non-negative return value.
 * @zc_bytes: out: of @sent, bytes handed to the socket by reference: the
 *	page-cache pages themselves became skb fragments, no CPU copy.
 * @copied_bytes: out: of @sent, bytes the CPU copied: the socket's route
 *	cannot take fragments (no scatter-gather), the protocol re-frames
 *	the data (kTLS, record sockets), or the file has no page cache to
 *	lend and its filesystem made a copy for the read (sysfs, procfs,
 *	O_DIRECT; see README.md).
 *	@zc_bytes + @copied_bytes == @sent.
 * @reserved: must be zero; room for later versions.
 *
 * All fields are fixed-width and naturally aligned, so the layout is the
 * same for 32-bit and 64-bit callers.
 */
struct zcopy_sendfile {
	__u32 size;
	__u32 flags;
	__s32 in_fd;
	__s32 out_fd;
	__s64 offset;
	__u64 count;
	__u64 sent;
	__u64 zc_bytes;
	__u64 copied_bytes;
	__u64 reserved[2];
};

#define ZCOPY_SENDFILE_SIZE_VER0 72	/* the first published layout */

/*
 * The ioctl type: 0xB9, unregistered in the kernel's
 * Documentation/userspace-api/ioctl/ioctl-number.rst. (0xB7, used before
 * the first release, belongs to nsfs and remoteproc.)
 */
#define ZCOPY_IOC_MAGIC 0xB9

/*
 * ZCOPY_IOC_SENDFILE - send a file range to a socket from the page cache.
 *
 * Returns the number of bytes sent (>= 0; 0 at end of file or for a zero
 * count), or -1 with errno set: see README.md for every errno and its
 * cause. A short count is not an error, as with sendfile(2).
 */
#define ZCOPY_IOC_SENDFILE _IOWR(ZCOPY_IOC_MAGIC, 0x01, struct zcopy_sendfile)

#endif /* _UAPI_LINUX_ZCOPY_H */
