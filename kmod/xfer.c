// SPDX-License-Identifier: GPL-2.0
/*
 * xfer.c - stage 1 of the data path: sendfile(2)'s contract and the loop.
 *
 * Receives the decoded ioctl argument (dev.c). Looks up both file
 * descriptors, applies the checks of do_sendfile() in fs/read_write.c in
 * the same order, so that a bad input gets the errno sendfile(2) would
 * give, then walks the range one batch at a time: pages.c pins the next
 * batch of page-cache pages, sendpath.c hands them to the socket. The
 * walk is over segments (zcopy_xfer_segs()): a SENDFILE is a vector of one
 * file segment, a SENDV (sendv.c) of many, memory and files, and on a
 * byte stream one batch carries on across them. Files
 * whose own read is more than a page-cache read (sysfs, procfs, FUSE,
 * NFS, overlayfs, devices, O_DIRECT: see zcopy_read_way()) are read
 * through their ->splice_read instead (splice.c), as sendfile(2) reads
 * them, into the same batches; so zcopy sends exactly what sendfile(2)
 * sends, from every file sendfile(2) reads.
 *
 * References: fdget() keeps both files alive for the duration of the call
 * (see zcopy_do_sendfile()). The socket needs no reference of its own:
 * sock_from_file() borrows it from the file. Page references are owned by
 * the batch (see struct zcopy_batch).
 *
 * Locking: none of zcopy's own. Like sendfile(2), the file position of a
 * NULL-offset transfer is read at the start and written at the end
 * without f_pos_lock, so concurrent users of one open file description
 * race on it exactly as they would with sendfile(2).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/sched/signal.h>
#include <linux/sched/xacct.h>
#include <linux/slab.h>
#include <linux/skbuff.h>
#include <linux/uio.h>

#include "compat.h"
#include "trace.h"
#include "zcopy.h"

/**
 * zcopy_batch_alloc - an empty batch of @max bio_vecs
 * @max: 1 to %ZCOPY_BATCH_PAGES.
 *
 * Return: the batch, to kfree() when done, or NULL.
 */
struct zcopy_batch *zcopy_batch_alloc(unsigned int max)
{
	struct zcopy_batch *b;

	b = kmalloc(struct_size(b, bvec, max), GFP_KERNEL);
	if (!b)
		return NULL;
	zcopy_batch_init(b, max);
	return b;
}

/**
 * zcopy_xfer_batch - give a transfer its batch, sized for what it sends
 * @x: the transfer, its @x->record set.
 * @pages: the most pages the call's segments can cover.
 * @small: room for %ZCOPY_SMALL_BATCH_PAGES bio_vecs, on the caller's stack.
 *
 * A stream gets up to %ZCOPY_BATCH_PAGES, a record socket
 * %ZCOPY_SPLICE_BATCH_PAGES (sendfile's pipe), and neither more than the
 * request needs. A request that fits in @small (a small file, a
 * response) needs no allocation at all: kmalloc() and kfree() of the
 * batch were, with the copy of the argument, the largest of the ioctl's
 * own costs for 4 KiB files in the benchmark's profile. Debian's kernels
 * also zero every allocation (CONFIG_INIT_ON_ALLOC_DEFAULT_ON).
 *
 * Return: 0, or -ENOMEM.
 */
int zcopy_xfer_batch(struct zcopy_xfer *x, size_t pages,
		     struct zcopy_small_batch *small)
{
	unsigned int max = x->record ? ZCOPY_SPLICE_BATCH_PAGES :
				       ZCOPY_BATCH_PAGES;

	max = clamp_t(size_t, pages, 1, max);
	if (max <= ZCOPY_SMALL_BATCH_PAGES) {
		x->b = &small->b;
		zcopy_batch_init(x->b, max);
		return 0;
	}
	x->b = zcopy_batch_alloc(max);
	return x->b ? 0 : -ENOMEM;
}

/* The batch back, unless it lives on the stack. */
void zcopy_xfer_batch_free(struct zcopy_xfer *x,
			   struct zcopy_small_batch *small)
{
	if (x->b != &small->b)
		kfree(x->b);
	x->b = NULL;
}

/*
 * Pages of [pos, pos + len) of a file that holds @avail bytes past @pos
 * (page-cache files; any length for the others, whose i_size says nothing:
 * sysfs, procfs), for zcopy_xfer_batch(). A file that grows meanwhile is
 * still sent whole, in more batches.
 */
static size_t zcopy_range_pages(loff_t pos, size_t len, loff_t avail)
{
	if (avail < (loff_t)len)
		len = max_t(loff_t, avail, 0);
	return DIV_ROUND_UP(offset_in_page(pos) + len, PAGE_SIZE);
}

/*
 * Count the @sent bytes a socket accepted of the batch: lent by reference
 * or copied, and why copied (enum zcopy_copy_why), for the call's result
 * and for the counters. The batch's copies (@b->copy_len: memory
 * segments, @x->b_mem of them, and pages a file's read made) were copied
 * whatever the socket does; the rest are page-cache pages, lent if
 * @by_ref. A socket that took less than the batch took its first @sent
 * bytes: which of those were copies is found page by page. Only a short
 * send of a batch holding both memory and a no-cache file's copies
 * splits them by assumption (memory first).
 */
static void zcopy_xfer_count(struct zcopy_xfer *x, size_t sent, bool by_ref,
			     bool more)
{
	struct zcopy_batch *b = x->b;
	size_t copies = b->copy_len, mem = x->b_mem, file;

	if (unlikely(sent < b->len) && copies) {
		unsigned int i;
		size_t at = 0;

		copies = 0;
		for (i = 0; i < b->nr && at < sent; i++) {
			size_t part = min_t(size_t, b->bvec[i].bv_len,
					    sent - at);

			if (zcopy_page_is_copy(b->bvec[i].bv_page))
				copies += part;
			at += part;
		}
		mem = min(mem, copies);
	}
	file = sent - copies;
	trace_zcopy_batch(b->nr, b->len, sent, by_ref ? file : 0,
			  by_ref ? copies : sent, more);
	if (likely(by_ref)) {
		x->zc_bytes += file;
		x->copied_bytes += copies;
	} else {
		x->copied_bytes += sent;
	}
	/* The call's own counts need only the copies: the rest was lent. */
	if (likely(by_ref && !copies) || !x->call)
		return;
	x->call->copied[ZCOPY_COPIED_MEMORY] += mem;
	x->call->copied[ZCOPY_COPIED_NO_CACHE] += copies - mem;
	if (!by_ref)
		x->call->copied[zcopy_sock_has_ulp(x->sock) ?
				ZCOPY_COPIED_ULP : ZCOPY_COPIED_SOCKET] += file;
}

/**
 * zcopy_xfer_send - the send step: hand the batch to the socket, count it
 * @x: the call's transfer; @x->b holds the pages to send.
 * @more: more of this call follows the batch: MSG_MORE.
 *
 * MSG_MORE while a call has more to send, as splice does between the
 * chunks of a sendfile(2): TCP then builds full segments across batches
 * instead of pushing a short one at the end of each, and UDP keeps
 * appending to one datagram. If the call then ends before that "more"
 * comes, zcopy_xfer_end() pushes (zcopy_sock_push()).
 *
 * The bytes the socket accepted are counted as lent by reference or
 * copied (zcopy_xfer_count()): by reference when the socket attaches
 * pages (zcopy_sock_takes_pages()) and the page was the file's own, not a
 * copy made for the read or a memory segment's bytes (@x->b->copy_len).
 *
 * Context: process context, may sleep. Releases the batch's references.
 * Return: bytes the socket accepted (> 0, possibly short), or a negative
 * errno if none.
 */
ssize_t zcopy_xfer_send(struct zcopy_xfer *x, bool more)
{
	struct zcopy_batch *b = x->b;
	bool by_ref = zcopy_sock_takes_pages(x->sock);
	int flags = x->msg_flags | (more ? MSG_MORE : 0);
	ssize_t ret;

	if (unlikely(x->ubuf))
		ret = zcopy_batch_send_ubuf(x->sock, b, flags, x->ubuf);
	else
		ret = zcopy_batch_send(x->sock, b, flags);
	if (ret > 0) {
		zcopy_xfer_count(x, ret, by_ref, more);
		x->done += ret;
		x->corked = more;
	} else {
		trace_zcopy_batch(b->nr, b->len, ret, 0, 0, more);
	}
	x->b_mem = 0;
	zcopy_batch_release(b);
	return ret;
}

/**
 * zcopy_xfer_flush - send what the batch holds
 * @x: the transfer.
 * @more: more of this call (or, with %ZCOPY_SEND_MORE, of the caller)
 *	follows: MSG_MORE.
 *
 * The socket taking less than the whole batch (full non-blocking socket,
 * SO_SNDTIMEO, a signal) or failing ends the transfer: @x->stopped is
 * set, the bytes it did not take are dropped, and the return value of the
 * call says where to resume.
 *
 * Return: true if the transfer may go on.
 */
bool zcopy_xfer_flush(struct zcopy_xfer *x, bool more)
{
	size_t len = x->b->len;
	ssize_t ret;

	if (x->stopped)
		return false;
	if (!x->b->nr)
		return true;
	ret = zcopy_xfer_send(x, more);
	if (ret < (ssize_t)len) {
		x->stopped = true;
		if (ret < 0)
			x->send_err = ret;
		return false;
	}
	return true;
}

/**
 * zcopy_xfer_room - room for one more bio_vec in the batch
 * @x: the transfer.
 *
 * A full batch is sent first, with MSG_MORE (what is being added follows
 * it). Every way of filling a batch asks this before adding a page:
 * pages.c's walk, memory segments, the splice actor.
 *
 * Return: true if there is room; false if the transfer ended.
 */
bool zcopy_xfer_room(struct zcopy_xfer *x)
{
	if (x->b->nr < x->b->max)
		return !x->stopped;
	return zcopy_xfer_flush(x, true);
}

/*
 * Put [pos, pos + len) of @in, a file pages.c reads (@way), into the
 * transfer's batches, lending its page-cache pages; full batches are
 * sent on the way. Stops at end of file, at a read error (@x->read_err)
 * and when the transfer ends (@x->stopped); a signal stops the reading,
 * and what was read is still sent.
 *
 * Returns the bytes of the range put into batches (sent or pending).
 */
static size_t zcopy_xfer_pages(struct zcopy_xfer *x, struct file *in,
			       enum zcopy_read_way way, loff_t pos, size_t len)
{
	struct inode *inode = in->f_mapping->host;
	size_t added = 0;

	while (added < len) {
		loff_t isize = i_size_read(inode);
		ssize_t ret;

		if (pos >= isize || !zcopy_xfer_room(x))
			break;
		ret = zcopy_read_begin(in, way, x->ra.nodiskio);
		if (!ret) {
			ret = zcopy_batch_fill_ra(x->b, in, way, pos,
						  min_t(loff_t, len - added,
							isize - pos),
						  x->call, &x->ra);
			zcopy_read_end(in, way);
		}
		if (ret <= 0) {
			x->read_err = ret;
			break;
		}
		pos += ret;
		added += ret;

		/*
		 * A transfer can run for up to 2 GiB without ever waiting on
		 * the socket (a fast peer): let signals end it between
		 * batches with what was read so far, and let others run.
		 */
		if (signal_pending(current)) {
			x->stop_reading = true;
			break;
		}
		cond_resched();
	}
	return added;
}

/*
 * Put @len bytes of the caller's memory at @ubuf into the transfer's
 * batches, for a byte stream: the CPU copies them into pages of the
 * task's page fragment (current->task_frag, where TCP's own sendmsg()
 * copies a write(2)'s bytes), and those pages then travel by reference
 * with the file's, in the same sendmsg(): a response's header and its
 * file leave in one skb. The bytes count as copied (@b->copy_len).
 *
 * The task's fragment is private to this task, which is running here and
 * not inside any sendmsg() of its own, so it needs no lock; each bio_vec
 * takes a page reference of its own, and the fragment moves past the
 * bytes, so a later user of the fragment never writes over them.
 *
 * Returns the bytes copied in; a fault stops there (@x->read_err =
 * -EFAULT), as it stops write(2).
 */
static size_t zcopy_xfer_mem(struct zcopy_xfer *x, const char __user *ubuf,
			     size_t len)
{
	struct page_frag *pfrag = &current->task_frag;
	struct zcopy_batch *b = x->b;
	size_t added = 0;

	while (added < len) {
		struct page *page;
		size_t off, n, left;

		if (!zcopy_xfer_room(x))
			break;
		if (!skb_page_frag_refill(1, pfrag, GFP_KERNEL)) {
			x->read_err = -ENOMEM;
			break;
		}
		/*
		 * One bio_vec per base page, as the file's: the fragment may
		 * be a compound page. It is never highmem (allocated without
		 * __GFP_HIGHMEM), so page_address() is its mapping.
		 */
		page = pfrag->page + (pfrag->offset >> PAGE_SHIFT);
		off = offset_in_page(pfrag->offset);
		n = min3(len - added, PAGE_SIZE - off,
			 (size_t)(pfrag->size - pfrag->offset));
		left = copy_from_user(page_address(page) + off, ubuf + added, n);
		n -= left;
		if (n) {
			get_page(page);
			bvec_set_page(&b->bvec[b->nr++], page, n, off);
			b->len += n;
			b->copy_len += n;
			x->b_mem += n;
			pfrag->offset += n;
			added += n;
		}
		if (left) {
			x->read_err = -EFAULT;
			break;
		}
	}
	return added;
}

/*
 * A memory segment on a record socket: one sendmsg() from the caller's
 * memory, exactly what write(2) does, so the segment is one record (one
 * part of the datagram, with MSG_MORE). The batch is empty here: record
 * sockets send it at the end of each segment.
 */
static size_t zcopy_xfer_mem_record(struct zcopy_xfer *x,
				    char __user *ubuf, size_t len, bool more)
{
	struct msghdr msg = {
		.msg_flags = x->msg_flags | (more ? MSG_MORE : 0),
	};
	ssize_t ret;

	if (x->stopped)
		return 0;
	iov_iter_ubuf(&msg.msg_iter, ITER_SOURCE, ubuf, len);
	ret = sock_sendmsg(x->sock, &msg);
	if (ret > 0) {
		x->copied_bytes += ret;
		if (x->call)
			x->call->copied[ZCOPY_COPIED_MEMORY] += ret;
		x->done += ret;
		x->corked = more;
	}
	if (ret < (ssize_t)len) {
		x->stopped = true;
		if (ret < 0) {
			x->send_err = ret;
			ret = 0;
		}
	}
	return ret;
}

/**
 * zcopy_xfer_segs - send checked segments, in order, to @x->sock
 * @x: the transfer: socket, flags, @x->record and an empty batch.
 * @segs: @nr segments, each checked as sendfile(2) or write(2) would
 *	check it (zcopy_sendfile_files(), sendv.c); lengths already cut so
 *	that the total is at most MAX_RW_COUNT.
 * @nr: segments in @segs.
 *
 * The batch is the unit of sending. On a byte stream it runs on across
 * segments: a header, a file and a trailer fill one batch and leave in
 * one sendmsg(), full batches with MSG_MORE. On a record socket each
 * segment is sent as write(2) or sendfile(2) sends it, ending with a send
 * of its own (MSG_MORE if more follows). The last send of the call
 * carries MSG_MORE only with %ZCOPY_SEND_MORE (@x->send_more).
 *
 * The walk stops at the first segment that could not be sent whole: end
 * of its file, a read error or fault, a signal, or the socket taking less
 * than offered. What was read before that point is still sent.
 *
 * Context: process context, may sleep. The caller holds references on
 * the segments' files and ends the transfer with zcopy_xfer_end().
 */
void zcopy_xfer_segs(struct zcopy_xfer *x, struct zcopy_kseg *segs,
		     unsigned int nr)
{
	unsigned int i, last = 0;

	/* The last segment with bytes: where "more follows" stops. */
	for (i = 0; i < nr; i++)
		if (segs[i].len)
			last = i;

	for (i = 0; i < nr; i++) {
		struct zcopy_kseg *s = &segs[i];
		bool more = i < last || x->send_more;
		size_t done;

		if (!s->len)
			continue;
		if (!s->file && x->record)
			done = zcopy_xfer_mem_record(x, s->ubuf, s->len, more);
		else if (!s->file)
			done = zcopy_xfer_mem(x, s->ubuf, s->len);
		else if (s->way == ZCOPY_READ_SPLICE)
			done = zcopy_xfer_splice(x, s->file, s->pos, s->len,
						 more);
		else
			done = zcopy_xfer_pages(x, s->file, s->way, s->pos,
						s->len);
		if (x->record)
			zcopy_xfer_flush(x, more);
		if (done < s->len || x->stopped || x->stop_reading ||
		    x->read_err) {
			/* Short with nothing else to blame: end of file. */
			if (s->file && done < s->len && !x->stopped &&
			    !x->stop_reading && !x->read_err)
				x->eof = true;
			break;
		}
	}
	/* What the last segments left in the batch; a no-op if empty. */
	zcopy_xfer_flush(x, x->send_more);
	zcopy_batch_release(x->b);
}

/**
 * zcopy_xfer_end - finish a transfer: push, and its result
 * @x: the transfer, after zcopy_xfer_segs().
 *
 * Whatever stopped the call, nothing it sent stays held back by MSG_MORE
 * unless the caller asked for exactly that (%ZCOPY_SEND_MORE). As with
 * write(2), an error after some progress is reported by the next call,
 * and the progress now.
 *
 * Return: bytes sent, or if none the socket's errno, else the read's (0
 * at end of file).
 */
ssize_t zcopy_xfer_end(struct zcopy_xfer *x)
{
	if (x->corked && !x->send_more)
		zcopy_sock_push(x->sock);
	if (x->done)
		return x->done;
	if (x->send_err)
		return x->send_err;
	return x->read_err;
}

/**
 * zcopy_xfer_stop - why a transfer stopped, for the ABI's @stop
 * @x: the transfer, after zcopy_xfer_end().
 * @ret: zcopy_xfer_end()'s return.
 *
 * The first cause met wins: the socket (it took less, or failed), a
 * signal, the disk (%ZCOPY_SEND_NODISKIO's -EBUSY), another read error,
 * end of file. A transfer with none of them sent everything.
 *
 * Return: a %ZCOPY_STOP_* value.
 */
u32 zcopy_xfer_stop(const struct zcopy_xfer *x, ssize_t ret)
{
	if (x->send_err == -ERESTARTSYS || x->send_err == -EINTR)
		return ZCOPY_STOP_SIGNAL;
	if (x->send_err == -EAGAIN)
		return ZCOPY_STOP_SOCKET;
	if (x->send_err)
		return ZCOPY_STOP_ERROR;
	if (x->stopped)
		return ZCOPY_STOP_SOCKET;
	if (x->read_err == -EBUSY)
		return ZCOPY_STOP_DISK;
	if (x->read_err == -ERESTARTSYS || x->read_err == -EINTR ||
	    (x->stop_reading && signal_pending(current)))
		return ZCOPY_STOP_SIGNAL;
	if (x->read_err)
		return ZCOPY_STOP_ERROR;
	if (x->eof || (x->stop_reading && !x->read_err))
		return ZCOPY_STOP_EOF;
	return ret < 0 ? ZCOPY_STOP_ERROR : ZCOPY_STOP_DONE;
}

/**
 * zcopy_check_out - the checks sendfile(2) makes of its output file
 * @out: the file to write, NULL if its descriptor was bad.
 *
 * Return: the socket, or an ERR_PTR: -EBADF (not open for writing),
 * -ENOTSOCK (sendfile(2) would write to any file; zcopy only to sockets),
 * -EINVAL (O_APPEND, which splice_direct_to_actor() refuses).
 */
struct socket *zcopy_check_out(struct file *out)
{
	struct socket *sock;

	if (!out || !(out->f_mode & FMODE_WRITE))
		return ERR_PTR(-EBADF);
	sock = sock_from_file(out);
	if (!sock)
		return ERR_PTR(-ENOTSOCK);
	if (out->f_flags & O_APPEND)
		return ERR_PTR(-EINVAL);
	return sock;
}

/**
 * zcopy_xfer_init - a transfer to @sock with the call's flags
 * @x: the transfer to set up, zeroed by the caller.
 * @sock: the destination.
 * @out: @sock's file.
 * @flags: %ZCOPY_SEND_* flags of the call, already checked.
 * @call: where to count the transfer (stats.c), or NULL.
 */
void zcopy_xfer_init(struct zcopy_xfer *x, struct socket *sock,
		     struct file *out, u32 flags, struct zcopy_call *call)
{
	x->sock = sock;
	x->call = call;
	zcopy_call_started(call, sock);
	if ((out->f_flags & O_NONBLOCK) || (flags & ZCOPY_SEND_DONTWAIT))
		x->msg_flags |= MSG_DONTWAIT;
	if (flags & ZCOPY_SEND_NOSIGNAL)
		x->msg_flags |= MSG_NOSIGNAL;
	x->send_more = flags & ZCOPY_SEND_MORE;
	x->record = !zcopy_sock_is_stream(sock);
	x->ra.nodiskio = flags & ZCOPY_SEND_NODISKIO;
}

/*
 * The pages a file segment can cover (zcopy_xfer_batch()). A record
 * socket fed by ->splice_read gets a send per pipeful (splice.c), so its
 * batch holds a whole pipeful whatever the segment's size.
 */
size_t zcopy_kseg_pages(struct zcopy_xfer *x, struct zcopy_kseg *s)
{
	if (!s->file)
		return DIV_ROUND_UP(s->len, PAGE_SIZE) + 1;
	if (s->way != ZCOPY_READ_SPLICE)
		return zcopy_range_pages(s->pos, s->len,
					 i_size_read(file_inode(s->file)) -
					 s->pos);
	if (x->record)
		return ZCOPY_SPLICE_BATCH_PAGES;
	return zcopy_range_pages(s->pos, s->len, s->len);
}

/**
 * zcopy_kseg_accessed - a file segment's bytes were read
 * @s: the segment.
 *
 * What sendfile(2)'s read leaves behind: the atime update that
 * filemap_splice_read() makes (the ->splice_read of other files makes
 * its own), and do_sendfile()'s fsnotify_access().
 */
void zcopy_kseg_accessed(struct zcopy_kseg *s)
{
	if (s->way != ZCOPY_READ_SPLICE)
		file_accessed(s->file);
	fsnotify_access(s->file);
}

/**
 * zcopy_sendfile_files - sendfile(2) from a page-cache file to a socket
 * @in: the file to read, any file sendfile(2) reads.
 * @out: the file to write, a socket's; NULL if its descriptor was bad.
 * @args: the ioctl argument, already copied in and checked for unknown
 *	flags and reserved fields. @args->offset is updated on return;
 *	@args->zc_bytes and @args->copied_bytes are added to.
 * @call: where to count what the transfer did, or NULL.
 * @zf: the open file that made the call, where a notice goes
 *	(%ZCOPY_SEND_NOTIFY), or NULL.
 *
 * Mirrors do_sendfile() in fs/read_write.c step by step, so that each
 * bad input fails with sendfile(2)'s errno, with one difference: an out
 * file that is not a socket gives -ENOTSOCK, where sendfile(2) would
 * write to it. The transfer itself is a vector of one file segment
 * (zcopy_xfer_segs()). Split from zcopy_do_sendfile() so that the KUnit
 * tests can run it on files they made themselves (kmod/tests/).
 *
 * Context: process context, may sleep. The caller holds a reference on
 * both files for the duration of the call.
 * Return: bytes sent (0 at end of file), or a negative errno.
 */
ssize_t zcopy_sendfile_files(struct file *in, struct file *out,
			     struct zcopy_sendfile *args,
			     struct zcopy_call *call, struct zcopy_file *zf)
{
	bool use_offset = args->flags & ZCOPY_SEND_OFFSET;
	struct zcopy_kseg seg = { .file = in };
	struct zcopy_small_batch small __uninitialized;
	struct zcopy_xfer x = {};
	size_t count = args->count;
	struct socket *sock;
	loff_t pos, out_pos, max;
	ssize_t ret;

	/*
	 * @count is u64 in the ABI; sendfile(2) takes a size_t. The two
	 * are the same width on every 64-bit kernel, and rw_verify_area()
	 * rejects a count with the top bit set, as for sendfile(2).
	 */
	if (!(in->f_mode & FMODE_READ))
		return -EBADF;
	if (use_offset) {
		if (!(in->f_mode & FMODE_PREAD))
			return -ESPIPE;
		pos = args->offset;
	} else {
		pos = in->f_pos;
	}
	args->offset = pos;
	/* Negative or overflowing ranges, LSM file_permission, fanotify. */
	ret = rw_verify_area(READ, in, &pos, count);
	if (ret < 0)
		return ret;
	count = min_t(size_t, count, MAX_RW_COUNT);

	/* Only now, as in do_sendfile(): with two bad fds, @in's errno wins. */
	if (!out || !(out->f_mode & FMODE_WRITE))
		return -EBADF;
	sock = sock_from_file(out);
	if (!sock)
		return -ENOTSOCK;

	max = min(file_inode(in)->i_sb->s_maxbytes,
		  file_inode(out)->i_sb->s_maxbytes);
	if (unlikely(pos + count > max)) {
		if (pos >= max)
			return -EOVERFLOW;
		count = max - pos;
	}
	out_pos = out->f_pos;
	ret = rw_verify_area(WRITE, out, &out_pos, count);
	if (ret < 0)
		return ret;

	/* What splice_direct_to_actor() refuses, with its errno. */
	if (out->f_flags & O_APPEND)
		return -EINVAL;
	if (!(in->f_mode & FMODE_LSEEK))
		return -EINVAL;
	if (!count) {
		args->stop = ZCOPY_STOP_DONE;
		return 0;
	}
	/* sendfile(2) reads any file with ->splice_read, and only those. */
	if (!in->f_op->splice_read)
		return -EINVAL;
	seg.way = zcopy_read_way(in);
	/*
	 * A file read by its filesystem's ->splice_read cannot be told not to
	 * wait (FUSE asks its server, NFS the network, O_DIRECT the disk):
	 * NODISKIO there would be a promise zcopy cannot keep.
	 */
	if ((args->flags & ZCOPY_SEND_NODISKIO) &&
	    seg.way == ZCOPY_READ_SPLICE)
		return -EOPNOTSUPP;

	zcopy_xfer_init(&x, sock, out, args->flags, call);
	x.ra.bytes = args->readahead;
	if (unlikely(args->flags & ZCOPY_SEND_NOTIFY)) {
		ret = zcopy_notif_begin(&x, zf, args->cookie);
		if (ret)
			return ret;
	}
	seg.pos = pos;
	seg.len = count;
	ret = zcopy_xfer_batch(&x, zcopy_kseg_pages(&x, &seg), &small);
	if (!ret) {
		zcopy_xfer_segs(&x, &seg, 1);
		zcopy_xfer_batch_free(&x, &small);
		ret = zcopy_xfer_end(&x);
		args->stop = zcopy_xfer_stop(&x, ret);
	}
	if (unlikely(x.ubuf))
		zcopy_notif_end(&x, ret);
	if (ret < 0)
		return ret;

	pos += x.done;
	if (ret > 0) {
		zcopy_kseg_accessed(&seg);
		add_rchar(current, ret);
		add_wchar(current, ret);
		fsnotify_modify(out);
		if (!use_offset)
			in->f_pos = pos;
	}
	inc_syscr(current);
	inc_syscw(current);
	args->offset = pos;
	args->zc_bytes += x.zc_bytes;
	args->copied_bytes += x.copied_bytes;
	return ret;
}

/**
 * zcopy_do_sendfile - the ioctl: zcopy_sendfile_files() on two descriptors
 * @args: the ioctl argument, already copied in and checked for unknown
 *	flags and reserved fields. @args->offset is updated on return.
 * @call: the call, begun by dev.c and ended here (zcopy_call_end()),
 *	while the socket still holds its namespace.
 * @zf: the open file that made the call (notices).
 *
 * References: fdget(), as sendfile(2) does. A caller whose descriptor
 * table is not shared (a single-threaded process) cannot have the files
 * closed under it, so fdget() then borrows the table's references and
 * takes none of its own; otherwise it takes one, dropped by fdput().
 * That saves two atomic increments and decrements on the files of each
 * call, which shows on small files.
 *
 * Context: process context, may sleep.
 * Return: bytes sent (0 at end of file), or a negative errno.
 */
ssize_t zcopy_do_sendfile(struct zcopy_sendfile *args, struct zcopy_call *call,
			  struct zcopy_file *zf)
{
	struct fd in, out;
	ssize_t ret;

	in = fdget(args->in_fd);
	if (!fd_file(in)) {
		zcopy_call_end(call, NULL, -EBADF);
		return -EBADF;
	}
	out = fdget(args->out_fd);
	ret = zcopy_sendfile_files(fd_file(in), fd_file(out), args, call, zf);
	zcopy_call_end(call, fd_file(out), ret);
	fdput(out);
	fdput(in);
	return ret;
}
