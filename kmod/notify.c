// SPDX-License-Identifier: GPL-2.0
/*
 * notify.c - completion notices (%ZCOPY_SEND_NOTIFY): tell the caller when
 * the network stack has let go of a call's pages.
 *
 * A notified call gets a struct zcopy_notif, whose first member is a
 * struct ubuf_info: the object MSG_ZEROCOPY and io_uring's SEND_ZC hang
 * on skbs. Its batches go down as sendmsg(MSG_ZEROCOPY) with the ubuf in
 * msg->msg_ubuf over the same ITER_BVEC of page-cache pages (sendpath.c):
 * TCP then attaches the pages as fragments, taking its own page
 * references, and links every skb that holds them to the ubuf. The ubuf
 * counts its holders in @refcnt: the call holds one while it sends, and
 * each skb_shared_info holding the pages one. The kernel keeps that count
 * exact through clones (which share the skb_shared_info), retransmissions
 * and splits (skb_zerocopy_clone(), pskb_expand_head()), and refuses to
 * coalesce an skb with a ubuf into another, so the count reaches zero
 * exactly when the last skb holding the call's pages is freed: the data
 * acknowledged, dropped, or its socket closed. Every drop of a reference
 * calls the ubuf's completion (a callback on 6.1, ops->complete on 6.12,
 * compat.h), which does the decrement itself; the one that reaches zero
 * queues the notice on the call's open file and wakes its readers.
 *
 * An skb delivered to a socket on this host gives up its fragments by
 * copying them (skb_orphan_frags_rx()), reporting zerocopy_success false:
 * the notice then carries %ZCOPY_NOTICE_COPIED.
 *
 * Lifetimes:
 *  - struct zcopy_file lives as long as its open file or its last notif,
 *    whichever is later (@ref): closing the fd with sends in flight frees
 *    the queued notices now and the others as their skbs go.
 *  - Each notif in flight holds a reference on this module, so rmmod is
 *    refused (EBUSY/EWOULDBLOCK) until the completion, module code, has
 *    run for the last one. The completion drops that reference at its
 *    very end inside an RCU read-side section, and the module's exit
 *    waits for a grace period (zcopy_notify_exit()), as vhost-net does for
 *    its ubuf callback.
 *  - The queue is bounded: at most @max notices (the notices_max
 *    parameter when the file was opened) in flight or unread per open
 *    file. A notified call beyond that fails with ENOBUFS before sending:
 *    no memory without bound, and no notice is ever dropped.
 */
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>

#include "compat.h"
#include "zcopy.h"

static unsigned int notices_max = 1024;
module_param(notices_max, uint, 0644);
MODULE_PARM_DESC(notices_max,
		 "notices in flight or unread per open /dev/zcopy (read at open; 1 to 1048576)");

static void zcopy_file_put(struct zcopy_file *zf)
{
	if (refcount_dec_and_test(&zf->ref))
		kfree(zf);
}

/**
 * zcopy_file_alloc - the notice state of a new open file
 *
 * Return: the state, with one reference for the open file, or NULL.
 */
struct zcopy_file *zcopy_file_alloc(void)
{
	struct zcopy_file *zf = kzalloc(sizeof(*zf), GFP_KERNEL_ACCOUNT);

	if (!zf)
		return NULL;
	spin_lock_init(&zf->lock);
	init_waitqueue_head(&zf->wait);
	INIT_LIST_HEAD(&zf->ready);
	zf->max = clamp_t(unsigned int, READ_ONCE(notices_max), 1, SZ_1M);
	refcount_set(&zf->ref, 1);
	return zf;
}

/**
 * zcopy_file_release - the open file is closed
 * @zf: its state.
 *
 * Unread notices are freed now; those in flight are freed, unread, by
 * their completion (@zf->closed), which also frees @zf after the last.
 */
void zcopy_file_release(struct zcopy_file *zf)
{
	struct zcopy_notif *n, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&zf->lock);
	zf->closed = true;
	list_splice_init(&zf->ready, &list);
	zf->pending -= zf->nr_ready;
	WRITE_ONCE(zf->nr_ready, 0);
	spin_unlock_irq(&zf->lock);
	list_for_each_entry_safe(n, tmp, &list, node) {
		kfree(n);
		zcopy_file_put(zf);
	}
	zcopy_file_put(zf);
}

/*
 * The last reference on the ubuf is gone: no skb holds the call's pages
 * any more. Any context (softirq, or with interrupts off): the skb that
 * held the last reference may be freed anywhere.
 */
static void zcopy_notif_done(struct zcopy_notif *n)
{
	struct zcopy_file *zf = n->zf;
	unsigned long flags;
	bool keep;

	/* Until the end: zcopy_notify_exit() waits for it. */
	rcu_read_lock();
	spin_lock_irqsave(&zf->lock, flags);
	keep = !zf->closed && !n->quiet;
	if (keep) {
		if (READ_ONCE(n->copied))
			n->rec.flags |= ZCOPY_NOTICE_COPIED;
		list_add_tail(&n->node, &zf->ready);
		WRITE_ONCE(zf->nr_ready, zf->nr_ready + 1);
		/* Under the lock: a reader may free @zf once it is unlocked. */
		wake_up_interruptible_poll(&zf->wait, EPOLLIN | EPOLLRDNORM);
	} else {
		zf->pending--;
	}
	spin_unlock_irqrestore(&zf->lock, flags);
	if (!keep) {
		kfree(n);
		zcopy_file_put(zf);
	}
	module_put(THIS_MODULE);
	rcu_read_unlock();
}

/*
 * The ubuf's completion: called for every reference dropped, by an skb
 * being freed (skb_zcopy_clear(): @skb set, @success false if its
 * fragments were copied rather than sent, as on local delivery) or by
 * net_zcopy_put() (@skb NULL). It does the decrement itself.
 */
static void zcopy_notif_complete(struct sk_buff *skb, struct ubuf_info *uarg,
				 bool success)
{
	struct zcopy_notif *n = container_of(uarg, struct zcopy_notif, ubuf);

	if (!success)
		WRITE_ONCE(n->copied, true);
	if (refcount_dec_and_test(&uarg->refcnt))
		zcopy_notif_done(n);
}

static const struct zc_ubuf_ops zcopy_notif_ops = {
	.complete = zcopy_notif_complete,
};

/*
 * TCP, IPv4 or IPv6, with no ULP: the one protocol that links msg_ubuf.
 * Where MTU probes take page references without the ubuf
 * (ZC_MTU_PROBE_SHARES_FRAGS), only while MTU probing is off for the
 * socket: net.ipv4.tcp_mtu_probing 0 (the default) and not enabled on
 * the connection. An administrator who turns it on later, while data is
 * queued, can still make a probe outlive a notice (as for MSG_ZEROCOPY).
 */
static bool zcopy_sock_notifies(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if ((sk->sk_family != AF_INET && sk->sk_family != AF_INET6) ||
	    sk->sk_type != SOCK_STREAM || sk->sk_protocol != IPPROTO_TCP ||
	    inet_csk_has_ulp(sk))
		return false;
	if (ZC_MTU_PROBE_SHARES_FRAGS &&
	    (READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_mtu_probing) ||
	     inet_csk(sk)->icsk_mtup.enabled))
		return false;
	return true;
}

/**
 * zcopy_notif_begin - give a transfer a notice to complete
 * @x: the transfer, initialised (zcopy_xfer_init()), its batch not yet
 *	filled.
 * @zf: the open file that made the call (NULL: no file, KUnit: EINVAL).
 * @cookie: the caller's cookie.
 *
 * Context: process context.
 * Return: 0, with @x->ubuf set and holding the call's reference; or
 * -EOPNOTSUPP (not plain TCP, or MTU probing on where probes would share
 * the pages: zcopy_sock_notifies()), -ENOBUFS (@zf has @zf->max notices in
 * flight or unread), -ENOMEM, -EINVAL.
 */
int zcopy_notif_begin(struct zcopy_xfer *x, struct zcopy_file *zf, u64 cookie)
{
	struct zcopy_notif *n;

	if (!zf)
		return -EINVAL;
	if (!zcopy_sock_notifies(x->sock))
		return -EOPNOTSUPP;
	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	spin_lock_irq(&zf->lock);
	if (zf->pending >= zf->max) {
		spin_unlock_irq(&zf->lock);
		kfree(n);
		return -ENOBUFS;
	}
	zf->pending++;
	refcount_inc(&zf->ref);
	spin_unlock_irq(&zf->lock);

	zc_ubuf_init(&n->ubuf, &zcopy_notif_ops);
	n->zf = zf;
	n->rec.size = sizeof(n->rec);
	n->rec.cookie = cookie;
	/* The open file holds the module: this cannot be the first. */
	__module_get(THIS_MODULE);
	x->ubuf = &n->ubuf;
	return 0;
}

/**
 * zcopy_notif_end - the call is over: drop its reference on the notice
 * @x: the transfer, after zcopy_xfer_end().
 * @ret: the call's result. A call that sent nothing gets no notice.
 *
 * If no skb holds the pages (nothing sent, or all of it copied), the
 * notice is queued (or freed) right here.
 */
void zcopy_notif_end(struct zcopy_xfer *x, ssize_t ret)
{
	struct zcopy_notif *n = container_of(x->ubuf, struct zcopy_notif, ubuf);

	n->rec.bytes = ret > 0 ? ret : 0;
	n->rec.zc_bytes = x->zc_bytes;
	n->quiet = ret <= 0;
	x->ubuf = NULL;
	/* Orders the writes above before the completion reads them. */
	net_zcopy_put(&n->ubuf);
}

/* Take up to @max ready notices off the queue, oldest first, into @list. */
static unsigned int zcopy_notices_take(struct zcopy_file *zf,
				       struct list_head *list, size_t max)
{
	struct zcopy_notif *n, *tmp;
	unsigned int nr = 0;

	list_for_each_entry_safe(n, tmp, &zf->ready, node) {
		if (nr == max)
			break;
		list_move_tail(&n->node, list);
		nr++;
	}
	WRITE_ONCE(zf->nr_ready, zf->nr_ready - nr);
	return nr;
}

/**
 * zcopy_notices_read - read(2) of /dev/zcopy: whole notice records
 * @zf: the open file's state.
 * @buf: the reader's buffer.
 * @len: its size; at least one record.
 * @nonblock: fail with -EAGAIN rather than wait.
 *
 * Context: process context, may sleep.
 * Return: bytes read (a multiple of the record size), or -EINVAL,
 * -EAGAIN, -ERESTARTSYS, -EFAULT. Records that could not be copied out
 * go back to the head of the queue.
 */
ssize_t zcopy_notices_read(struct zcopy_file *zf, char __user *buf,
			   size_t len, bool nonblock)
{
	const size_t rsize = sizeof(struct zcopy_notice);
	struct zcopy_notif *n, *tmp;
	unsigned int freed = 0;
	LIST_HEAD(list);
	ssize_t done = 0;
	int ret;

	if (len < rsize)
		return -EINVAL;
	for (;;) {
		spin_lock_irq(&zf->lock);
		if (zcopy_notices_take(zf, &list, len / rsize))
			break;
		spin_unlock_irq(&zf->lock);
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(zf->wait,
					       READ_ONCE(zf->nr_ready));
		if (ret)
			return ret;
	}
	spin_unlock_irq(&zf->lock);

	list_for_each_entry_safe(n, tmp, &list, node) {
		if (copy_to_user(buf + done, &n->rec, rsize))
			break;
		done += rsize;
		list_del(&n->node);
		kfree(n);
		freed++;
	}

	spin_lock_irq(&zf->lock);
	if (!list_empty(&list)) {
		unsigned int back = 0;

		list_for_each_entry(n, &list, node)
			back++;
		list_splice(&list, &zf->ready);
		WRITE_ONCE(zf->nr_ready, zf->nr_ready + back);
	}
	zf->pending -= freed;
	spin_unlock_irq(&zf->lock);
	/* The open file holds @zf: none of these is the last reference. */
	while (freed--)
		zcopy_file_put(zf);
	return done ? done : -EFAULT;
}

/**
 * zcopy_notices_poll - poll(2) of /dev/zcopy: readable while a notice is
 * @zf: the open file's state.
 * @file: the open file.
 * @wait: the poll table.
 */
__poll_t zcopy_notices_poll(struct zcopy_file *zf, struct file *file,
			    poll_table *wait)
{
	poll_wait(file, &zf->wait, wait);
	return READ_ONCE(zf->nr_ready) ? EPOLLIN | EPOLLRDNORM : 0;
}

/*
 * Module exit: the module's reference count is zero, so no notif is in
 * flight; a completion may still be between its module_put() and the end
 * of its RCU read-side section. Wait for it to leave.
 */
void zcopy_notify_exit(void)
{
	synchronize_rcu();
}
