// SPDX-License-Identifier: GPL-2.0
/*
 * xfer.c - stage 1 of the data path: sendfile(2)'s contract and the loop.
 *
 * Receives the decoded ioctl argument (dev.c). Looks up both file
 * descriptors, applies the checks of do_sendfile() in fs/read_write.c in
 * the same order, so that a bad input gets the errno sendfile(2) would
 * give, then walks the range one batch at a time: pages.c pins the next
 * batch of page-cache pages, sendpath.c hands them to the socket. Files
 * whose pages cannot be lent (procfs, devices, O_DIRECT) take a copy
 * path instead, so that zcopy reads every file sendfile(2) reads.
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
 * Bio_vecs for a batch: the socket's batch size (zcopy_sock_batch_pages()),
 * or fewer if the whole range, as far as i_size goes now, needs fewer.
 * Besides the memory, that saves time: Debian's kernels zero every
 * allocation (CONFIG_INIT_ON_ALLOC_DEFAULT_ON), and zeroing a full batch
 * for a 4 KiB file was, by perf in the benchmark's guest, 7% of the CPU
 * time of sending small files (with a 1 KiB batch; it is 8 KiB now). A
 * file that grows meanwhile is still sent whole, in more batches.
 */
static unsigned int zcopy_batch_size(struct socket *sock, struct inode *inode,
				     loff_t pos, size_t count)
{
	unsigned int max = zcopy_sock_batch_pages(sock);
	loff_t isize = i_size_read(inode);
	size_t len;

	if (isize <= pos)
		return 1;
	len = min_t(loff_t, count, isize - pos);
	return min_t(size_t, max,
		     DIV_ROUND_UP(offset_in_page(pos) + len, PAGE_SIZE));
}

/*
 * Send [*ppos, *ppos + count) of @in to @sock, lending page-cache pages,
 * advancing *ppos by the bytes sent and counting them in @args as
 * zero-copy or copied. Stops at end of file, at a short send (full
 * non-blocking socket, SO_SNDTIMEO, a signal) and at an error; as with
 * write(2), an error after some progress is reported by the next call,
 * and the progress is returned now.
 */
static ssize_t zcopy_xfer_pages(struct file *in, struct socket *sock,
				loff_t *ppos, size_t count, int msg_flags,
				struct zcopy_sendfile *args)
{
	struct inode *inode = in->f_mapping->host;
	unsigned int max = zcopy_batch_size(sock, inode, *ppos, count);
	struct zcopy_batch *b;
	size_t done = 0;
	ssize_t ret = 0;

	b = kmalloc(struct_size(b, bvec, max), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->max = max;
	b->nr = 0;
	b->len = 0;

	while (done < count) {
		loff_t isize = i_size_read(inode);
		int flags = msg_flags;
		bool by_ref;
		size_t len;

		if (*ppos >= isize)
			break;
		len = min_t(loff_t, count - done, isize - *ppos);

		ret = zcopy_batch_fill(b, in, *ppos, len);
		if (ret <= 0)
			break;
		len = ret;

		/*
		 * MSG_MORE while this call has more to send, as splice does
		 * between the chunks of a sendfile(2): TCP then builds full
		 * segments across batches instead of pushing a short one at
		 * the end of each, and UDP keeps appending to one datagram.
		 * The last batch goes without, so the tail leaves at once.
		 */
		if (done + len < count && *ppos + len < isize)
			flags |= MSG_MORE;

		by_ref = zcopy_sock_takes_pages(sock);
		ret = zcopy_batch_send(sock, b, flags);
		zcopy_batch_release(b);
		if (ret <= 0)
			break;
		*ppos += ret;
		done += ret;
		if (by_ref)
			args->zc_bytes += ret;
		else
			args->copied_bytes += ret;
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

	kfree(b);
	if (done) {
		file_accessed(in);
		return done;
	}
	return ret;
}

#define ZCOPY_COPY_PAGES 16

/*
 * The same for files with no page cache to lend (procfs, character
 * devices, O_DIRECT, DAX): read a chunk into pages of our own with the
 * file's ->read_iter, then send them, which copies them again. This is
 * the work sendfile(2) does for these files too (copy_splice_read()),
 * without the pipe; every byte counts as copied. The buffer is a bio_vec
 * of whole pages, not a kmalloc()ed area, because 6.1's direct I/O reads
 * into pages but not into a kernel virtual address (a kvec).
 */
static ssize_t zcopy_xfer_copy(struct file *in, struct socket *sock,
			       loff_t *ppos, size_t count, int msg_flags,
			       struct zcopy_sendfile *args)
{
	struct bio_vec bvec[ZCOPY_COPY_PAGES];
	unsigned int i, nr = 0;
	size_t done = 0;
	ssize_t ret = 0;

	for (; nr < ZCOPY_COPY_PAGES && nr * PAGE_SIZE < count; nr++) {
		struct page *page = alloc_page(GFP_KERNEL);

		if (!page) {
			ret = -ENOMEM;
			goto out;
		}
		bvec_set_page(&bvec[nr], page, PAGE_SIZE, 0);
	}

	while (done < count) {
		size_t chunk = min_t(size_t, count - done, nr * PAGE_SIZE);
		struct msghdr msg = { .msg_flags = msg_flags };
		loff_t start = *ppos;
		struct iov_iter iter;
		size_t got;

		iov_iter_bvec(&iter, ITER_DEST, bvec, nr, chunk);
		ret = vfs_iter_read(in, &iter, ppos, 0);
		if (ret <= 0)
			break;
		got = ret;

		/* Without MSG_SPLICE_PAGES, sendmsg() copies from the pages. */
		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bvec, nr, got);
		ret = sock_sendmsg(sock, &msg);
		if (ret < (ssize_t)got)
			/* Bytes read but not sent are not consumed. */
			*ppos = start + max_t(ssize_t, ret, 0);
		if (ret <= 0)
			break;
		done += ret;
		args->copied_bytes += ret;
		if (ret < got || signal_pending(current))
			break;
		cond_resched();
	}
out:
	for (i = 0; i < nr; i++)
		__free_page(bvec[i].bv_page);
	return done ? done : ret;
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
	int msg_flags = 0;
	bool copy;
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
	/*
	 * sendfile(2) reads any file with ->splice_read; those whose pages
	 * zcopy cannot lend are sent through a copy, by ->read_iter.
	 */
	if (!in->f_op->splice_read)
		return -EINVAL;
	copy = !zcopy_file_has_page_cache(in);
	if (copy && !in->f_op->read_iter)
		return -EINVAL;

	if ((out->f_flags & O_NONBLOCK) || (args->flags & ZCOPY_SEND_DONTWAIT))
		msg_flags |= MSG_DONTWAIT;
	if (args->flags & ZCOPY_SEND_NOSIGNAL)
		msg_flags |= MSG_NOSIGNAL;

	if (copy)
		ret = zcopy_xfer_copy(in, sock, &pos, count, msg_flags, args);
	else
		ret = zcopy_xfer_pages(in, sock, &pos, count, msg_flags, args);
	if (ret > 0) {
		add_rchar(current, ret);
		add_wchar(current, ret);
		if (!copy) /* vfs_iter_read() already told fsnotify */
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
