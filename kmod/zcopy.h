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
 *               page used, as a bio_vec.
 *   sendpath.c  batch -> socket: the network stack attaches the pages to
 *               skbs as fragments, taking its own references; the NIC
 *               later reads them by gather DMA.
 *   compat.h    the one place where 6.1 and 6.12 differ.
 */
#ifndef _ZCOPY_H
#define _ZCOPY_H

#include <linux/bvec.h>
#include <linux/fs.h>
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
 * same MSG_MORE flags at the same places (zcopy_sock_batch_pages()):
 *  - datagram sockets: MSG_MORE appends to one datagram, and a send that
 *    would make it too large fails whole;
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
 * @bvec: one entry per page: the page, the offset and length within it.
 *
 * Reference rule: every bio_vec owns exactly one reference on the folio
 * of its page, taken by zcopy_batch_fill() and dropped by
 * zcopy_batch_release(). The socket takes references of its own for the
 * pages it attaches, so the batch is released as soon as the send returns.
 */
struct zcopy_batch {
	unsigned int max;
	unsigned int nr;
	size_t len;
	struct bio_vec bvec[] __counted_by(max);
};

/* xfer.c */
ssize_t zcopy_do_sendfile(struct zcopy_sendfile *args);
ssize_t zcopy_sendfile_files(struct file *in, struct file *out,
			     struct zcopy_sendfile *args);

/* pages.c */
bool zcopy_file_has_page_cache(struct file *file);
ssize_t zcopy_batch_fill(struct zcopy_batch *b, struct file *file,
			 loff_t pos, size_t len);
void zcopy_batch_release(struct zcopy_batch *b);

/* sendpath.c */
extern const char zcopy_send_mechanism[];
ssize_t zcopy_batch_send(struct socket *sock, struct zcopy_batch *b,
			 int msg_flags);
bool zcopy_sock_takes_pages(struct socket *sock);
unsigned int zcopy_sock_batch_pages(struct socket *sock);

#endif /* _ZCOPY_H */
