// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - the entry of the data path: /dev/zcopy and its ioctl.
 *
 * zcopy sends a range of a file to a socket without any CPU copy of the
 * file's bytes: the page-cache pages themselves are attached to the
 * socket's skbs, and the NIC reads them by gather DMA. A program asks for
 * it with ioctl(ZCOPY_IOC_SENDFILE) on /dev/zcopy, or ZCOPY_IOC_SENDV for
 * memory and file segments in one call; this file receives the request,
 * copies its argument in, checks what only the ABI defines (size, flags,
 * reserved fields) and hands it to xfer.c or sendv.c. Nothing here
 * touches the file or the socket.
 *
 * The fds to use come with each call; the one state kept per open is the
 * queue of completion notices (notify.c), which read(2) and poll(2)
 * serve. The misc device's file_operations carry .owner = THIS_MODULE,
 * so the module cannot be unloaded while /dev/zcopy is open. Skbs still
 * in flight after a plain call hold page references only, no module code
 * or data; those of a notified call also hold the notice, whose
 * completion is module code, so each notice in flight holds a reference
 * on the module too (notify.c): rmmod is refused until they are done.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "zcopy.h"

/**
 * zcopy_put_outputs - write a SENDFILE call's outputs to the caller's struct
 * @uarg: the caller's struct.
 * @args: the call's state: @sent, @zc_bytes, @copied_bytes and @stop are
 *	written from here.
 * @offset: the value to write to @offset.
 *
 * The fields the kernel writes: @offset, @sent through @copied_bytes, and
 * @stop for a caller whose @size covers it (VER1). Inputs (@count,
 * @cookie, @readahead and everything before @offset) are never written
 * back. @offset is in/out: before the send the caller's own value goes
 * back (with %ZCOPY_SEND_OFFSET_PTR the address, which a restarted call
 * reads again), after a successful one the offset reached.
 *
 * Written with one user-access window (user_write_access_begin() and
 * unsafe_put_user()) rather than copy_to_user(): this runs twice per
 * call, and for small files the ioctl's own costs are what zcopy pays
 * over sendfile(2) (copy_to_user() adds a call, the hardened-usercopy
 * check of the kernel object and an access window of its own each time).
 *
 * Return: 0, or -EFAULT if the struct cannot be written.
 */
static int zcopy_put_outputs(struct zcopy_sendfile __user *uarg,
			     const struct zcopy_sendfile *args, s64 offset)
{
	size_t from = offsetof(struct zcopy_sendfile, offset);
	size_t to = offsetofend(struct zcopy_sendfile, copied_bytes);

	if (!user_write_access_begin((char __user *)uarg + from, to - from))
		return -EFAULT;
	unsafe_put_user(offset, &uarg->offset, efault);
	unsafe_put_user(args->sent, &uarg->sent, efault);
	unsafe_put_user(args->zc_bytes, &uarg->zc_bytes, efault);
	unsafe_put_user(args->copied_bytes, &uarg->copied_bytes, efault);
	user_write_access_end();
	if (args->size >= ZCOPY_SENDFILE_SIZE_VER1 &&
	    put_user(args->stop, &uarg->stop))
		return -EFAULT;
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

/*
 * Copy in an ioctl argument that starts with its own size (the growth
 * rules of uapi/linux/zcopy.h). The struct grows by appending fields:
 * copy_struct_from_user() zero-fills what an older caller did not pass
 * and fails with -E2BIG if a newer caller set anything this module does
 * not know. A caller built against this very header, the common case,
 * is served by one copy of the whole struct instead of two reads.
 */
static int zcopy_get_arg(void *karg, size_t ksize, const void __user *uarg,
			 u32 size_ver0)
{
	u32 usize;

	if (!copy_from_user(karg, uarg, ksize) && *(u32 *)karg == ksize)
		return 0;
	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < size_ver0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

/*
 * SENDFILE's argument from a caller built against this header: its input
 * fields read in one user-access window, field by field. This is the
 * small-file hot path: in the benchmark's profile at 4 KiB, the copy-in
 * (a size read, then a 72-byte copy through the out-of-line copy
 * routine) was one of the ioctl's own costs that sendfile(2), which takes
 * its arguments in registers, does not pay. Any other size, or a fault,
 * goes through zcopy_get_arg(), which gives the precise errno.
 */
static bool zcopy_get_sendfile_fast(struct zcopy_sendfile *a,
				    const struct zcopy_sendfile __user *u)
{
	if (!user_read_access_begin(u, sizeof(*u)))
		return false;
	unsafe_get_user(a->size, &u->size, fault);
	if (a->size != sizeof(*u))
		goto fault;
	unsafe_get_user(a->flags, &u->flags, fault);
	unsafe_get_user(a->in_fd, &u->in_fd, fault);
	unsafe_get_user(a->out_fd, &u->out_fd, fault);
	unsafe_get_user(a->offset, &u->offset, fault);
	unsafe_get_user(a->count, &u->count, fault);
	unsafe_get_user(a->cookie, &u->cookie, fault);
	unsafe_get_user(a->readahead, &u->readahead, fault);
	unsafe_get_user(a->pad, &u->pad, fault);
	user_read_access_end();
	return true;
fault:
	user_read_access_end();
	return false;
}

/*
 * A call that failed on its argument, before any descriptor was looked
 * up: counted in the caller's namespace. Out of line and cold, so that
 * the ioctl's own path stays small enough to be inlined into
 * zcopy_ioctl().
 */
static noinline __cold long zcopy_call_refused(struct zcopy_call *call, long err)
{
	zcopy_call_end(call, NULL, err);
	return err;
}

static long zcopy_ioctl_sendfile(struct zcopy_file *zf,
				 struct zcopy_sendfile __user *uarg)
{
	struct zcopy_sendfile args __uninitialized;	/* all set before use */
	struct zcopy_call call __uninitialized;		/* zcopy_call_begin() */
	loff_t __user *uoff = NULL;	/* ZCOPY_SEND_OFFSET_PTR's pointer */
	s64 uoffset;			/* @offset as the caller passed it */
	ssize_t ret;

	if (!zcopy_get_sendfile_fast(&args, uarg)) {
		ret = zcopy_get_arg(&args, sizeof(args), uarg,
				    ZCOPY_SENDFILE_SIZE_VER0);
		if (ret) {
			zcopy_call_begin(&call, _IOC_NR(ZCOPY_IOC_SENDFILE), 0);
			return zcopy_call_refused(&call, ret);
		}
	}
	zcopy_call_begin(&call, _IOC_NR(ZCOPY_IOC_SENDFILE), args.flags);
	call.requested = args.count;
	uoffset = args.offset;
	/*
	 * The offset's own pointer is read first, before any other check,
	 * as sendfile(2) reads it before looking at a descriptor: a library
	 * that falls back on an EINVAL from an older module (libzcopy) then
	 * never gets one from this module before a bad pointer's EFAULT.
	 */
	if (unlikely(args.flags & ZCOPY_SEND_OFFSET_PTR)) {
		if (!(args.flags & ZCOPY_SEND_OFFSET))
			return zcopy_call_refused(&call, -EINVAL);
		uoff = u64_to_user_ptr((u64)args.offset);
		if (get_user(args.offset, uoff))
			return zcopy_call_refused(&call, -EFAULT);
	}
	if (args.flags & ~ZCOPY_SEND_ALL_FLAGS)
		return zcopy_call_refused(&call, -EINVAL);
	/* A cookie only with ZCOPY_SEND_NOTIFY. */
	if ((args.cookie && !(args.flags & ZCOPY_SEND_NOTIFY)) || args.pad)
		return zcopy_call_refused(&call, -EINVAL);

	/*
	 * Outputs: whatever the caller left there is not ours to add to.
	 * They are written now, before anything is sent, and again after:
	 * a caller whose struct cannot be written learns it from EFAULT
	 * with nothing sent, never after bytes left (sendfile(2) reports
	 * no failure after progress either). @offset keeps the caller's
	 * value unless the call succeeds: a signal with nothing sent
	 * (-ERESTARTSYS) makes the kernel run the very same ioctl again
	 * under SA_RESTART, or when another thread took the signal, and a
	 * library may retry a failed call (libzcopy's zc_ioctl()); either
	 * must find the argument as it was, the offset's address included.
	 * A failure leaves the offset unmoved: what the caller passed says
	 * it, or with %ZCOPY_SEND_OFFSET_PTR the write-back below.
	 */
	args.sent = 0;
	args.zc_bytes = 0;
	args.copied_bytes = 0;
	args.stop = ZCOPY_STOP_ERROR;
	if (zcopy_put_outputs(uarg, &args, uoffset))
		return zcopy_call_refused(&call, -EFAULT);
	ret = zcopy_do_sendfile(&args, &call, zf);
	if (ret < 0) {
		/* Why nothing was sent: EBUSY is the disk's (NODISKIO). */
		if (args.size >= ZCOPY_SENDFILE_SIZE_VER1)
			put_user(args.stop, &uarg->stop);
	} else {
		/*
		 * Only a caller that made its struct read-only meanwhile
		 * (another thread's mprotect()) gets here without its
		 * outputs; the bytes went, and the return value still says
		 * how many.
		 */
		args.sent = ret;
		zcopy_put_outputs(uarg, &args, args.offset);
	}
	/*
	 * sendfile(2)'s write-back, after success and failure alike, and its
	 * answer when the pointer cannot be written: EFAULT, whatever went.
	 * The struct's @offset and @sent still tell how far the file went.
	 */
	if (unlikely(uoff) && put_user(args.offset, uoff))
		return -EFAULT;
	return ret;
}

/* The fields SENDV writes: @sent through @copied_bytes, the same way. */
static int zcopy_put_sendv_outputs(struct zcopy_sendv __user *uarg,
				   const struct zcopy_sendv *args)
{
	size_t from = offsetof(struct zcopy_sendv, sent);
	size_t to = offsetofend(struct zcopy_sendv, copied_bytes);

	if (!user_write_access_begin((char __user *)uarg + from, to - from))
		return -EFAULT;
	unsafe_put_user(args->sent, &uarg->sent, efault);
	unsafe_put_user(args->zc_bytes, &uarg->zc_bytes, efault);
	unsafe_put_user(args->copied_bytes, &uarg->copied_bytes, efault);
	user_write_access_end();
	if (args->size >= ZCOPY_SENDV_SIZE_VER1 &&
	    put_user(args->stop, &uarg->stop))
		return -EFAULT;
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

static long zcopy_ioctl_sendv(struct zcopy_file *zf,
			      struct zcopy_sendv __user *uarg)
{
	struct zcopy_sendv args __uninitialized;	/* all set before use */
	struct zcopy_call call __uninitialized;		/* zcopy_call_begin() */
	ssize_t ret;

	ret = zcopy_get_arg(&args, sizeof(args), uarg, ZCOPY_SENDV_SIZE_VER0);
	zcopy_call_begin(&call, _IOC_NR(ZCOPY_IOC_SENDV), ret ? 0 : args.flags);
	if (ret)
		return zcopy_call_refused(&call, ret);
	if (args.flags & ~ZCOPY_SENDV_ALL_FLAGS)
		return zcopy_call_refused(&call, -EINVAL);
	if ((args.cookie && !(args.flags & ZCOPY_SEND_NOTIFY)) || args.pad)
		return zcopy_call_refused(&call, -EINVAL);

	/* Outputs written before anything is sent, as for SENDFILE. */
	args.sent = 0;
	args.zc_bytes = 0;
	args.copied_bytes = 0;
	args.stop = ZCOPY_STOP_ERROR;
	if (zcopy_put_sendv_outputs(uarg, &args))
		return zcopy_call_refused(&call, -EFAULT);
	ret = zcopy_do_sendv(&args, &call, zf);
	if (ret < 0 && args.size >= ZCOPY_SENDV_SIZE_VER1)
		put_user(args.stop, &uarg->stop);
	if (ret <= 0)
		return ret;
	args.sent = ret;
	zcopy_put_sendv_outputs(uarg, &args);
	return ret;
}

/*
 * The size bits of the command are ignored: the struct's own size field
 * says which version the caller speaks, so a caller built against a
 * longer struct still reaches this handler and gets a precise answer.
 */
static long zcopy_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (_IOC_TYPE(cmd) != ZCOPY_IOC_MAGIC)
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(ZCOPY_IOC_SENDFILE):
		if (_IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
			return -ENOTTY;
		return zcopy_ioctl_sendfile(file->private_data,
					    (void __user *)arg);
	case _IOC_NR(ZCOPY_IOC_SENDV):
		if (_IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
			return -ENOTTY;
		return zcopy_ioctl_sendv(file->private_data,
					 (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int zcopy_open(struct inode *inode, struct file *file)
{
	file->private_data = zcopy_file_alloc();
	if (!file->private_data)
		return -ENOMEM;
	return nonseekable_open(inode, file);
}

static int zcopy_release(struct inode *inode, struct file *file)
{
	zcopy_file_release(file->private_data);
	return 0;
}

/* Completion notices: whole struct zcopy_notice records (notify.c). */
static ssize_t zcopy_read(struct file *file, char __user *buf, size_t len,
			  loff_t *ppos)
{
	return zcopy_notices_read(file->private_data, buf, len,
				  file->f_flags & O_NONBLOCK);
}

static __poll_t zcopy_poll(struct file *file, poll_table *wait)
{
	return zcopy_notices_poll(file->private_data, file, wait);
}

static const struct file_operations zcopy_fops = {
	.owner		= THIS_MODULE,
	.open		= zcopy_open,
	.release	= zcopy_release,
	.read		= zcopy_read,
	.poll		= zcopy_poll,
	.unlocked_ioctl	= zcopy_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice zcopy_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= ZCOPY_DEVICE_NAME,
	.fops	= &zcopy_fops,
	.mode	= 0666,
};

/*
 * Order: the per-namespace state first, then the netlink family that
 * reads it, then the device whose calls write it; undone in reverse.
 */
static int __init zcopy_init(void)
{
	int ret;

	ret = zcopy_stats_init();
	if (ret)
		return ret;
	ret = zcopy_ra_init();
	if (ret)
		goto err_stats;
	ret = zcopy_genl_init();
	if (ret)
		goto err_ra;
	ret = misc_register(&zcopy_misc);
	if (ret)
		goto err_genl;
	pr_info("zcopy %s: /dev/%s ready, pages leave by %s\n", ZCOPY_VERSION,
		ZCOPY_DEVICE_NAME, zcopy_send_mechanism);
	return 0;

err_genl:
	zcopy_genl_exit();
err_ra:
	zcopy_ra_exit();
err_stats:
	zcopy_stats_exit();
	return ret;
}

static void __exit zcopy_exit(void)
{
	misc_deregister(&zcopy_misc);
	zcopy_notify_exit();
	zcopy_genl_exit();
	zcopy_ra_exit();
	zcopy_stats_exit();
}

module_init(zcopy_init);
module_exit(zcopy_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Zero-copy file-to-socket transfer from the page cache");
MODULE_VERSION(ZCOPY_VERSION);
MODULE_AUTHOR("The zcopy authors");
