/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcopy.h - what the stages of the zcopy data path hand each other.
 *
 * The path of one page, one stage per file:
 *
 *   dev.c       /dev/zcopy: decodes the ioctl argument from userspace.
 *   xfer.c      sendfile(2)'s checks, then the transfer loop: clamp the
 *               range to i_size, walk it one batch at a time.
 *   pages.c     page cache -> batch: find (or read ahead) the folios of
 *               the next part of the range and take a reference on each
 *               page used, as a bio_vec. Only for the files whose own
 *               read is a page-cache read (zcopy_read_way()).
 *   splice.c    every other file -> batch: the filesystem's own
 *               ->splice_read, as sendfile(2) calls it, its pages
 *               gathered into the same batches.
 *   sendpath.c  batch -> socket: the network stack attaches the pages to
 *               skbs as fragments, taking its own references; the NIC
 *               later reads them by gather DMA.
 *   compat.h    the one place where 6.1 and 6.12 differ.
 */
#ifndef _ZCOPY_H
#define _ZCOPY_H

#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/sizes.h>
#include <linux/types.h>

#include <linux/zcopy.h>

#ifndef ZCOPY_VERSION
#error "ZCOPY_VERSION comes from dkms.conf, by Kbuild"
#endif

/*
 * Pages per batch: as many bio_vecs as fit, with struct zcopy_batch's
 * header, in one 8 KiB allocation: 511 pages, just under 2 MiB of file
 * per trip through the socket layer (one sock_sendmsg() on 6.5+, one
 * lock_sock() for TCP on 6.1). sendfile(2) carries 16 pages per trip (one
 * pipe). The size was measured, not guessed: in the benchmark (make bench,
 * 16 and 256 MiB files, TCP over loopback and veth) 64-page batches
 * reached 1.3-1.7x sendfile's throughput on 6.12, 256 pages 1.6-2.1x,
 * 512 and 1024 pages about 1.9-2.3x; past that the socket, not the trip,
 * is the cost. Smaller requests get smaller batches (xfer.c).
 */
#define ZCOPY_BATCH_ALLOC SZ_8K
#define ZCOPY_BATCH_PAGES						\
	((unsigned int)((ZCOPY_BATCH_ALLOC -				\
			 offsetof(struct zcopy_batch, bvec)) /		\
			sizeof(struct bio_vec)))

/*
 * Pages per batch where the batch boundaries are visible, so zcopy cuts
 * its batches where sendfile(2) cuts its pipe (16 pages), and passes the
 * same MSG_MORE flags at the same places (zcopy_sock_is_stream()):
 *  - datagram sockets: MSG_MORE appends to one datagram, and a send that
 *    would make it too large fails whole;
 *  - other record sockets (AF_UNIX SOCK_SEQPACKET, SCTP, raw, RDS): each
 *    send is one record, and a record larger than the socket allows
 *    fails whole (EMSGSIZE): sendfile(2) sends 64 KiB records;
 *  - sockets with a ULP (kTLS): the ULP makes records of its own and
 *    decides, from the flags of each piece, when to close a record and
 *    push it to TCP. On 6.1 a long run of MSG_SENDPAGE_NOTLAST pages
 *    let kTLS wait for send buffer space that only pushing would free (a
 *    hang found by the debug kernel's run); sendfile's pattern does not.
 */
#define ZCOPY_SPLICE_BATCH_PAGES 16

/**
 * struct zcopy_batch - page-cache pages ready to be attached to a socket
 * @max: bio_vecs allocated, and used at most by zcopy_batch_fill();
 *	at most %ZCOPY_BATCH_PAGES.
 * @nr: bio_vecs in use.
 * @len: bytes covered by those bio_vecs.
 * @copy_len: of @len, bytes in pages that are not the file's page cache
 *	but a copy the filesystem made for this read (splice.c): the
 *	socket takes them by reference too, but they count as copied.
 * @bvec: one entry per page: the page, the offset and length within it.
 *
 * Reference rule: every bio_vec owns exactly one reference on the folio
 * of its page, taken by zcopy_batch_fill() and dropped by
 * zcopy_batch_release(). The socket takes references of its own for the
 * pages it attaches, so the batch is released as soon as the send returns.
 */
struct zcopy_batch {
	u16 max;
	u16 nr;
	u32 copy_len;
	size_t len;
	struct bio_vec bvec[] __counted_by(max);
};

/**
 * enum zcopy_read_way - how a file's bytes are found (zcopy_read_way())
 * @ZCOPY_READ_SPLICE: through the filesystem's own ->splice_read, as
 *	sendfile(2) reads it (splice.c). Every file not listed below.
 * @ZCOPY_READ_CACHE: the page cache, walked directly: block devices.
 * @ZCOPY_READ_SHMEM: the page cache with tmpfs's rules for holes,
 *	fallocated folios and swap.
 * @ZCOPY_READ_EXT4: the page cache, after ext4's own entry checks.
 * @ZCOPY_READ_XFS: the page cache, after xfs's entry checks and under
 *	its IOLOCK (the inode's i_rwsem) shared.
 */
enum zcopy_read_way {
	ZCOPY_READ_SPLICE,
	ZCOPY_READ_CACHE,
	ZCOPY_READ_SHMEM,
	ZCOPY_READ_EXT4,
	ZCOPY_READ_XFS,
};

/**
 * struct zcopy_xfer - one call's transfer, as it goes
 * @sock: the destination socket.
 * @b: the batch being filled and sent.
 * @msg_flags: MSG_DONTWAIT, MSG_NOSIGNAL, as the call asked.
 * @record: @sock keeps message boundaries (datagrams, SEQPACKET, a ULP
 *	that makes records): batches are cut where sendfile(2) cuts them.
 * @corked: the last send carried MSG_MORE, so the socket may hold a
 *	partial segment or datagram that the end of the call must push.
 * @done: bytes the socket accepted so far.
 * @args: the ioctl argument, whose zc_bytes and copied_bytes are added to.
 */
struct zcopy_xfer {
	struct socket *sock;
	struct zcopy_batch *b;
	int msg_flags;
	bool record;
	bool corked;
	size_t done;
	struct zcopy_sendfile *args;
};

/*
 * zcopy_page_is_copy - a page the filesystem filled for this read
 * (copy_splice_read(): sysfs, procfs, O_DIRECT), not a page of its page
 * cache nor the shared zero page that stands for a hole.
 */
static inline bool zcopy_page_is_copy(struct page *page)
{
	return !page_folio(page)->mapping && page != ZERO_PAGE(0);
}

/* xfer.c */
ssize_t zcopy_do_sendfile(struct zcopy_sendfile *args);
ssize_t zcopy_sendfile_files(struct file *in, struct file *out,
			     struct zcopy_sendfile *args);
struct zcopy_batch *zcopy_batch_alloc(unsigned int max);
ssize_t zcopy_xfer_send(struct zcopy_xfer *x, bool more);

/* pages.c */
enum zcopy_read_way zcopy_read_way(struct file *file);
int zcopy_read_begin(struct file *file, enum zcopy_read_way way);
void zcopy_read_end(struct file *file, enum zcopy_read_way way);
ssize_t zcopy_batch_fill(struct zcopy_batch *b, struct file *file,
			 enum zcopy_read_way way, loff_t pos, size_t len);
void zcopy_batch_release(struct zcopy_batch *b);

/* splice.c */
ssize_t zcopy_xfer_splice(struct zcopy_xfer *x, struct file *in, loff_t *ppos,
			  size_t count);

/* sendpath.c */
extern const char zcopy_send_mechanism[];
ssize_t zcopy_batch_send(struct socket *sock, struct zcopy_batch *b,
			 int msg_flags);
bool zcopy_sock_takes_pages(struct socket *sock);
bool zcopy_sock_is_stream(struct socket *sock);
void zcopy_sock_push(struct socket *sock);

#endif /* _ZCOPY_H */
