/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcopy.h - what the stages of the zcopy data path hand each other.
 *
 * The path of one page, one stage per file:
 *
 *   dev.c       /dev/zcopy: decodes the ioctl argument from userspace.
 *   xfer.c      sendfile(2)'s checks, then the transfer loop: walk the
 *               segments of a call (one file range for SENDFILE),
 *               filling batches and sending each when it is full.
 *   sendv.c     ZCOPY_IOC_SENDV: a vector of memory and file segments,
 *               each checked as write(2) or sendfile(2) checks it.
 *   pages.c     page cache -> batch: find (or read ahead) the folios of
 *               the next part of the range and take a reference on each
 *               page used, as a bio_vec. Only for the files whose own
 *               read is a page-cache read (zcopy_read_way()).
 *   splice.c    every other file -> batch: the filesystem's own
 *               ->splice_read, as sendfile(2) calls it, its pages
 *               gathered into the same batches.
 *   sendpath.c  batch -> socket: the network stack attaches the pages to
 *               skbs as fragments, taking its own references; the NIC
 *               later reads them by gather DMA.
 *   compat.h    the one place where 6.1 and 6.12 differ.
 *   notify.c    completion notices (ZCOPY_SEND_NOTIFY): a ubuf_info on
 *               the call's skbs, queued as a record on the open file when
 *               the last of them is freed; read(2) and poll(2).
 *
 * Beside the path, watching it (called from it, calling nothing back):
 *
 *   stats.c     per-namespace, per-CPU counters of every call, written at
 *               the call's end; the events' rate limit.
 *   genl.c      the "zcopy" generic netlink family: reads and resets the
 *               counters, multicasts one event per call to listeners.
 *   trace.h     tracepoints: a folio found or read in, a batch sent, a
 *               call's end.
 */
#ifndef _ZCOPY_H
#define _ZCOPY_H

#include <linux/atomic.h>
#include <linux/bvec.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/sizes.h>
#include <linux/poll.h>
#include <linux/refcount.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include <linux/zcopy.h>
#include <linux/zcopy_netlink.h>

#ifndef ZCOPY_VERSION
#error "ZCOPY_VERSION comes from dkms.conf, by Kbuild"
#endif

/*
 * Pages per batch: as many bio_vecs as fit, with struct zcopy_batch's
 * header, in one 8 KiB allocation: 511 pages, just under 2 MiB of file
 * per trip through the socket layer (one sock_sendmsg() on 6.5+, one
 * lock_sock() for TCP on 6.1). sendfile(2) carries 16 pages per trip (one
 * pipe). The size was measured, not guessed: in the benchmark (make bench,
 * 16 and 256 MiB files, TCP over loopback and veth) 64-page batches
 * reached 1.3-1.7x sendfile's throughput on 6.12, 256 pages 1.6-2.1x,
 * 512 and 1024 pages about 1.9-2.3x; past that the socket, not the trip,
 * is the cost. Smaller requests get smaller batches (xfer.c).
 */
#define ZCOPY_BATCH_ALLOC SZ_8K
#define ZCOPY_BATCH_PAGES						\
	((unsigned int)((ZCOPY_BATCH_ALLOC -				\
			 offsetof(struct zcopy_batch, bvec)) /		\
			sizeof(struct bio_vec)))

/*
 * Pages per batch where the batch boundaries are visible, so zcopy cuts
 * its batches where sendfile(2) cuts its pipe (16 pages), and passes the
 * same MSG_MORE flags at the same places (zcopy_sock_is_stream()):
 *  - datagram sockets: MSG_MORE appends to one datagram, and a send that
 *    would make it too large fails whole;
 *  - other record sockets (AF_UNIX SOCK_SEQPACKET, SCTP, raw, RDS): each
 *    send is one record, and a record larger than the socket allows
 *    fails whole (EMSGSIZE): sendfile(2) sends 64 KiB records;
 *  - sockets with a ULP (kTLS): the ULP makes records of its own and
 *    decides, from the flags of each piece, when to close a record and
 *    push it to TCP. On 6.1 a long run of MSG_SENDPAGE_NOTLAST pages
 *    let kTLS wait for send buffer space that only pushing would free (a
 *    hang found by the debug kernel's run); sendfile's pattern does not.
 */
#define ZCOPY_SPLICE_BATCH_PAGES 16

/**
 * struct zcopy_batch - page-cache pages ready to be attached to a socket
 * @max: bio_vecs allocated, and used at most by zcopy_batch_fill();
 *	at most %ZCOPY_BATCH_PAGES.
 * @nr: bio_vecs in use.
 * @len: bytes covered by those bio_vecs.
 * @copy_len: of @len, bytes in pages that are not the file's page cache
 *	but a copy the filesystem made for this read (splice.c): the
 *	socket takes them by reference too, but they count as copied.
 * @bvec: one entry per page: the page, the offset and length within it.
 *
 * Reference rule: every bio_vec owns exactly one reference on the folio
 * of its page, taken by zcopy_batch_fill() and dropped by
 * zcopy_batch_release(). The socket takes references of its own for the
 * pages it attaches, so the batch is released as soon as the send returns.
 */
struct zcopy_batch {
	u16 max;
	u16 nr;
	u32 copy_len;
	size_t len;
	struct bio_vec bvec[] __counted_by(max);
};

/**
 * enum zcopy_read_way - how a file's bytes are found (zcopy_read_way())
 * @ZCOPY_READ_SPLICE: through the filesystem's own ->splice_read, as
 *	sendfile(2) reads it (splice.c). Every file not listed below.
 * @ZCOPY_READ_CACHE: the page cache, walked directly: block devices.
 * @ZCOPY_READ_SHMEM: the page cache with tmpfs's rules for holes,
 *	fallocated folios and swap.
 * @ZCOPY_READ_EXT4: the page cache, after ext4's own entry checks.
 * @ZCOPY_READ_XFS: the page cache, after xfs's entry checks and under
 *	its IOLOCK (the inode's i_rwsem) shared.
 */
enum zcopy_read_way {
	ZCOPY_READ_SPLICE,
	ZCOPY_READ_CACHE,
	ZCOPY_READ_SHMEM,
	ZCOPY_READ_EXT4,
	ZCOPY_READ_XFS,
};

/*
 * A batch small enough for the stack: a small file or a response (header,
 * a few pages, trailer) needs no allocation (zcopy_xfer_batch()). Declared
 * __uninitialized where it lives: Debian's kernels zero every stack
 * variable (CONFIG_INIT_STACK_ALL_ZERO), 272 bytes per call here, and
 * zcopy_batch_init() and the fill write every field that is read.
 */
#define ZCOPY_SMALL_BATCH_PAGES 16

struct zcopy_small_batch {
	union {
		struct zcopy_batch b;
		u8 bytes[struct_size_t(struct zcopy_batch, bvec,
				       ZCOPY_SMALL_BATCH_PAGES)];
	};
};

static inline void zcopy_batch_init(struct zcopy_batch *b, unsigned int max)
{
	b->max = max;
	b->nr = 0;
	b->len = 0;
	b->copy_len = 0;
}

/**
 * struct zcopy_kseg - one segment of a transfer, checked and resolved
 * @file: the file to read, or NULL for the caller's memory.
 * @fd: the reference on @file this segment holds (fdget()), if any; a
 *	segment naming the same descriptor as the one before shares its.
 * @way: zcopy_read_way(@file).
 * @pos: a file segment's offset.
 * @ubuf: a memory segment's bytes, range already checked by access_ok().
 * @len: bytes.
 */
struct zcopy_kseg {
	struct file *file;
	struct fd fd;
	enum zcopy_read_way way;
	union {
		loff_t pos;
		char __user *ubuf;
	};
	size_t len;
};

/**
 * struct zcopy_ra - how a call may read: %ZCOPY_SEND_NODISKIO and the hint
 * @nodiskio: never wait for the disk (pages.c): what is not uptodate in
 *	the cache ends the fill with -EBUSY, after its read was started.
 * @bytes: the caller's readahead hint (@readahead of the ABI), 0 for none.
 */
struct zcopy_ra {
	bool nodiskio;
	u64 bytes;
};

/**
 * enum zcopy_copy_why - why bytes that were sent were copied
 * @ZCOPY_COPIED_MEMORY: a SENDV memory segment (copied in, as write(2)).
 * @ZCOPY_COPIED_NO_CACHE: a file whose read made a copy (splice.c).
 * @ZCOPY_COPIED_ULP: page-cache pages a ULP (kTLS) copied into records.
 * @ZCOPY_COPIED_SOCKET: page-cache pages a socket that takes no pages
 *	copied (no scatter-gather on the route, or such a protocol).
 * @ZCOPY_COPIED_WHY: the number of reasons.
 *
 * Counted by the first copy on the way: a memory segment's bytes on a
 * route without scatter-gather count as memory.
 */
enum zcopy_copy_why {
	ZCOPY_COPIED_MEMORY,
	ZCOPY_COPIED_NO_CACHE,
	ZCOPY_COPIED_ULP,
	ZCOPY_COPIED_SOCKET,
	ZCOPY_COPIED_WHY
};

/**
 * struct zcopy_call - one SENDFILE or SENDV call, as it is counted
 * @start: ktime_get_ns() at the call's entry when someone was listening
 *	for events then, else 0: no clock read, and no event, for nobody.
 * @zn: zcopy's state in @net, once the socket is known (@in_flight).
 * @net: the namespace of the call's socket, once known (no reference:
 *	the socket holds one until zcopy_call_end()).
 * @ioctl_nr: _IOC_NR() of the call's ioctl.
 * @in_flight: counted in %ZCOPY_A_STATS_IN_FLIGHT of @zn; @zn and @net
 *	are set.
 * @flags: the call's ZCOPY_SEND_* flags.
 * @zc_bytes: bytes sent by reference: set by zcopy_call_end(), the bytes
 *	sent less @copied (the data path counts only the copies).
 * @requested: bytes asked for.
 * @copied: bytes sent that were copied, by enum zcopy_copy_why.
 * @pages_cached: page-cache pages found uptodate (pages.c).
 * @pages_read: pages read in, or waited for, by the call.
 * @ra_sync: synchronous readahead requests.
 * @ra_async: asynchronous readahead requests.
 *
 * Lives on the ioctl's stack; written only by the calling task, so it
 * needs no lock. stats.c adds it to the per-CPU counters at the end.
 * @zn and @net are not cleared at the start: only @in_flight says they
 * hold anything, and @zc_bytes is set at the end: the rest is cleared
 * field by field, a few stores.
 */
struct zcopy_call {
	u64 start;
	struct zcopy_net *zn;
	struct net *net;
	u16 ioctl_nr;
	bool in_flight;
	u32 flags;
	u64 zc_bytes;
	u64 requested;
	u64 copied[ZCOPY_COPIED_WHY];
	u32 pages_cached;
	u32 pages_read;
	u32 ra_sync;
	u32 ra_async;
};

/**
 * struct zcopy_xfer - one call's transfer, as it goes
 * @sock: the destination socket.
 * @b: the batch being filled and sent.
 * @msg_flags: MSG_DONTWAIT, MSG_NOSIGNAL, as the call asked.
 * @record: @sock keeps message boundaries (datagrams, SEQPACKET, a ULP
 *	that makes records): batches are cut where sendfile(2) cuts them.
 * @send_more: %ZCOPY_SEND_MORE: the call's last send carries MSG_MORE and
 *	nothing is pushed at its end.
 * @corked: the last send carried MSG_MORE, so the socket may hold a
 *	partial segment or datagram that the end of the call must push.
 * @stopped: the socket took less than it was offered, or failed: nothing
 *	more is sent.
 * @stop_reading: a signal, or end of file seen by a splice read: nothing
 *	more is read, what was read is still sent.
 * @send_err: the socket's errno, if it failed.
 * @read_err: a read's errno (or 0 for end of file).
 * @done: bytes the socket accepted so far.
 * @zc_bytes: of @done, bytes lent by reference.
 * @copied_bytes: of @done, bytes copied.
 * @b_mem: of @b->copy_len, bytes of memory segments.
 * @call: where the call's counters go, or NULL (KUnit).
 * @ubuf: %ZCOPY_SEND_NOTIFY: the call's notice (notify.c), which every
 *	send links to the skbs holding its pages; NULL otherwise.
 * @ra: NODISKIO and the readahead hint, for pages.c.
 * @eof: a file segment ended before its length (end of file).
 */
struct zcopy_xfer {
	struct socket *sock;
	struct zcopy_batch *b;
	struct zcopy_call *call;
	int msg_flags;
	bool record;
	bool send_more;
	bool corked;
	bool stopped;
	bool stop_reading;
	int send_err;
	int read_err;
	size_t done;
	u64 zc_bytes;
	u64 copied_bytes;
	size_t b_mem;
	struct ubuf_info *ubuf;
	struct zcopy_ra ra;
	bool eof;
};

/**
 * struct zcopy_file - the notice state of one open /dev/zcopy
 * @lock: protects the fields below; taken with interrupts off (the
 *	completion runs wherever an skb is freed).
 * @wait: readers and pollers of notices.
 * @ready: notices whose skbs are all freed, oldest first, unread.
 * @nr_ready: notices on @ready (read without @lock by poll).
 * @pending: notices in flight or on @ready: the bound's count.
 * @max: the bound, the notices_max parameter at open.
 * @closed: the file was released: notices completing now are freed.
 * @ref: one for the open file, one per notice not yet freed.
 */
struct zcopy_file {
	spinlock_t lock;	/* see above */
	wait_queue_head_t wait;
	struct list_head ready;
	unsigned int nr_ready;
	unsigned int pending;
	unsigned int max;
	bool closed;
	refcount_t ref;
};

/**
 * struct zcopy_notif - one notified call's notice, in flight then queued
 * @ubuf: linked to every skb holding the call's pages; its @refcnt counts
 *	them, plus one held by the call while it sends.
 * @copied: the kernel reported copying lent pages (zerocopy_success false).
 * @quiet: the call sent nothing: no notice, the notif is just freed.
 * @zf: the open file that made the call (a reference).
 * @node: on @zf->ready.
 * @rec: the record read(2) returns.
 */
struct zcopy_notif {
	struct ubuf_info ubuf;
	bool copied;
	bool quiet;
	struct zcopy_file *zf;
	struct list_head node;
	struct zcopy_notice rec;
};

/*
 * zcopy_page_is_copy - a page the filesystem filled for this read
 * (copy_splice_read(): sysfs, procfs, O_DIRECT), not a page of its page
 * cache nor the shared zero page that stands for a hole.
 */
static inline bool zcopy_page_is_copy(struct page *page)
{
	return !page_folio(page)->mapping && page != ZERO_PAGE(0);
}

/* xfer.c */
ssize_t zcopy_do_sendfile(struct zcopy_sendfile *args,
			  struct zcopy_call *call, struct zcopy_file *zf);
ssize_t zcopy_sendfile_files(struct file *in, struct file *out,
			     struct zcopy_sendfile *args,
			     struct zcopy_call *call, struct zcopy_file *zf);
struct zcopy_batch *zcopy_batch_alloc(unsigned int max);
int zcopy_xfer_batch(struct zcopy_xfer *x, size_t pages,
		     struct zcopy_small_batch *small);
void zcopy_xfer_batch_free(struct zcopy_xfer *x,
			   struct zcopy_small_batch *small);
void zcopy_xfer_init(struct zcopy_xfer *x, struct socket *sock,
		     struct file *out, u32 flags, struct zcopy_call *call);
struct socket *zcopy_check_out(struct file *out);
u32 zcopy_xfer_stop(const struct zcopy_xfer *x, ssize_t ret);
size_t zcopy_kseg_pages(struct zcopy_xfer *x, struct zcopy_kseg *s);
void zcopy_kseg_accessed(struct zcopy_kseg *s);
ssize_t zcopy_xfer_send(struct zcopy_xfer *x, bool more);
bool zcopy_xfer_flush(struct zcopy_xfer *x, bool more);
bool zcopy_xfer_room(struct zcopy_xfer *x);
void zcopy_xfer_segs(struct zcopy_xfer *x, struct zcopy_kseg *segs,
		     unsigned int nr);
ssize_t zcopy_xfer_end(struct zcopy_xfer *x);

/* sendv.c */
ssize_t zcopy_do_sendv(struct zcopy_sendv *args, struct zcopy_call *call,
		       struct zcopy_file *zf);
ssize_t zcopy_sendv_segs(struct file *out, struct zcopy_kseg *segs,
			 unsigned int nr, struct zcopy_sendv *args,
			 struct zcopy_call *call, struct zcopy_file *zf);

/* pages.c */
enum zcopy_read_way zcopy_read_way(struct file *file);
int zcopy_fs_read_begin(struct file *file, enum zcopy_read_way way,
			bool nowait);
int zcopy_ra_init(void);
void zcopy_ra_exit(void);

/**
 * zcopy_read_begin - the filesystem's own checks before a batch is read
 * @file: the file; its read way is not %ZCOPY_READ_SPLICE.
 * @way: zcopy_read_way(@file).
 * @nowait: %ZCOPY_SEND_NODISKIO: take no lock that needs waiting for.
 *
 * Only ext4 and xfs have any (zcopy_fs_read_begin()); inline, so that a
 * tmpfs file or a block device pays nothing for them.
 *
 * Context: process context, may sleep.
 * Return: 0, or the filesystem's errno (-EIO), or -EBUSY (@nowait and a
 * lock is held); nothing is held then.
 */
static inline int zcopy_read_begin(struct file *file, enum zcopy_read_way way,
				   bool nowait)
{
	if (way != ZCOPY_READ_EXT4 && way != ZCOPY_READ_XFS)
		return 0;
	return zcopy_fs_read_begin(file, way, nowait);
}

/**
 * zcopy_read_end - undo zcopy_read_begin()
 * @file: the file.
 * @way: zcopy_read_way(@file).
 */
static inline void zcopy_read_end(struct file *file, enum zcopy_read_way way)
{
	if (way == ZCOPY_READ_XFS)
		inode_unlock_shared(file_inode(file));
}

ssize_t zcopy_batch_fill_ra(struct zcopy_batch *b, struct file *file,
			    enum zcopy_read_way way, loff_t pos, size_t len,
			    struct zcopy_call *call, const struct zcopy_ra *ra);

/* zcopy_batch_fill_ra() blocking, with the file's own readahead only. */
static inline ssize_t zcopy_batch_fill(struct zcopy_batch *b,
				       struct file *file,
				       enum zcopy_read_way way, loff_t pos,
				       size_t len, struct zcopy_call *call)
{
	return zcopy_batch_fill_ra(b, file, way, pos, len, call, NULL);
}

void zcopy_batch_release(struct zcopy_batch *b);

/* splice.c */
size_t zcopy_xfer_splice(struct zcopy_xfer *x, struct file *in, loff_t pos,
			 size_t len, bool more);

/* sendpath.c */
extern const char zcopy_send_mechanism[];
ssize_t zcopy_batch_send(struct socket *sock, struct zcopy_batch *b,
			 int msg_flags);
ssize_t zcopy_batch_send_ubuf(struct socket *sock, struct zcopy_batch *b,
			      int msg_flags, struct ubuf_info *ubuf);
bool zcopy_sock_takes_pages(struct socket *sock);
bool zcopy_sock_has_ulp(struct socket *sock);
bool zcopy_sock_is_stream(struct socket *sock);
void zcopy_sock_push(struct socket *sock);

/* notify.c */
struct zcopy_file *zcopy_file_alloc(void);
void zcopy_file_release(struct zcopy_file *zf);
int zcopy_notif_begin(struct zcopy_xfer *x, struct zcopy_file *zf, u64 cookie);
void zcopy_notif_end(struct zcopy_xfer *x, ssize_t ret);
ssize_t zcopy_notices_read(struct zcopy_file *zf, char __user *buf,
			   size_t len, bool nonblock);
__poll_t zcopy_notices_poll(struct zcopy_file *zf, struct file *file,
			    poll_table *wait);
void zcopy_notify_exit(void);

/* stats.c */

/* Errnos with a counter of their own: 1 to EHWPOISON. */
#define ZCOPY_ERRNO_SLOTS (EHWPOISON + 1)

/**
 * struct zcopy_counters - counters of a namespace, one copy per CPU
 * @v: indexed by ZCOPY_A_STATS_* (slots that are no counter stay 0).
 *	%ZCOPY_A_STATS_IN_FLIGHT goes up on one CPU and may come down on
 *	another: only the sum over CPUs means anything.
 * @err: calls that returned errno N, in @err[N].
 *
 * Each CPU writes only its own copy (this_cpu_add()): no shared cache
 * line is written on the data path. Readers sum the copies.
 */
struct zcopy_counters {
	u64 v[__ZCOPY_A_STATS_MAX];
	u64 err[ZCOPY_ERRNO_SLOTS];
};

/**
 * struct zcopy_net - zcopy's state in one network namespace
 * @pcpu: the counters.
 * @base: the sums at the last reset, subtracted from what is reported;
 *	under the generic netlink mutex (the family is not parallel_ops).
 * @ev_lock: protects the rate limit below.
 * @ev_tat: the rate limit's "theoretical arrival time" (GCRA), in ns.
 * @ev_interval: ns per event at the average rate.
 * @ev_rate: events per second (%ZCOPY_A_CONFIG_EVENTS_RATE).
 * @ev_burst: events at once (%ZCOPY_A_CONFIG_EVENTS_BURST).
 * @ev_dropped: events dropped since the last one sent.
 */
struct zcopy_net {
	struct zcopy_counters __percpu *pcpu;
	struct zcopy_counters base;
	spinlock_t ev_lock;	/* the ev_* fields but ev_dropped */
	u64 ev_tat;
	u64 ev_interval;
	u32 ev_rate;
	u32 ev_burst;
	atomic_t ev_dropped;
};

/*
 * zcopy_user_errno - the errno userspace sees for a call's negative
 * return @err: a call the kernel restarts after a signal handler was
 * still interrupted, and is counted as EINTR.
 */
static inline unsigned int zcopy_user_errno(long err)
{
	if (err == -ERESTARTSYS || err == -ERESTARTNOINTR ||
	    err == -ERESTARTNOHAND || err == -ERESTART_RESTARTBLOCK)
		err = -EINTR;
	return -err;
}

extern unsigned int zcopy_net_id;
extern struct zcopy_net *zcopy_init_net;

/**
 * zcopy_net - zcopy's state in @net
 * @net: a live network namespace.
 *
 * The initial namespace, where most traffic runs, is found by one
 * comparison: its state is kept in zcopy_init_net for the module's
 * lifetime. Any other goes through net_generic(), an RCU-protected read
 * of the namespace's array of per-subsystem pointers (the array may be
 * replaced when a subsystem registers; the state it points to stays).
 *
 * Return: the state, which lives as long as @net.
 */
static inline struct zcopy_net *zcopy_net(const struct net *net)
{
	if (net_eq(net, &init_net))
		return zcopy_init_net;
	return net_generic(net, zcopy_net_id);
}

bool zcopy_events_check(unsigned long now);
extern unsigned long zcopy_listen_seen;
extern bool zcopy_listen_cached;

/*
 * Whether anyone listens for events, as last seen (zcopy_events_check(),
 * at most once per clock tick): in the steady state, two words read.
 */
static inline bool zcopy_events_wanted(void)
{
	unsigned long now = jiffies;

	if (unlikely(now != READ_ONCE(zcopy_listen_seen)))
		return zcopy_events_check(now);
	return READ_ONCE(zcopy_listen_cached);
}

/**
 * zcopy_call_begin - a SENDFILE or SENDV call enters
 * @c: the call's record, on the caller's stack.
 * @ioctl_nr: _IOC_NR() of its ioctl.
 * @flags: its flags, as the caller passed them.
 *
 * The start time is taken, and the call's event will be sent, only if
 * someone listens for events now (zcopy_events_wanted()). Inline, with
 * zcopy_call_started(): each small call passes here, and the two together
 * are a dozen stores and loads, less than a function call's own cost.
 */
static inline void zcopy_call_begin(struct zcopy_call *c,
				    unsigned int ioctl_nr, u32 flags)
{
	c->requested = 0;
	memset(c->copied, 0, sizeof(c->copied));
	c->pages_cached = 0;
	c->pages_read = 0;
	c->ra_sync = 0;
	c->ra_async = 0;
	c->ioctl_nr = ioctl_nr;
	c->flags = flags;
	c->in_flight = false;
	c->start = unlikely(zcopy_events_wanted()) ? ktime_get_ns() : 0;
}

/**
 * zcopy_call_started - the call passed its checks and starts sending
 * @c: the call, or NULL.
 * @sock: its socket, held by the caller until zcopy_call_end().
 *
 * Counts the call in %ZCOPY_A_STATS_IN_FLIGHT of the socket's namespace,
 * which the call's end then reaches without looking it up again.
 */
static inline void zcopy_call_started(struct zcopy_call *c,
				      struct socket *sock)
{
	if (!c)
		return;
	c->net = sock_net(sock->sk);
	c->zn = zcopy_net(c->net);
	c->in_flight = true;
	this_cpu_inc(c->zn->pcpu->v[ZCOPY_A_STATS_IN_FLIGHT]);
}

void zcopy_call_end(struct zcopy_call *c, struct file *out, long ret);
void zcopy_stats_sum(struct zcopy_net *zn, struct zcopy_counters *sum);
int zcopy_stats_reset(struct zcopy_net *zn);
void zcopy_events_config(struct zcopy_net *zn, u32 rate, u32 burst);
int zcopy_stats_init(void);
void zcopy_stats_exit(void);

/* genl.c */
bool zcopy_genl_listening(struct net *net);
int zcopy_genl_event(struct net *net, const struct zcopy_call *c, long ret,
		     u64 now, u32 dropped);
int zcopy_genl_init(void);
void zcopy_genl_exit(void);

#endif /* _ZCOPY_H */
