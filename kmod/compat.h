/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every difference between the kernels zcopy supports.
 *
 * zcopy builds from one tree against Debian 12's 6.1 and 6.12 kernels.
 * Everything that differs between them is here, so that the rest of the
 * module reads as if written for one kernel. Where a feature can be seen
 * in the kernel headers, Kbuild probes for it (grep of the header that
 * declares it) and passes -DZC_HAVE_<feature>; version numbers are not
 * used, because distribution kernels backport features and a version
 * check would be wrong for them. The probes in use:
 *
 *   ZC_HAVE_SKB_SPLICE_FROM_ITER  include/linux/skbuff.h declares
 *                                 skb_splice_from_iter(): sendmsg() honours
 *                                 MSG_SPLICE_PAGES (6.5+). Note that 6.1's
 *                                 headers define the MSG_SPLICE_PAGES flag
 *                                 itself with nothing behind it, so the flag
 *                                 is no probe: on 6.1 it silently copies.
 *   ZC_HAVE_FOLIO_BATCH_RELEASE   include/linux/pagevec.h declares
 *                                 __folio_batch_release() (6.5+), which
 *                                 replaced __pagevec_release().
 *   ZC_HAVE_SPLICE_EOF            include/linux/net.h has proto_ops's
 *                                 ->splice_eof (6.5+, and backported to
 *                                 Debian's 6.1).
 *   ZC_HAVE_MIN_FOLIO_ORDER       include/linux/pagemap.h defines
 *                                 mapping_min_folio_order() (6.10+).
 *   ZC_HAVE_GENL_SPLIT_OPS        include/net/genetlink.h's family
 *                                 ->pre_doit takes a struct genl_split_ops
 *                                 (6.2+) rather than a struct genl_ops.
 *   ZC_HAVE_UBUF_INFO_OPS         include/linux/skbuff.h declares struct
 *                                 ubuf_info_ops (6.10+): a ubuf_info's
 *                                 completion is ops->complete, not the
 *                                 ->callback pointer of 6.1.
 */
#ifndef _ZCOPY_COMPAT_H
#define _ZCOPY_COMPAT_H

#include <linux/bvec.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/refcount.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/uio.h>

/*
 * zc_filemap_get_folio - look a folio up in the page cache, NULL on a miss.
 *
 * filemap_get_folio() returns NULL on a miss up to 6.2 and ERR_PTR(-ENOENT)
 * from 6.3. Lookup without FGP_CREAT has no other failure, so both
 * shapes of "not there" become NULL.
 */
static inline struct folio *zc_filemap_get_folio(struct address_space *mapping,
						 pgoff_t index)
{
	struct folio *folio = filemap_get_folio(mapping, index);

	return IS_ERR(folio) ? NULL : folio;
}

/*
 * zc_mapping_min_folio_order - the smallest folio @mapping may hold.
 * Filesystems with blocks larger than a page (6.10+) set it; before that
 * every page-cache folio could be a single page.
 */
static inline unsigned int
zc_mapping_min_folio_order(struct address_space *mapping)
{
#ifdef ZC_HAVE_MIN_FOLIO_ORDER
	return mapping_min_folio_order(mapping);
#else
	return 0;
#endif
}

/*
 * zc_sock_splice_eof - push what MSG_MORE held back (zcopy_sock_push()).
 * Without ->splice_eof the kernel has no exported way to push a TCP
 * socket's partial segment, and its own sendfile(2) leaves it held too.
 */
static inline void zc_sock_splice_eof(struct socket *sock)
{
#ifdef ZC_HAVE_SPLICE_EOF
	if (sock->ops->splice_eof)
		sock->ops->splice_eof(sock);
#endif
}

/*
 * fd_file - the file of a struct fd (from fdget()). 6.12 packs the file
 * pointer and its flags into one word and reads it through this macro;
 * 6.1 has a plain member. The macro is its own probe.
 */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

#ifdef ZC_HAVE_SKB_SPLICE_FROM_ITER

#define ZC_SEND_MECHANISM "sendmsg(MSG_SPLICE_PAGES)"

/* UDP over IPv6 takes spliced pages like IPv4 (ip6_append_data()). */
#define ZC_UDP6_TAKES_PAGES true

/*
 * TCP's MTU probe (tcp_mtu_probe()) builds its skb from the queued ones by
 * taking references on their page fragments (tcp_clone_payload(), 6.5+),
 * without their ubuf_info: a completion notice could then come while the
 * probe still holds the pages. tcp_clone_payload() is static, so no
 * header shows it; it came in the release that brought
 * skb_splice_from_iter(), whose probe stands for it here.
 */
#define ZC_MTU_PROBE_SHARES_FRAGS true

/* kTLS's sendmsg() takes spliced pages as the plaintext of its records. */
#define ZC_TLS_TAKES_PAGES true

/*
 * zc_sock_send_bvec - attach pages to a socket by reference (6.5+).
 *
 * Since 6.5 ->sendpage is gone. sendmsg() with MSG_SPLICE_PAGES takes the
 * pages of an ITER_BVEC iterator by reference (skb_splice_from_iter() calls
 * get_page() and appends each as a fragment) instead of copying from it.
 * The whole batch goes down in one call, so the socket lock is taken once
 * per batch, not once per page. Where the route cannot take fragments
 * (no NETIF_F_SG), the protocol quietly copies instead.
 *
 * Return: bytes queued (possibly short), or a negative errno if none.
 */
static inline int zc_sock_send_bvec(struct socket *sock, struct bio_vec *bvec,
				    unsigned int nr, size_t len, int msg_flags)
{
	struct msghdr msg = { .msg_flags = msg_flags | MSG_SPLICE_PAGES };

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bvec, nr, len);
	return sock_sendmsg(sock, &msg);
}

#else /* !ZC_HAVE_SKB_SPLICE_FROM_ITER: 6.1 */

#include <net/inet_common.h>
#include <net/sock.h>
#include <net/tcp.h>

#define ZC_SEND_MECHANISM "kernel_sendpage(), TCP: tcp_sendpage_locked()"

/* inet6_dgram_ops has no ->sendpage before 6.5: UDP over IPv6 copies. */
#define ZC_UDP6_TAKES_PAGES false

/* 6.1's MTU probe copies the queued bytes (skb_copy_bits()). */
#define ZC_MTU_PROBE_SHARES_FRAGS false

/*
 * kTLS's ->sendpage on 6.1 (tls_sw_sendpage()) can end up waiting for send
 * buffer space with records queued in TCP that nothing pushes, while the
 * peer waits for those records: a hang, seen under the debug kernel when
 * zcopy streamed pages into it (sendfile(2) did not meet it there, by
 * timing). Its ->sendmsg copies the pages into its records and pushes
 * them itself; kTLS encrypts every byte into new buffers anyway, so
 * nothing is lost by giving it the pages that way.
 */
#define ZC_TLS_TAKES_PAGES false

/* MSG_SENDPAGE_NOTLAST on every page but the last of the whole send. */
static inline int zc_sendpage_flags(unsigned int i, unsigned int nr,
				    int msg_flags)
{
	if (i + 1 < nr)
		msg_flags |= MSG_MORE;
	if (msg_flags & MSG_MORE)
		msg_flags |= MSG_SENDPAGE_NOTLAST;
	return msg_flags;
}

/*
 * zc_tcp_send_bvec_locked - a batch of pages to plain TCP, one socket lock
 *
 * kernel_sendpage() on a TCP socket is inet_sendpage(): inet_send_prepare()
 * (records the flow for RPS; TCP needs no autobind), then tcp_sendpage():
 * lock_sock(), tcp_sendpage_locked(), release_sock(). sendfile(2) pays
 * that lock, and the backlog processing of release_sock(), once per page.
 * Here they are paid once per batch, as tcp_sendmsg() pays them once per
 * write. tcp_sendpage_locked() gives up the lock while it waits for send
 * buffer space (sk_stream_wait_memory()), so ACKs queued on the backlog
 * meanwhile are still processed in time.
 *
 * Only for sockets whose protocol is plain TCP (sk_prot->sendpage is
 * tcp_sendpage: no ULP such as kTLS, no BPF sockmap replaced it) and pages
 * that pass sendpage_ok(), as kernel_sendpage() requires; the caller
 * checks both.
 */
static inline int zc_tcp_send_bvec_locked(struct sock *sk,
					  struct bio_vec *bvec,
					  unsigned int nr, int msg_flags)
{
	unsigned int i;
	int sent = 0;
	int ret = 0;

	if (unlikely(inet_send_prepare(sk)))
		return -EAGAIN;
	lock_sock(sk);
	for (i = 0; i < nr; i++) {
		ret = tcp_sendpage_locked(sk, bvec[i].bv_page,
					  bvec[i].bv_offset, bvec[i].bv_len,
					  zc_sendpage_flags(i, nr, msg_flags));
		if (ret <= 0)
			break;
		sent += ret;
		if (ret < bvec[i].bv_len)
			break;
	}
	release_sock(sk);
	return sent ? sent : ret;
}

static inline bool zc_bvec_sendpage_ok(struct bio_vec *bvec, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!sendpage_ok(bvec[i].bv_page))
			return false;
	return true;
}

/*
 * zc_sock_send_bvec - attach pages to a socket by reference (before 6.5).
 *
 * kernel_sendpage() hands one page to the protocol's ->sendpage, which
 * takes a reference and appends it as a fragment (do_tcp_sendpages()).
 * MSG_SENDPAGE_NOTLAST tells TCP that more pages of the same write
 * follow, so it does not push a partial segment after each page; this is
 * what splice does between the buffers of its pipe. kernel_sendpage()
 * falls back to copying for sockets without ->sendpage and for pages
 * that fail sendpage_ok(). Plain TCP takes the whole batch under one
 * socket lock instead: zc_tcp_send_bvec_locked().
 *
 * Return: bytes queued (possibly short), or a negative errno if none.
 */
static inline int zc_sock_send_bvec(struct socket *sock, struct bio_vec *bvec,
				    unsigned int nr, size_t len, int msg_flags)
{
	struct sock *sk = sock->sk;
	unsigned int i;
	int sent = 0;

	if (READ_ONCE(sk->sk_prot)->sendpage == tcp_sendpage &&
	    zc_bvec_sendpage_ok(bvec, nr))
		return zc_tcp_send_bvec_locked(sk, bvec, nr, msg_flags);

	for (i = 0; i < nr; i++) {
		int ret;

		ret = kernel_sendpage(sock, bvec[i].bv_page, bvec[i].bv_offset,
				      bvec[i].bv_len,
				      zc_sendpage_flags(i, nr, msg_flags));
		if (ret <= 0)
			return sent ? sent : ret;
		sent += ret;
		if (ret < bvec[i].bv_len)
			break;
	}
	return sent;
}

#endif /* ZC_HAVE_SKB_SPLICE_FROM_ITER */

/*
 * zc_lru_add_drain - flush this CPU's LRU batches (for the KUnit tests).
 *
 * A folio being added to an LRU list or activated sits for a while in a
 * per-CPU batch that holds a reference on it, so a folio's reference count
 * depends on when that batch was last flushed. The tests compare counts
 * exactly and flush first. lru_add_drain() is not exported; releasing an
 * empty batch calls it, on both kernels, under two names.
 */
static inline void zc_lru_add_drain(void)
{
#ifdef ZC_HAVE_FOLIO_BATCH_RELEASE
	struct folio_batch fbatch;

	folio_batch_init(&fbatch);
	__folio_batch_release(&fbatch);
#else
	struct pagevec pvec;

	pagevec_init(&pvec);
	__pagevec_release(&pvec);
#endif
}

/*
 * zc_genl_ops - the operation a generic netlink family's ->pre_doit and
 * ->post_doit are given. 6.2 split each operation into a "do" and a
 * "dump" half (struct genl_split_ops) and passes the half being run;
 * 6.1 passes the whole struct genl_ops. zcopy declares its operations as
 * struct genl_ops, which both accept, so only this type differs.
 */
#ifdef ZC_HAVE_GENL_SPLIT_OPS
#define zc_genl_ops genl_split_ops
#else
#define zc_genl_ops genl_ops
#endif

/*
 * zc_ubuf_ops, zc_ubuf_init - a ubuf_info (the object MSG_ZEROCOPY and
 * io_uring's SEND_ZC link to skbs) whose completion is @ops->complete.
 *
 * The completion is called for every reference dropped: by each skb that
 * held the ubuf when it is freed (skb_zcopy_clear(), with
 * zerocopy_success false if its fragments were copied instead, as on
 * delivery to a local socket) and by net_zcopy_put(); it decrements
 * @refcnt itself. 6.1 keeps the function in ubuf_info's ->callback; 6.10
 * moved it into a const table, struct ubuf_info_ops, with a ->link_skb
 * that zcopy leaves NULL (TCP then links one ubuf per skb, the default).
 * The ubuf starts with one reference, the caller's. Its flags are
 * MSG_ZEROCOPY's (msg_zerocopy_alloc()), on both kernels:
 * SKBFL_ZEROCOPY_FRAG, the skbs' fragments are shared with someone who
 * may write them (here the page cache); SKBFL_DONT_ORPHAN, an skb_clone()
 * or pskb_copy() shares the ubuf instead of copying the fragments first
 * (skb_orphan_frags()). Without it TCP's transmit clone copied every
 * notified skb (found by the KUnit suite's clone step on 6.12). Local
 * delivery still copies (skb_orphan_frags_rx() ignores the flag).
 */
#ifdef ZC_HAVE_UBUF_INFO_OPS
#define zc_ubuf_ops ubuf_info_ops

static inline void zc_ubuf_init(struct ubuf_info *uarg,
				const struct zc_ubuf_ops *ops)
{
	uarg->ops = ops;
	refcount_set(&uarg->refcnt, 1);
	uarg->flags = SKBFL_ZEROCOPY_FRAG | SKBFL_DONT_ORPHAN;
}
#else
struct zc_ubuf_ops {
	void (*complete)(struct sk_buff *skb, struct ubuf_info *uarg,
			 bool zerocopy_success);
};

static inline void zc_ubuf_init(struct ubuf_info *uarg,
				const struct zc_ubuf_ops *ops)
{
	uarg->callback = ops->complete;
	refcount_set(&uarg->refcnt, 1);
	uarg->flags = SKBFL_ZEROCOPY_FRAG | SKBFL_DONT_ORPHAN;
}
#endif

#endif /* _ZCOPY_COMPAT_H */
