// SPDX-License-Identifier: GPL-2.0
/*
 * sendpath.c - stage 3 of the data path: from page references to skbs.
 *
 * Receives a batch of pinned page-cache pages (pages.c) and a socket.
 * Hands the pages to the protocol, which appends each to an skb as a
 * fragment (skb_shinfo(skb)->frags[]: page, offset, size) and takes its
 * own page reference. Nothing is copied: when the skb reaches a NIC with
 * scatter-gather (NETIF_F_SG), the driver maps each fragment for DMA and
 * the NIC gathers the bytes straight from the page cache. The socket's
 * references are dropped when the skb is freed, after the peer
 * acknowledged the data (TCP) or after transmission; until then the page
 * cannot be freed, even if the file is truncated.
 *
 * Why not a pipe: sendfile(2) moves data through an internal pipe of 16
 * slots, splicing the file into it and the pipe into the socket, so each
 * trip carries at most 16 pages and pays two splice steps. Here the batch
 * is the pipe: up to 511 pages (2 MiB), one trip.
 *
 * The mechanism differs by kernel and lives in compat.h:
 *   6.5+  one sendmsg(MSG_SPLICE_PAGES) per batch over an ITER_BVEC iterator;
 *   6.1   one kernel_sendpage() per page, MSG_SENDPAGE_NOTLAST between them.
 * On 6.1 the MSG_SPLICE_PAGES flag compiles but copies (see compat.h);
 * the rewrite-after-send test in tests/guest proves, on each kernel, that
 * the bytes really left by reference.
 */
#include <linux/netdevice.h>
#include <linux/string.h>
#include <net/dst.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "zcopy.h"

const char zcopy_send_mechanism[] = ZC_SEND_MECHANISM;

/**
 * zcopy_sock_has_ulp - a TCP socket with an upper layer protocol over it
 * @sock: the socket.
 *
 * kTLS, for instance; set once, before any data is sent.
 */
bool zcopy_sock_has_ulp(struct socket *sock)
{
	struct sock *sk = sock->sk;

	return (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
	       sk->sk_protocol == IPPROTO_TCP && inet_csk_has_ulp(sk);
}

/*
 * kTLS over the socket: the one ULP that needs its pages by sendmsg() on
 * 6.1 (ZC_TLS_TAKES_PAGES). Others, such as espintcp, take them as TCP
 * does. The ULP is set once, before any data is sent.
 */
static bool zcopy_sock_has_tls(struct socket *sock)
{
	return zcopy_sock_has_ulp(sock) &&
	       !strcmp(inet_csk(sock->sk)->icsk_ulp_ops->name, "tls");
}

/**
 * zcopy_batch_send - give a batch of pages to a socket by reference
 * @sock: the destination socket.
 * @b: pages pinned by zcopy_batch_fill(); still owned by the caller.
 * @msg_flags: MSG_* flags: MSG_MORE when more data of this transfer
 *	follows the batch, MSG_DONTWAIT, MSG_NOSIGNAL.
 *
 * Blocks while the socket's send buffer is full unless MSG_DONTWAIT is
 * set or the socket is non-blocking; a signal or SO_SNDTIMEO ends the
 * wait with a short count or an error, as for write(2).
 *
 * Context: process context, may sleep. Does not consume @b's references.
 * Return: bytes queued (0 < ret <= b->len), or a negative errno if none
 * (-EAGAIN, -EPIPE, -ECONNRESET, -ERESTARTSYS, ...).
 */
ssize_t zcopy_batch_send(struct socket *sock, struct zcopy_batch *b,
			 int msg_flags)
{
	/* See ZC_TLS_TAKES_PAGES: a plain sendmsg() reads from the pages. */
	if (!ZC_TLS_TAKES_PAGES && zcopy_sock_has_tls(sock)) {
		struct msghdr msg = { .msg_flags = msg_flags };

		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, b->bvec, b->nr, b->len);
		return sock_sendmsg(sock, &msg);
	}
	return zc_sock_send_bvec(sock, b->bvec, b->nr, b->len, msg_flags);
}

/**
 * zcopy_batch_send_ubuf - give a batch of pages to TCP, linked to a notice
 * @sock: the destination socket, plain TCP (zcopy_notif_begin()).
 * @b: pages pinned by zcopy_batch_fill(); still owned by the caller.
 * @msg_flags: as for zcopy_batch_send().
 * @ubuf: the call's notice (notify.c).
 *
 * sendmsg(MSG_ZEROCOPY) with @ubuf in msg_ubuf, as io_uring's SEND_ZC
 * sends, over the batch's ITER_BVEC: the same on 6.1 and 6.12. TCP takes
 * a reference on each page (__zerocopy_sg_from_iter()) and links every
 * skb it fills to @ubuf (skb_zerocopy_iter_stream()); it never appends
 * to an skb linked to another ubuf. Where the route cannot take
 * fragments it copies, and links nothing. On 6.12 MSG_ZEROCOPY and
 * MSG_SPLICE_PAGES are alternatives to tcp_sendmsg_locked(): this is the
 * former, with no SO_ZEROCOPY needed as msg_ubuf is given.
 *
 * Context: process context, may sleep. Does not consume @b's references.
 * Return: bytes queued, or a negative errno if none.
 */
ssize_t zcopy_batch_send_ubuf(struct socket *sock, struct zcopy_batch *b,
			      int msg_flags, struct ubuf_info *ubuf)
{
	struct msghdr msg = {
		.msg_flags = msg_flags | MSG_ZEROCOPY,
		.msg_ubuf = ubuf,
	};

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, b->bvec, b->nr, b->len);
	return sock_sendmsg(sock, &msg);
}

/**
 * zcopy_sock_takes_pages - will @sock attach pages as fragments, or copy?
 * @sock: the destination socket.
 *
 * Giving pages to a socket does not oblige it to keep them: each protocol
 * decides, and copies when it cannot use fragments. This asks the same
 * question the protocol asks, at the same moment (just before the send),
 * so that zcopy can report how many bytes really left by reference:
 *  - TCP attaches pages when its route has scatter-gather (sk_route_caps,
 *    checked by tcp_sendmsg_locked() and, on 6.1, tcp_sendpage_locked());
 *    a ULP such as kTLS encrypts into records of its own: a copy;
 *  - UDP attaches them when the device of its cached route has
 *    scatter-gather (ip_append_data(), ip_append_page() on 6.1); a socket
 *    with no cached route yet is counted as copying;
 *  - AF_UNIX stream sockets link the pages into the receiver's skbs.
 * Everything else is counted as copied: a claim of zero-copy must be sure.
 *
 * Context: process context; no lock needed (a snapshot of the route).
 */
bool zcopy_sock_takes_pages(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct dst_entry *dst;
	bool sg;

	if (sk->sk_family == AF_UNIX)
		return sk->sk_type == SOCK_STREAM;
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return false;

	if (sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP)
		return !inet_csk_has_ulp(sk) &&
		       (READ_ONCE(sk->sk_route_caps) & NETIF_F_SG);

	if (sk->sk_type != SOCK_DGRAM || sk->sk_protocol != IPPROTO_UDP)
		return false;
	if (sk->sk_family == AF_INET6 && !ZC_UDP6_TAKES_PAGES)
		return false;
	dst = sk_dst_get(sk);
	sg = dst && (dst->dev->features & NETIF_F_SG);
	dst_release(dst);
	return sg;
}

/**
 * zcopy_sock_is_stream - does @sock carry a byte stream, with no records?
 * @sock: the destination socket.
 *
 * True for TCP and MPTCP without a ULP, and AF_UNIX SOCK_STREAM: there
 * the batch size changes only how fast the bytes go, so batches are as
 * large as %ZCOPY_BATCH_PAGES. Everything else keeps message boundaries
 * where zcopy's batches would put them (datagrams, SEQPACKET, SCTP even
 * in its SOCK_STREAM style, raw sockets, a ULP such as kTLS that makes
 * records from the pieces it is given): those get sendfile(2)'s pipe of
 * %ZCOPY_SPLICE_BATCH_PAGES and its MSG_MORE pattern, so the peer sees
 * the records sendfile(2) would have made.
 *
 * Context: any; reads immutable socket fields and the ULP pointer, which
 * is set once, before data is sent.
 */
bool zcopy_sock_is_stream(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (sock->type != SOCK_STREAM)
		return false;
	if (sk->sk_family == AF_UNIX)
		return true;
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)
		return false;
	if (sk->sk_protocol == IPPROTO_MPTCP)
		return true;
	return sk->sk_protocol == IPPROTO_TCP && !zcopy_sock_has_ulp(sock);
}

/**
 * zcopy_sock_push - send what MSG_MORE left waiting in @sock
 * @sock: the destination socket.
 *
 * A send with MSG_MORE lets TCP hold back a partial segment, and UDP a
 * datagram, for the data announced to follow. When a call ends without
 * it (end of file reached early, a read error, a signal, a full
 * non-blocking socket), what is held must leave now, or the peer waits
 * for bytes the call already reported sent. The protocol's ->splice_eof
 * is the kernel's own answer, made for sendfile(2): TCP pushes unless the
 * user corked the socket (TCP_CORK), UDP sends its pending datagram
 * unless UDP_CORK is set. Protocols without one hold nothing back.
 *
 * Context: process context, may sleep (takes the socket lock).
 */
void zcopy_sock_push(struct socket *sock)
{
	zc_sock_splice_eof(sock);
}
