// SPDX-License-Identifier: GPL-2.0
/*
 * sendv.c - ZCOPY_IOC_SENDV: a whole response in one call.
 *
 * A server's response is rarely one file: a header comes first, a trailer
 * may follow, a broker sends several ranges of a log. With sendfile(2) a
 * server writes the header, sends the file and writes the trailer, and
 * holds the socket with TCP_CORK (or MSG_MORE) so that the three do not
 * leave as three short packets: three to five system calls, each taking
 * the socket lock. SENDV takes the response as a vector of segments,
 * memory (copied, as write(2) copies) or file ranges (lent by reference),
 * and sends it in one call. On a byte stream the segments share batches
 * (xfer.c): the header's bytes are copied into a page that travels by
 * reference next to the file's pages, so a small response is one
 * sendmsg(), one socket lock, one skb.
 *
 * Receives the decoded ioctl argument (dev.c). Reads the vector, checks
 * every segment before anything is sent, with the errno write(2) or
 * sendfile(2) would give for it, so a bad segment never leaves a
 * response half sent; then hands the segments to zcopy_xfer_segs().
 *
 * References: each file segment holds its file with fdget() (taken once
 * for a run of segments naming the same descriptor) until the call ends;
 * memory segments hold nothing (their pages are copied, and the copies'
 * pages are referenced by the batch and the socket).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/pagemap.h>
#include <linux/sched/xacct.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "zcopy.h"

/* Segments held on the stack: a response (header, file, trailer). */
#define ZCOPY_STACK_SEGS 4

/*
 * The checks sendfile(2) makes of its input, for a file segment starting
 * at @pos, in do_sendfile()'s order (see zcopy_sendfile_files()); @len is
 * cut at the file system's maximum size, as sendfile(2) cuts its count.
 */
static int zcopy_check_file(struct file *in, struct file *out, loff_t pos,
			    size_t *len)
{
	loff_t max;
	int ret;

	if (!(in->f_mode & FMODE_READ))
		return -EBADF;
	if (!(in->f_mode & FMODE_PREAD))
		return -ESPIPE;
	ret = rw_verify_area(READ, in, &pos, *len);
	if (ret < 0)
		return ret;
	max = min(file_inode(in)->i_sb->s_maxbytes,
		  file_inode(out)->i_sb->s_maxbytes);
	if (unlikely(pos + *len > max)) {
		if (pos >= max)
			return -EOVERFLOW;
		*len = max - pos;
	}
	if (!(in->f_mode & FMODE_LSEEK))
		return -EINVAL;
	if (!in->f_op->splice_read)
		return -EINVAL;
	return 0;
}

/*
 * Read segment @i of the caller's vector into @k and check it. @prev is
 * the segment before (NULL for the first): a file segment naming the same
 * descriptor shares its file and reference.
 */
static int zcopy_seg_get(struct zcopy_kseg *k, const struct zcopy_kseg *prev,
			 const struct zcopy_seg __user *useg, struct file *out,
			 int *prev_fd, bool nodiskio)
{
	struct zcopy_seg seg;
	int ret;

	if (copy_from_user(&seg, useg, sizeof(seg)))
		return -EFAULT;
	if (seg.reserved)
		return -EINVAL;
	/* As writev(2): a length that is negative as a ssize_t. */
	if ((ssize_t)seg.len < 0)
		return -EINVAL;
	k->len = seg.len;

	switch (seg.type) {
	case ZCOPY_SEG_MEM:
		if (seg.fd)
			return -EINVAL;
		k->ubuf = u64_to_user_ptr(seg.addr);
		/*
		 * Readable now, or nothing is sent: a response must not leave
		 * without its trailer because the trailer's address was bad.
		 * (Memory unmapped by another thread after this check still
		 * ends the call early, as it ends a writev(2).)
		 */
		if (!access_ok(k->ubuf, k->len) ||
		    fault_in_readable(k->ubuf, k->len))
			return -EFAULT;
		return 0;
	case ZCOPY_SEG_FILE:
		break;
	default:
		return -EINVAL;
	}

	if (prev && prev->file && *prev_fd == seg.fd) {
		k->file = prev->file;
	} else {
		k->fd = fdget(seg.fd);
		k->file = fd_file(k->fd);
		if (!k->file)
			return -EBADF;
		*prev_fd = seg.fd;
	}
	ret = zcopy_check_file(k->file, out, seg.offset, &k->len);
	if (ret)
		return ret;
	k->pos = seg.offset;
	k->way = zcopy_read_way(k->file);
	/* As for SENDFILE: such a file's read cannot be told not to wait. */
	if (nodiskio && k->way == ZCOPY_READ_SPLICE)
		return -EOPNOTSUPP;
	return 0;
}

static void zcopy_segs_put(struct zcopy_kseg *segs, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (fd_file(segs[i].fd))
			fdput(segs[i].fd);
}

/**
 * zcopy_sendv_segs - send checked segments to a socket, as SENDV does
 * @out: the socket's file, checked by zcopy_check_out().
 * @segs: @nr segments from zcopy_seg_get(), their total at most
 *	MAX_RW_COUNT and not 0.
 * @nr: segments.
 * @args: the ioctl argument: its flags are used, its zc_bytes and
 *	copied_bytes added to.
 * @call: where to count what the transfer did, or NULL.
 * @zf: the open file that made the call, for %ZCOPY_SEND_NOTIFY, or NULL.
 *
 * Split from zcopy_do_sendv() so that the KUnit tests can send segments
 * of files they made themselves.
 *
 * Context: process context, may sleep.
 * Return: bytes sent, or a negative errno if none.
 */
ssize_t zcopy_sendv_segs(struct file *out, struct zcopy_kseg *segs,
			 unsigned int nr, struct zcopy_sendv *args,
			 struct zcopy_call *call, struct zcopy_file *zf)
{
	struct zcopy_small_batch small __uninitialized;
	struct zcopy_xfer x = {};
	size_t pages = 0, at = 0;
	unsigned int i;
	ssize_t ret;

	zcopy_xfer_init(&x, sock_from_file(out), out, args->flags, call);
	x.ra.bytes = args->readahead;
	if (unlikely(args->flags & ZCOPY_SEND_NOTIFY)) {
		ret = zcopy_notif_begin(&x, zf, args->cookie);
		if (ret)
			return ret;
	}
	for (i = 0; i < nr && pages < ZCOPY_BATCH_PAGES; i++)
		if (segs[i].len)
			pages += zcopy_kseg_pages(&x, &segs[i]);
	ret = zcopy_xfer_batch(&x, pages, &small);
	if (!ret) {
		zcopy_xfer_segs(&x, segs, nr);
		zcopy_xfer_batch_free(&x, &small);
		ret = zcopy_xfer_end(&x);
		args->stop = zcopy_xfer_stop(&x, ret);
	}
	if (unlikely(x.ubuf))
		zcopy_notif_end(&x, ret);
	if (ret <= 0)
		return ret;

	/* What sendfile(2) and write(2) leave behind, for what was read. */
	for (i = 0; i < nr && at < x.done; i++) {
		if (segs[i].file && segs[i].len)
			zcopy_kseg_accessed(&segs[i]);
		at += segs[i].len;
	}
	add_rchar(current, ret);
	add_wchar(current, ret);
	fsnotify_modify(out);
	args->zc_bytes += x.zc_bytes;
	args->copied_bytes += x.copied_bytes;
	return ret;
}

/**
 * zcopy_do_sendv - the ioctl: check the vector, then send it
 * @args: the ioctl argument, already copied in and checked for unknown
 *	flags and reserved fields.
 * @call: the call, begun by dev.c and ended here (zcopy_call_end()),
 *	while the socket still holds its namespace.
 * @zf: the open file that made the call (notices).
 *
 * The checks, in order: the socket (as sendfile(2) checks its output:
 * EBADF, ENOTSOCK, EINVAL for O_APPEND), the vector's length (EINVAL over
 * %ZCOPY_SENDV_MAX_SEGS, as writev(2) over IOV_MAX), then each segment in
 * turn (EFAULT for a vector or memory range that cannot be read now,
 * EINVAL
 * for an unknown type, a reserved field or a negative length, and for a
 * file sendfile(2)'s errnos), then the total (EINVAL if it does not fit
 * a ssize_t; cut at MAX_RW_COUNT otherwise, as writev(2) cuts it).
 *
 * Context: process context, may sleep.
 * Return: bytes sent, or a negative errno.
 */
ssize_t zcopy_do_sendv(struct zcopy_sendv *args, struct zcopy_call *call,
		       struct zcopy_file *zf)
{
	const struct zcopy_seg __user *usegs = u64_to_user_ptr(args->segs);
	struct zcopy_kseg stack_segs[ZCOPY_STACK_SEGS] __uninitialized;
	struct zcopy_kseg *segs = stack_segs;
	unsigned int nr = args->nr_segs, i, got = 0;
	size_t total = 0;
	struct socket *sock;
	struct file *out;
	struct fd outf;
	loff_t out_pos;
	int prev_fd = -1;
	ssize_t ret;

	outf = fdget(args->out_fd);
	out = fd_file(outf);
	sock = zcopy_check_out(out);
	if (IS_ERR(sock)) {
		ret = PTR_ERR(sock);
		goto out_put;
	}
	ret = -EINVAL;
	if (nr > ZCOPY_SENDV_MAX_SEGS)
		goto out_put;
	ret = -ENOMEM;
	if (nr > ZCOPY_STACK_SEGS) {
		segs = kvmalloc_array(nr, sizeof(*segs), GFP_KERNEL);
		if (!segs)
			goto out_put;
	}

	for (i = 0; i < nr; i++) {
		memset(&segs[i], 0, sizeof(segs[i]));
		got++;
		ret = zcopy_seg_get(&segs[i], i ? &segs[i - 1] : NULL,
				    &usegs[i], out, &prev_fd,
				    args->flags & ZCOPY_SEND_NODISKIO);
		if (ret)
			goto out_segs;
		if (check_add_overflow(total, segs[i].len, &total) ||
		    total > SSIZE_MAX) {
			ret = -EINVAL;
			goto out_segs;
		}
	}

	/* As writev(2): the total is cut at MAX_RW_COUNT, the rest unsent. */
	if (total > MAX_RW_COUNT) {
		size_t left = MAX_RW_COUNT;

		for (i = 0; i < nr; i++) {
			segs[i].len = min(segs[i].len, left);
			left -= segs[i].len;
		}
		total = MAX_RW_COUNT;
	}
	call->requested = total;
	out_pos = out->f_pos;
	ret = rw_verify_area(WRITE, out, &out_pos, total);
	if (ret < 0 || !total) {
		if (!ret)
			args->stop = ZCOPY_STOP_DONE;
		goto out_segs;
	}

	ret = zcopy_sendv_segs(out, segs, nr, args, call, zf);
	inc_syscr(current);
	inc_syscw(current);

out_segs:
	zcopy_segs_put(segs, got);
	if (segs != stack_segs)
		kvfree(segs);
out_put:
	zcopy_call_end(call, out, ret);
	if (out)
		fdput(outf);
	return ret;
}
