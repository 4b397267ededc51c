// SPDX-License-Identifier: GPL-2.0
/*
 * splice.c - stage 2 for every other file: the filesystem's own read.
 *
 * Receives a file that pages.c does not walk (zcopy_read_way() said
 * ZCOPY_READ_SPLICE: sysfs, procfs, cgroup2, configfs, debugfs, overlayfs,
 * FUSE, NFS, devices, O_DIRECT and DAX files, any filesystem not named
 * there) and the transfer of one call (struct zcopy_xfer). Hands the same
 * batches as pages.c to xfer.c's send step.
 *
 * sendfile(2) reads such a file with its ->splice_read, through a pipe
 * private to the task (splice_direct_to_actor() in fs/splice.c): the
 * filesystem fills at most 16 pipe buffers, each a page reference, and an
 * "actor" empties the pipe into the output. Whatever the filesystem does
 * to read (ask a FUSE server, revalidate an NFS cache, generate a sysfs
 * attribute, take its locks) happens there, so reading the same way is
 * the only way to send exactly what sendfile(2) sends. zcopy calls the
 * same splice_direct_to_actor() with an actor of its own, which differs
 * from sendfile's in one thing: instead of sending each pipeful (16
 * pages) at once, it moves the page references out of the pipe into the
 * batch, and sends when the batch is full (up to 511 pages, as pages.c's
 * batches) or the call ends. The pages themselves are whatever the
 * filesystem put in the pipe: page-cache pages (overlayfs over tmpfs,
 * FUSE with its cache, NFS), lent by reference like pages.c's; or pages
 * of the filesystem's own copy (sysfs, procfs, O_DIRECT: copy_splice_read()),
 * which the socket takes by reference too but which count as copied,
 * since the CPU copied the bytes into them.
 *
 * Record sockets (datagrams, SEQPACKET, kTLS) see a send per pipeful, as
 * with sendfile(2): there the batch boundary is a record boundary.
 *
 * References: each pipe buffer owns a reference on its page. The actor
 * takes one more for the batch (get_page(), as the socket itself does for
 * each fragment) before the buffer is released; the batch's references
 * are dropped after the send, as for pages.c's batches.
 *
 * Locking: the pipe is current->splice_pipe, private to this task, and
 * splice_direct_to_actor() uses it without the pipe lock; so does the
 * actor.
 */
#include <linux/mm.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/splice.h>

#include "zcopy.h"

/*
 * The actor: called by splice_direct_to_actor() after each ->splice_read,
 * with sd->total_len bytes in the pipe. Moves every buffer into the batch,
 * sending it whenever it is full. Returns the bytes taken (all of them,
 * to go on reading), or 0 to stop the transfer.
 */
static int zcopy_splice_actor(struct pipe_inode_info *pipe,
			      struct splice_desc *sd)
{
	struct zcopy_xfer *x = sd->u.data;
	struct zcopy_batch *b = x->b;
	unsigned int mask = pipe->ring_size - 1;
	int taken = 0;
	int err;

	while (!pipe_empty(pipe->head, pipe->tail)) {
		struct pipe_buffer *buf = &pipe->bufs[pipe->tail & mask];

		if (!buf->len)
			goto next;
		if (!zcopy_xfer_room(x))
			return 0;
		/*
		 * A page-cache buffer checks that its page is still the
		 * file's and uptodate; -ENODATA means it was truncated
		 * away: end of file, as in splice_to_socket().
		 */
		err = pipe_buf_confirm(pipe, buf);
		if (err) {
			x->read_err = err == -ENODATA ? 0 : err;
			x->stop_reading = true;
			return 0;
		}
		get_page(buf->page);
		bvec_set_page(&b->bvec[b->nr++], buf->page, buf->len, buf->offset);
		b->len += buf->len;
		if (zcopy_page_is_copy(buf->page))
			b->copy_len += buf->len;
		taken += buf->len;
next:
		pipe_buf_release(pipe, buf);
		pipe->tail++;
	}

	/*
	 * A record socket gets a send per pipeful, with sendfile's MSG_MORE:
	 * set while the segment has more to read (splice_direct_to_actor()
	 * keeps SPLICE_F_MORE up until the last read, and after it if it was
	 * set at the start: more of the call follows the segment).
	 */
	if (x->record && !zcopy_xfer_flush(x, sd->flags & SPLICE_F_MORE))
		return 0;
	/*
	 * Up to 2 GiB may be read before the socket is ever waited on: let
	 * a signal end the call with what was read so far, as sendfile's
	 * splice_to_socket() checks for one before each send.
	 */
	if (signal_pending(current)) {
		x->stop_reading = true;
		return 0;
	}
	return taken;
}

/**
 * zcopy_xfer_splice - put [pos, pos + len) of @in into the transfer's
 *	batches through its ->splice_read
 * @x: the call's transfer.
 * @in: the file, with zcopy_read_way() %ZCOPY_READ_SPLICE, checked by
 *	the caller as sendfile(2) checks it (->splice_read, FMODE_LSEEK).
 * @pos: the file offset to start at.
 * @len: bytes wanted, at most MAX_RW_COUNT.
 * @more: more of the call follows this range (for a record socket's
 *	last pipeful).
 *
 * Full batches are sent on the way; what is left stays in the batch for
 * the caller, so a byte stream's next segment joins it. Stops at end of
 * file, at a read error (@x->read_err) and when the transfer ends.
 *
 * Context: process context, may sleep.
 * Return: the bytes of the range put into batches (sent or pending).
 */
size_t zcopy_xfer_splice(struct zcopy_xfer *x, struct file *in, loff_t pos,
			 size_t len, bool more)
{
	struct splice_desc sd = {
		.len = len,
		.total_len = len,
		.flags = more ? SPLICE_F_MORE : 0,
		.pos = pos,
		.u.data = x,
	};
	ssize_t ret;

	ret = splice_direct_to_actor(in, &sd, zcopy_splice_actor);
	if (ret < 0) {
		if (!x->read_err && !x->stopped)
			x->read_err = ret;
		return 0;
	}
	/*
	 * The actor took what it returned; a buffer moved into the batch
	 * before a stop counts as read too (it is sent if the transfer can
	 * still send), but the range is then incomplete anyway.
	 */
	return ret;
}
