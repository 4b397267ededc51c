// SPDX-License-Identifier: GPL-2.0
/*
 * xfer.c - stage 1 of the data path: sendfile(2)'s contract and the loop.
 *
 * Receives the decoded ioctl argument (dev.c). Looks up both file
 * descriptors, applies the checks of do_sendfile() in fs/read_write.c in
 * the same order, so that a bad input gets the errno sendfile(2) would
 * give, then walks the range one batch at a time: pages.c pins the next
 * batch of page-cache pages, sendpath.c hands them to the socket. Files
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
#include <linux/uio.h>

#include "compat.h"
#include "zcopy.h"

/*
 * Bio_vecs for a batch: %ZCOPY_BATCH_PAGES for a byte stream,
 * %ZCOPY_SPLICE_BATCH_PAGES (sendfile's pipe) for a record socket, or
 * fewer if the whole request needs fewer. Besides the memory, that saves
 * time: Debian's kernels zero every allocation
 * (CONFIG_INIT_ON_ALLOC_DEFAULT_ON), and zeroing a full batch for a 4 KiB
 * file was, by perf in the benchmark's guest, 7% of the CPU time of
 * sending small files (with a 1 KiB batch; it is 8 KiB now). @avail is
 * what the file holds past @pos as far as i_size tells (page-cache files)
 * or @count (files whose i_size says nothing, such as sysfs). A file
 * that grows meanwhile is still sent whole, in more batches.
 */
static unsigned int zcopy_batch_size(bool record, loff_t pos, size_t count,
				     loff_t avail)
{
	unsigned int max = record ? ZCOPY_SPLICE_BATCH_PAGES : ZCOPY_BATCH_PAGES;
	size_t len;

	if (avail <= 0)
		return 1;
	len = min_t(loff_t, count, avail);
	return min_t(size_t, max,
		     DIV_ROUND_UP(offset_in_page(pos) + len, PAGE_SIZE));
}

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
	b->max = max;
	b->nr = 0;
	b->len = 0;
	b->copy_len = 0;
	return b;
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
 * comes, zcopy_sendfile_files() pushes (zcopy_sock_push()).
 *
 * The bytes the socket accepted are counted in @x->args as lent by
 * reference or copied: by reference when the socket attaches pages
 * (zcopy_sock_takes_pages()) and the page was the file's own, not a copy
 * made for the read (@x->b->copy_len, splice.c).
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
	size_t copied = 0;
	ssize_t ret;

	ret = zcopy_batch_send(x->sock, b, flags);
	if (ret > 0) {
		if (!by_ref) {
			copied = ret;
		} else if (unlikely(b->copy_len)) {
			/* Which of the bytes sent were copies, page by page. */
			unsigned int i;
			size_t at = 0;

			for (i = 0; i < b->nr && at < ret; i++) {
				size_t part = min_t(size_t, b->bvec[i].bv_len,
						    ret - at);

				if (zcopy_page_is_copy(b->bvec[i].bv_page))
					copied += part;
				at += part;
			}
		}
		x->args->copied_bytes += copied;
		x->args->zc_bytes += ret - copied;
		x->done += ret;
		x->corked = more;
	}
	zcopy_batch_release(b);
	return ret;
}

/*
 * Send [*ppos, *ppos + count) of @in, a file pages.c reads (@way), to the
 * socket of @x, lending page-cache pages, advancing *ppos by the bytes
 * sent. Stops at end of file, at a short send (full non-blocking socket,
 * SO_SNDTIMEO, a signal) and at an error; as with write(2), an error
 * after some progress is reported by the next call, and the progress is
 * returned now.
 */
static ssize_t zcopy_xfer_pages(struct zcopy_xfer *x, struct file *in,
				enum zcopy_read_way way, loff_t *ppos,
				size_t count)
{
	struct inode *inode = in->f_mapping->host;
	ssize_t ret = 0;

	while (x->done < count) {
		loff_t isize = i_size_read(inode);
		size_t len;
		bool more;

		if (*ppos >= isize)
			break;
		len = min_t(loff_t, count - x->done, isize - *ppos);

		ret = zcopy_read_begin(in, way);
		if (ret)
			break;
		ret = zcopy_batch_fill(x->b, in, way, *ppos, len);
		zcopy_read_end(in, way);
		if (ret <= 0)
			break;
		len = ret;

		more = x->done + len < count && *ppos + len < isize;
		ret = zcopy_xfer_send(x, more);
		if (ret <= 0)
			break;
		*ppos += ret;
		if (ret < len)
			break;

		/*
		 * A transfer can run for up to 2 GiB without ever waiting on
		 * the socket (a fast peer): let signals end it between
		 * batches with the bytes sent so far, and let others run.
		 */
		if (signal_pending(current))
			break;
		cond_resched();
	}

	if (x->done) {
		file_accessed(in);
		return x->done;
	}
	return ret;
}

/**
 * zcopy_sendfile_files - sendfile(2) from a page-cache file to a socket
 * @in: the file to read, any file sendfile(2) reads.
 * @out: the file to write, a socket's; NULL if its descriptor was bad.
 * @args: the ioctl argument, already copied in and checked for unknown
 *	flags and reserved fields. @args->offset is updated on return;
 *	@args->zc_bytes and @args->copied_bytes are added to.
 *
 * Mirrors do_sendfile() in fs/read_write.c step by step, so that each
 * bad input fails with sendfile(2)'s errno, with one difference: an out
 * file that is not a socket gives -ENOTSOCK, where sendfile(2) would
 * write to it. Split from zcopy_do_sendfile() so that the KUnit tests
 * can run it on files they made themselves (kmod/tests/).
 *
 * Context: process context, may sleep. The caller holds a reference on
 * both files for the duration of the call.
 * Return: bytes sent (0 at end of file), or a negative errno.
 */
ssize_t zcopy_sendfile_files(struct file *in, struct file *out,
			     struct zcopy_sendfile *args)
{
	bool use_offset = args->flags & ZCOPY_SEND_OFFSET;
	size_t count = args->count;
	enum zcopy_read_way way;
	struct zcopy_xfer x = { .args = args };
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
	if (!count)
		return 0;
	/* sendfile(2) reads any file with ->splice_read, and only those. */
	if (!in->f_op->splice_read)
		return -EINVAL;

	x.sock = sock;
	if ((out->f_flags & O_NONBLOCK) || (args->flags & ZCOPY_SEND_DONTWAIT))
		x.msg_flags |= MSG_DONTWAIT;
	if (args->flags & ZCOPY_SEND_NOSIGNAL)
		x.msg_flags |= MSG_NOSIGNAL;
	x.record = !zcopy_sock_is_stream(sock);

	/*
	 * A record socket fed by ->splice_read gets a send per pipeful
	 * (splice.c), so its batch holds a whole pipeful, whatever the
	 * request's size.
	 */
	way = zcopy_read_way(in);
	if (way != ZCOPY_READ_SPLICE) {
		loff_t avail = i_size_read(file_inode(in)) - pos;

		x.b = zcopy_batch_alloc(zcopy_batch_size(x.record, pos, count,
							 avail));
	} else if (x.record) {
		x.b = zcopy_batch_alloc(ZCOPY_SPLICE_BATCH_PAGES);
	} else {
		x.b = zcopy_batch_alloc(zcopy_batch_size(false, pos, count, count));
	}
	if (!x.b)
		return -ENOMEM;
	if (way == ZCOPY_READ_SPLICE)
		ret = zcopy_xfer_splice(&x, in, &pos, count);
	else
		ret = zcopy_xfer_pages(&x, in, way, &pos, count);
	kfree(x.b);

	/* Whatever stopped the call, nothing it sent stays held back. */
	if (x.corked)
		zcopy_sock_push(sock);
	if (ret > 0) {
		add_rchar(current, ret);
		add_wchar(current, ret);
		fsnotify_access(in);
		fsnotify_modify(out);
		if (!use_offset)
			in->f_pos = pos;
	}
	inc_syscr(current);
	inc_syscw(current);
	args->offset = pos;
	return ret;
}

/**
 * zcopy_do_sendfile - the ioctl: zcopy_sendfile_files() on two descriptors
 * @args: the ioctl argument, already copied in and checked for unknown
 *	flags and reserved fields. @args->offset is updated on return.
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
ssize_t zcopy_do_sendfile(struct zcopy_sendfile *args)
{
	struct fd in, out;
	ssize_t ret;

	in = fdget(args->in_fd);
	if (!fd_file(in))
		return -EBADF;
	out = fdget(args->out_fd);
	ret = zcopy_sendfile_files(fd_file(in), fd_file(out), args);
	fdput(out);
	fdput(in);
	return ret;
}
