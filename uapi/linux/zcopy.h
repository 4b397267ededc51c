/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcopy user ABI: the ioctl interface of /dev/zcopy.
 *
 * This header is shared by the kernel module (kmod/) and userspace
 * (userspace/, tests/). It depends on nothing but <linux/types.h> and
 * <linux/ioctl.h>, so it compiles unchanged on both sides.
 *
 * Growth rules:
 *  - struct zcopy_sendfile and struct zcopy_sendv start with their own
 *    size. New fields are only ever appended. The kernel accepts any size
 *    from the struct's SIZE_VER0 up to one page: bytes it does not know
 *    must be zero (otherwise E2BIG), fields the caller did not pass read
 *    as zero. A size below SIZE_VER0 is EINVAL.
 *  - struct zcopy_seg, an element of an array, has a fixed size; it grows
 *    by giving meaning to its reserved field and to new segment types,
 *    which a kernel that does not know them refuses with EINVAL.
 *  - Flags: unknown bits are EINVAL, so a caller learns that a kernel is
 *    too old for a flag instead of having it ignored.
 *  - struct zcopy_notice, the record read(2) of /dev/zcopy returns, starts
 *    with its own size and keeps it under a reader: a longer record would
 *    only be given to a reader that asked for it by a new ioctl.
 *  - Ioctl numbers are never reused; the direction and size bits of a
 *    command are not checked, the struct's own size is.
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
/*
 * ZCOPY_SEND_MORE: more data for this socket follows this call. The last
 * bytes go with MSG_MORE and nothing is pushed when the call ends, so a
 * response sent in several calls leaves in full segments, as splice(2)'s
 * SPLICE_F_MORE does and sendfile(2) cannot express; no TCP_CORK needed.
 * The next call without it (or a send(2) without MSG_MORE) pushes; TCP's
 * probe timer (200 ms or more) also sends what is held, as with TCP_CORK.
 * Since zcopy 0.2.0.
 */
#define ZCOPY_SEND_MORE		0x00000008U
/*
 * ZCOPY_SEND_NODISKIO: never wait for the disk. The call sends the bytes
 * whose pages are already uptodate in the page cache, from the requested
 * offset up to the first page that is missing or still being read; it
 * has a kernel worker start readahead for that part (the file's own
 * readahead, plus @readahead bytes if given), and returns what it sent
 * without waiting for any of it. If that
 * is nothing, the call fails with EBUSY (FreeBSD's SF_NODISKIO gives EBUSY
 * too); a partial send returns its count, and @stop (size VER1) says
 * %ZCOPY_STOP_DISK. On ZCOPY_IOC_SENDV it applies to every file segment.
 * Holes, end of file and truncation behave as in the blocking call.
 *
 * What it never does: a synchronous read, a sleep on a folio lock that a
 * read holds (a folio that is locked and not uptodate stops the call), or
 * the submission of readahead itself, which may read the file's block map
 * (an ext4 extent block) synchronously and wait for a request slot of a
 * busy device: the worker does that. Sleeps that remain, as in any send:
 * memory allocation (the worker's request, the socket's skbs), the
 * socket's lock and, on a blocking socket without %ZCOPY_SEND_DONTWAIT,
 * its send buffer. A tmpfs page in swap is disk:
 * it stops the call, and only a blocking call brings it back. xfs: the
 * inode lock held by a writer stops the call too (EBUSY), as RWF_NOWAIT.
 * Files read through their filesystem's ->splice_read (sysfs, procfs,
 * FUSE, NFS, overlayfs, O_DIRECT; README.md) cannot promise any of this:
 * NODISKIO on such a file fails with EOPNOTSUPP, with nothing sent.
 * Since zcopy 0.3.0.
 */
#define ZCOPY_SEND_NODISKIO	0x00000010U

/*
 * ZCOPY_SEND_NOTIFY: once every skb that references the pages this call
 * sent has been freed (acknowledged, dropped, or its socket closed), one
 * struct zcopy_notice carrying the call's @cookie becomes readable on the
 * /dev/zcopy file descriptor that made the call (read(2), poll(2)). From
 * then on the kernel no longer reads those pages for this call: the file
 * range may be rewritten or truncated without changing what was sent.
 * Exactly one notice per call that returned more than 0; none for a call
 * that returned 0 or failed. TCP sockets only (EOPNOTSUPP otherwise; on
 * 6.5+ kernels also while MTU probing may run: net.ipv4.tcp_mtu_probing
 * not 0, whose probes share the pages without the notice); at
 * most the module parameter notices_max (default 1024, read when
 * /dev/zcopy is opened) notices per open file may be in flight or unread
 * at once: a notified call over that fails with ENOBUFS, nothing sent.
 * Costs a copy at delivery over loopback and veth (see README.md).
 * Since zcopy 0.3.0.
 */
#define ZCOPY_SEND_NOTIFY	0x00000020U

/*
 * ZCOPY_SEND_OFFSET_PTR: with %ZCOPY_SEND_OFFSET only (EINVAL alone):
 * @offset is not the offset but the address of one, a __s64 in the
 * caller's memory, as sendfile(2)'s loff_t pointer. The kernel reads the
 * offset there before anything else (EFAULT, nothing sent, if it cannot)
 * and writes the advanced offset back there when the call ends, on
 * success and on failure, as sendfile(2) does: if that write fails the
 * call fails with EFAULT even though its bytes went, exactly as
 * sendfile(2) fails (a notified call that sent still gets its notice).
 * @offset in the struct is written as without the flag: the offset past
 * the last byte sent. So a library with sendfile(2)'s signature never
 * dereferences the caller's pointer itself (libzcopy). That is on
 * success: a call that fails leaves the address in @offset (the offset
 * there, unmoved), so that the same struct can be passed again as it
 * was; the kernel itself does that when a signal interrupted the call
 * before it sent anything (SA_RESTART, as it restarts sendfile(2)).
 * Since zcopy 0.4.0.
 */
#define ZCOPY_SEND_OFFSET_PTR	0x00000040U

#define ZCOPY_SEND_ALL_FLAGS \
	(ZCOPY_SEND_OFFSET | ZCOPY_SEND_NOSIGNAL | ZCOPY_SEND_DONTWAIT | \
	 ZCOPY_SEND_MORE | ZCOPY_SEND_NODISKIO | ZCOPY_SEND_NOTIFY | \
	 ZCOPY_SEND_OFFSET_PTR)
/* ZCOPY_IOC_SENDV takes these; ZCOPY_SEND_OFFSET(_PTR) is EINVAL there. */
#define ZCOPY_SENDV_ALL_FLAGS \
	(ZCOPY_SEND_NOSIGNAL | ZCOPY_SEND_DONTWAIT | ZCOPY_SEND_MORE | \
	 ZCOPY_SEND_NODISKIO | ZCOPY_SEND_NOTIFY)

/*
 * Why a call stopped (@stop, size VER1 of both structs), so that a caller
 * can tell "the disk" from "the socket is full" and "end of file", also
 * after a partial send. Only the first reason met is reported.
 */
#define ZCOPY_STOP_DONE		0	/* everything asked for was sent */
#define ZCOPY_STOP_EOF		1	/* end of file before @count */
#define ZCOPY_STOP_DISK		2	/* NODISKIO: the next page needs the disk */
#define ZCOPY_STOP_SOCKET	3	/* the socket took less (full, timeout) */
#define ZCOPY_STOP_SIGNAL	4	/* a signal */
#define ZCOPY_STOP_ERROR	5	/* an error (the call's errno, or the next call's) */

/* The largest @readahead honoured; larger values are cut to it. */
#define ZCOPY_READAHEAD_MAX	(256ULL << 20)

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
 * @offset: in/out: with %ZCOPY_SEND_OFFSET the file offset to start at
 *	(with %ZCOPY_SEND_OFFSET_PTR too: the address of that offset);
 *	on return the offset just past the last byte sent, in every mode
 *	(on failure: as passed, see %ZCOPY_SEND_OFFSET_PTR).
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
 * @cookie: in: with %ZCOPY_SEND_NOTIFY, the value the call's notice
 *	carries (struct zcopy_notice), any value; without it, must be zero.
 * @readahead: in: bytes to read ahead past the requested range when the
 *	call has to read (a missing page): the pages from there to the end
 *	of the range and @readahead bytes beyond it are read ahead, clamped to
 *	end of file and to %ZCOPY_READAHEAD_MAX, besides the file's own
 *	readahead (FreeBSD's SF_USER_READAHEAD). 0: only the file's own
 *	readahead state and posix_fadvise() advice, as before.
 * @stop: out (size VER1): why the call stopped, %ZCOPY_STOP_*; written
 *	only when @size covers it, on success and on failure (EBUSY).
 * @pad: must be zero.
 *
 * The outputs are written before anything is sent (a struct that cannot
 * be written fails with EFAULT, nothing sent) and again after. If that
 * second write fails (another thread made the page read-only, or forked
 * and memory for a copy of the page was short), the bytes have gone and
 * the call still returns their count: the return value is the count to
 * trust, the struct's outputs may then still hold the first write's.
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
	__u64 cookie;
	__u64 readahead;
	__u32 stop;
	__u32 pad;
};

#define ZCOPY_SENDFILE_SIZE_VER0 72	/* the first published layout */
#define ZCOPY_SENDFILE_SIZE_VER1 80	/* + stop, pad (zcopy 0.3.0) */

/* Types of struct zcopy_seg. 0 is no type: a zeroed segment is EINVAL. */
#define ZCOPY_SEG_MEM	1	/* bytes in the caller's memory */
#define ZCOPY_SEG_FILE	2	/* a range of a file, by explicit offset */

/**
 * struct zcopy_seg - one segment of a %ZCOPY_IOC_SENDV vector
 * @type: %ZCOPY_SEG_MEM or %ZCOPY_SEG_FILE; anything else is EINVAL.
 * @fd: %ZCOPY_SEG_FILE: the file to read, open for reading, any file
 *	%ZCOPY_IOC_SENDFILE reads. %ZCOPY_SEG_MEM: must be 0.
 * @addr: %ZCOPY_SEG_MEM: the address of the bytes, as for write(2); the
 *	CPU copies them (they count as copied).
 * @offset: %ZCOPY_SEG_FILE: where in the file the range starts. It is
 *	always explicit: a vector never reads or moves a file position
 *	(pread(2)-like), so one file may appear in many segments and many
 *	threads may send from one open file at once.
 * @len: bytes in the segment; 0 is allowed (the segment is skipped).
 * @reserved: must be zero.
 *
 * 32 bytes, naturally aligned: the same layout for 32- and 64-bit callers.
 */
struct zcopy_seg {
	__u32 type;
	__s32 fd;
	union {
		__u64 addr;
		__s64 offset;
	};
	__u64 len;
	__u64 reserved;
};

/* The most segments one ZCOPY_IOC_SENDV takes, as writev(2)'s IOV_MAX. */
#define ZCOPY_SENDV_MAX_SEGS 1024

/**
 * struct zcopy_sendv - argument of %ZCOPY_IOC_SENDV
 * @size: in: sizeof(struct zcopy_sendv) as the caller was compiled;
 *	at least %ZCOPY_SENDV_SIZE_VER0.
 * @flags: in: %ZCOPY_SEND_NOSIGNAL, %ZCOPY_SEND_DONTWAIT, %ZCOPY_SEND_MORE,
 *	%ZCOPY_SEND_NODISKIO (for every file segment), %ZCOPY_SEND_NOTIFY;
 *	other bits give EINVAL.
 * @out_fd: in: the socket to write to, open for writing.
 * @nr_segs: in: segments in @segs, 0 to %ZCOPY_SENDV_MAX_SEGS.
 * @segs: in: address of an array of @nr_segs struct zcopy_seg.
 * @sent: out: bytes sent; equal to the ioctl's non-negative return value.
 * @zc_bytes: out: of @sent, file bytes handed to the socket by reference.
 * @copied_bytes: out: of @sent, bytes the CPU copied: every memory
 *	segment's, and file bytes for the reasons given at struct
 *	zcopy_sendfile. @zc_bytes + @copied_bytes == @sent.
 * @cookie: in: with %ZCOPY_SEND_NOTIFY, the value the call's notice
 *	carries; without it, must be zero.
 * @readahead: in: as in struct zcopy_sendfile, for each file segment.
 * @stop: out (size VER1): why the call stopped, %ZCOPY_STOP_*.
 * @pad: must be zero.
 */
struct zcopy_sendv {
	__u32 size;
	__u32 flags;
	__s32 out_fd;
	__u32 nr_segs;
	__u64 segs;
	__u64 sent;
	__u64 zc_bytes;
	__u64 copied_bytes;
	__u64 cookie;
	__u64 readahead;
	__u32 stop;
	__u32 pad;
};

#define ZCOPY_SENDV_SIZE_VER0 64	/* the first published layout */
#define ZCOPY_SENDV_SIZE_VER1 72	/* + stop, pad (zcopy 0.3.0) */

/*
 * Flags of struct zcopy_notice.
 *
 * ZCOPY_NOTICE_COPIED: after the call, the kernel copied some of the bytes
 * it had lent by reference (it reported zerocopy_success false): an skb
 * was delivered to a socket on this host (loopback, veth: the receiver
 * gets a copy, skb_orphan_frags_rx()), or went where fragments could not
 * follow. The call's own copies are in @bytes - @zc_bytes.
 */
#define ZCOPY_NOTICE_COPIED	0x00000001U

/**
 * struct zcopy_notice - one completion notice, as read(2) of /dev/zcopy
 *	returns it
 * @size: the size of this record: %ZCOPY_NOTICE_SIZE_VER0.
 * @flags: ZCOPY_NOTICE_* flags.
 * @cookie: the @cookie of the notified call.
 * @bytes: the bytes that call sent (its return value).
 * @zc_bytes: of @bytes, those the call lent by reference (its @zc_bytes).
 *
 * read(2) returns whole records only, as many as fit in its buffer, in
 * the order their sends completed; a buffer smaller than one record is
 * EINVAL. With nothing to read it blocks, or fails with EAGAIN on an
 * O_NONBLOCK descriptor; poll(2) reports POLLIN while a notice is
 * readable. Growth rule: records read(2) returns never change size
 * under a reader; a longer record would be given only to a reader that
 * asked for it by a new ioctl. Each record starts with its own size.
 */
struct zcopy_notice {
	__u32 size;
	__u32 flags;
	__u64 cookie;
	__u64 bytes;
	__u64 zc_bytes;
};

#define ZCOPY_NOTICE_SIZE_VER0 32

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

/*
 * ZCOPY_IOC_SENDV - send an ordered vector of segments, memory and file
 * ranges, to one socket in one call (a response: header, file, trailer).
 *
 * The bytes on the wire are those of writev(2) of each memory segment and
 * pread-style sendfile(2) of each file segment, in order, on one socket:
 * on a byte stream (TCP, AF_UNIX stream) they are packed into full
 * segments with no push between them, and the end of the call pushes
 * unless %ZCOPY_SEND_MORE is set; on a record socket each segment is sent
 * as write(2) or sendfile(2) would send it, with MSG_MORE between them
 * (one UDP datagram for the whole vector).
 *
 * All segments are checked before anything is sent (types, reserved
 * fields, lengths, descriptors, file modes): a bad one fails the call
 * with nothing sent. The call then stops early, returning the bytes sent
 * so far, at a full non-blocking socket, a signal, a fault on a memory
 * segment, an error, or a file segment that reaches end of file before
 * its length: the caller resumes from exactly the byte after the last
 * one returned (libzcopy's zc_sendv_advance()). A total over MAX_RW_COUNT
 * (2 GiB minus a page) is cut there, as writev(2) cuts it; a total that
 * does not fit a ssize_t is EINVAL.
 *
 * Returns the bytes sent (>= 0; 0 for an empty vector or a first file
 * segment at end of file), or -1 with errno set (README.md).
 */
#define ZCOPY_IOC_SENDV _IOWR(ZCOPY_IOC_MAGIC, 0x02, struct zcopy_sendv)

#endif /* _UAPI_LINUX_ZCOPY_H */
