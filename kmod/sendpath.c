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
 * is the pipe: 64 pages, one trip.
 *
 * The mechanism differs by kernel and lives in compat.h:
 *   6.5+  one sendmsg(MSG_SPLICE_PAGES) per batch over an ITER_BVEC iterator;
 *   6.1   one kernel_sendpage() per page, MSG_SENDPAGE_NOTLAST between them.
 * On 6.1 the MSG_SPLICE_PAGES flag compiles but copies (see compat.h);
 * the rewrite-after-send test in tests/guest proves, on each kernel, that
 * the bytes really left by reference.
 */
#include "compat.h"
#include "zcopy.h"

const char zcopy_send_mechanism[] = ZC_SEND_MECHANISM;

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
	return zc_sock_send_bvec(sock, b->bvec, b->nr, b->len, msg_flags);
}
