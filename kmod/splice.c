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

/* What the actor leaves for zcopy_xfer_splice() to see. */
struct zcopy_splice {
	struct zcopy_xfer *x;
	bool send_stopped;	/* the socket refused or took part of a batch */
	ssize_t send_err;	/* its errno, if it took nothing */
	int read_err;		/* a buffer that could not be confirmed, a signal */
};

/*
 * Send the batch; @more: more of this call follows it. Records a failure
 * or a short send in @s, which ends the transfer: the bytes of the batch
 * the socket did not take are dropped, and the file position will say
 * where to resume. Returns true if the transfer may go on.
 */
static bool zcopy_splice_flush(struct zcopy_splice *s, bool more)
{
	struct zcopy_batch *b = s->x->b;
	size_t len = b->len;
	ssize_t ret;

	if (!b->nr)
		return true;
	ret = zcopy_xfer_send(s->x, more);
	if (ret <= 0 || ret < len) {
		s->send_stopped = true;
		s->send_err = min_t(ssize_t, ret, 0);
		return false;
	}
	return true;
}

/*
 * The actor: called by splice_direct_to_actor() after each ->splice_read,
 * with sd->total_len bytes in the pipe. Moves every buffer into the batch,
 * flushing it whenever it is full. Returns the bytes taken (all of them,
 * to go on reading), or 0 to stop the transfer.
 */
static int zcopy_splice_actor(struct pipe_inode_info *pipe,
			      struct splice_desc *sd)
{
	struct zcopy_splice *s = sd->u.data;
	struct zcopy_batch *b = s->x->b;
	unsigned int mask = pipe->ring_size - 1;
	int taken = 0;
	int err;

	while (!pipe_empty(pipe->head, pipe->tail)) {
		struct pipe_buffer *buf = &pipe->bufs[pipe->tail & mask];

		if (!buf->len)
			goto next;
		if (b->nr == b->max && !zcopy_splice_flush(s, true))
			return 0;
		/*
		 * A page-cache buffer checks that its page is still the
		 * file's and uptodate; -ENODATA means it was truncated
		 * away: end of file, as in splice_to_socket().
		 */
		err = pipe_buf_confirm(pipe, buf);
		if (err) {
			s->read_err = err == -ENODATA ? 0 : err;
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
	 * set while the call has more to read (splice_direct_to_actor()
	 * keeps SPLICE_F_MORE up until the last read).
	 */
	if (s->x->record && !zcopy_splice_flush(s, sd->flags & SPLICE_F_MORE))
		return 0;
	/*
	 * Up to 2 GiB may be read before the socket is ever waited on: let
	 * a signal end the call with what was read so far, as sendfile's
	 * splice_to_socket() checks for one before each send.
	 */
	if (signal_pending(current)) {
		s->read_err = -ERESTARTSYS;
		return 0;
	}
	return taken;
}

/**
 * zcopy_xfer_splice - send [*ppos, *ppos + count) of @in through its
 *	->splice_read
 * @x: the call's transfer, with an empty batch.
 * @in: the file, with zcopy_read_way() %ZCOPY_READ_SPLICE, checked by
 *	the caller as sendfile(2) checks it (->splice_read, FMODE_LSEEK).
 * @ppos: the file offset; advanced by the bytes the socket accepted.
 * @count: bytes wanted, at most MAX_RW_COUNT.
 *
 * Context: process context, may sleep.
 * Return: bytes sent (0 at end of file), or a negative errno if none.
 */
ssize_t zcopy_xfer_splice(struct zcopy_xfer *x, struct file *in, loff_t *ppos,
			  size_t count)
{
	struct zcopy_splice s = { .x = x };
	struct splice_desc sd = {
		.len = count,
		.total_len = count,
		.pos = *ppos,
		.u.data = &s,
	};
	loff_t start = *ppos;
	ssize_t ret;

	ret = splice_direct_to_actor(in, &sd, zcopy_splice_actor);
	/*
	 * What was read and is still in the batch ends the call, without
	 * MSG_MORE, whatever stopped the reading (end of file, a read
	 * error, a signal): those bytes were the file's.
	 */
	if (!s.send_stopped)
		zcopy_splice_flush(&s, false);
	zcopy_batch_release(x->b);

	*ppos = start + x->done;
	if (x->done)
		return x->done;
	/* Nothing sent: the socket's errno, else the read's (0: EOF). */
	if (s.send_stopped)
		return s.send_err;
	if (s.read_err)
		return s.read_err;
	return min_t(ssize_t, ret, 0);
}
