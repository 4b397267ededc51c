/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libzcopy - userspace side of /dev/zcopy.
 *
 * A thin layer: it opens /dev/zcopy once, fills struct zcopy_sendfile and
 * turns the ioctl's result into sendfile(2)'s return convention. It adds
 * no policy: no retry loop, no fallback to sendfile(2) when the module is
 * missing (the caller decides that; errno is then ENOENT or ENODEV).
 */
#ifndef ZCOPY_LIB_H
#define ZCOPY_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/zcopy.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * zc_sendfile() - sendfile(2) from a page-cache file to a socket, zero-copy
 * @out_fd: a socket open for writing (anything else: ENOTSOCK).
 * @in_fd: a regular file open for reading.
 * @offset: as for sendfile(2): NULL to read from and advance the file
 *	position; otherwise read from *offset, advance *offset by the bytes
 *	sent and leave the file position alone. The kernel reads and
 *	writes it, as for sendfile(2): EFAULT if it cannot read it (nothing
 *	sent) or write it back (the bytes went); the library never faults.
 * @count: the most bytes to send (a call sends at most 0x7ffff000).
 *
 * Return: bytes sent (0 at end of file), or -1 with errno set. A short
 * count is not an error, exactly as for sendfile(2).
 */
ssize_t zc_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);

/**
 * zc_sendfile_flags() - zc_sendfile() with flags
 * @flags: ZCOPY_SEND_NOSIGNAL (no SIGPIPE), ZCOPY_SEND_DONTWAIT (do not
 *	block on a full socket), ZCOPY_SEND_MORE (more follows: leave the
 *	last partial segment corked, e.g. a header sent before a file);
 *	other bits give EINVAL.
 */
ssize_t zc_sendfile_flags(int out_fd, int in_fd, off_t *offset, size_t count, unsigned int flags);

/**
 * struct zc_stats - where the bytes of one call went
 * @zc_bytes: bytes the socket took by reference (page-cache pages became
 *	skb fragments; no CPU copy).
 * @copied_bytes: bytes that were copied (route without scatter-gather,
 *	kTLS, a file without page cache); zc_bytes + copied_bytes is the
 *	call's return value.
 * @readahead: in, read only with %ZC_SEND_EXT: the kernel's readahead hint
 *	(bytes to read past the request when the call must read; see
 *	struct zcopy_sendfile's @readahead). 0: the file's own readahead.
 * @stop: out, written only with %ZC_SEND_EXT, on success and on failure:
 *	why the call stopped, ZCOPY_STOP_* (ZCOPY_STOP_DISK: the next page
 *	needs the disk, with %ZCOPY_SEND_NODISKIO).
 * @pad: zero.
 *
 * The first two fields are the struct of libzcopy 0.2.0; the library
 * touches the others only when the caller says, by %ZC_SEND_EXT, that
 * its struct has them, so programs built against 0.2.0 keep working.
 *
 * In one case a successful call's stats read zero (and @stop
 * ZCOPY_STOP_ERROR): the module could not write its struct back after
 * sending (memory short for a page another thread's fork() made
 * shared). The return value, taken from the ioctl's, is right even then.
 */
struct zc_stats {
	uint64_t zc_bytes;
	uint64_t copied_bytes;
	uint64_t readahead;
	uint32_t stop;
	uint32_t pad;
};

/*
 * ZC_SEND_EXT: a library flag (never passed to the kernel): @stats is the
 * whole struct zc_stats above, with @readahead and @stop. A library older
 * than 0.3.0 passes it on and the kernel refuses it: EINVAL.
 */
#define ZC_SEND_EXT 0x80000000U

/**
 * zc_sendfile_ex() - zc_sendfile_flags() that also reports where the bytes went
 * @flags: as zc_sendfile_flags(), and %ZCOPY_SEND_NODISKIO (send only what
 *	the page cache holds; -1 with EBUSY if that is nothing) and
 *	%ZC_SEND_EXT (@stats has @readahead and @stop).
 * @stats: if not NULL, filled on success (zeroed on failure, but for
 *	@readahead and @stop).
 */
ssize_t zc_sendfile_ex(int out_fd, int in_fd, off_t *offset, size_t count, unsigned int flags,
		       struct zc_stats *stats);

/* ---- completion notices -------------------------------------------------- */

/**
 * zc_sendfile_notify() - zc_sendfile_ex() with a completion notice
 * @flags: as for zc_sendfile_flags(); ZCOPY_SEND_NOTIFY is added.
 * @cookie: any value; the call's notice carries it.
 *
 * When every skb holding the pages this call sent has been freed (the
 * data acknowledged, dropped, or the socket closed), one struct
 * zcopy_notice with @cookie becomes readable by zc_notices_read(): from
 * then on the file range may be rewritten without changing what was
 * sent. One notice per call that returned more than 0, none otherwise.
 * TCP sockets only (EOPNOTSUPP); ENOBUFS when the library's descriptor
 * already has notices_max (1024) notices in flight or unread: read some.
 */
ssize_t zc_sendfile_notify(int out_fd, int in_fd, off_t *offset, size_t count, unsigned int flags,
			   uint64_t cookie, struct zc_stats *stats);

/**
 * zc_notices_read() - take up to @nr completion notices, oldest first
 * @notices: room for @nr records.
 * @nr: at least 1.
 *
 * Never blocks: wait for POLLIN on zc_device_fd() (with your sockets, in
 * one poll(2) or epoll set). The notices are those of calls made through
 * the library by any thread of the process.
 *
 * The descriptor is checked to still be the library's before it is read
 * (one fstat(2)): if the program closed it, and maybe opened something
 * else on its number, the notices queued on it are gone; the call says so
 * with EBADF, reads nothing, and the next call opens the device again.
 *
 * Return: notices read (at least 1), or -1 with errno: EAGAIN when none
 * is ready; EBADF when the library's descriptor was closed (above).
 */
ssize_t zc_notices_read(struct zcopy_notice *notices, size_t nr);

/* ---- vectors: a response in one call ------------------------------------ */

/** zc_seg_mem() - a segment of @len bytes at @buf (copied, as by write(2)) */
static inline struct zcopy_seg zc_seg_mem(const void *buf, size_t len)
{
	struct zcopy_seg s = { .type = ZCOPY_SEG_MEM, .len = len };

	s.addr = (uint64_t)(uintptr_t)buf;
	return s;
}

/**
 * zc_seg_file() - a segment of @len bytes of file @fd from @offset (lent by
 * reference from the page cache; the file position is never used or moved)
 */
static inline struct zcopy_seg zc_seg_file(int fd, off_t offset, size_t len)
{
	struct zcopy_seg s = { .type = ZCOPY_SEG_FILE, .fd = fd, .len = len };

	s.offset = offset;
	return s;
}

/**
 * zc_sendv() - send a vector of memory and file segments to a socket
 * (@flags: %ZCOPY_SEND_NOSIGNAL, _DONTWAIT, _MORE, _NODISKIO, and
 * %ZC_SEND_EXT as for zc_sendfile_ex())
 * @out_fd: a socket open for writing.
 * @segs: @nr segments (zc_seg_mem(), zc_seg_file()), sent in order.
 * @nr: 0 to ZCOPY_SENDV_MAX_SEGS (1024).
 * @flags: ZCOPY_SEND_NOSIGNAL, ZCOPY_SEND_DONTWAIT, ZCOPY_SEND_MORE (keep
 *	the socket corked after this call: more of the response follows).
 * @stats: if not NULL, filled on success (zeroed on failure); memory
 *	segments count as copied.
 *
 * One ioctl: the whole vector goes to the socket in full segments, pushed
 * at the end (unless ZCOPY_SEND_MORE). Every segment is checked before
 * anything is sent.
 *
 * Return: bytes sent, or -1 with errno set. Fewer than the vector's total
 * when the socket is non-blocking and filled up, a signal arrived, a
 * memory segment faulted after progress, or a file segment reached end
 * of file early: zc_sendv_advance() then gives the vector to resume with.
 * 0 for an empty vector, or when the first segment is a file at its end.
 */
ssize_t zc_sendv(int out_fd, const struct zcopy_seg *segs, unsigned int nr, unsigned int flags,
		 struct zc_stats *stats);

/**
 * zc_sendv_notify() - zc_sendv() with a completion notice carrying @cookie,
 * as zc_sendfile_notify() (TCP only)
 */
ssize_t zc_sendv_notify(int out_fd, const struct zcopy_seg *segs, unsigned int nr,
			unsigned int flags, uint64_t cookie, struct zc_stats *stats);

/**
 * zc_sendv_advance() - move a vector past the bytes a call sent
 * @segs: in/out: the vector; on return it points at the first segment not
 *	yet wholly sent (segments of length 0 before it skipped too).
 * @nr: in/out: segments in *@segs.
 * @sent: what zc_sendv() returned.
 *
 * The first remaining segment is changed in place (its address or offset
 * moves on by what was sent of it, its length shrinks), so the array must
 * be writable. Resuming with the result sends exactly the bytes not sent.
 *
 * Return: 0, or -1 with errno EINVAL if @sent is more than the vector holds.
 */
int zc_sendv_advance(struct zcopy_seg **segs, unsigned int *nr, size_t sent);

/**
 * zc_send_response() - header, file range and trailer in one call
 * @out_fd: a socket open for writing.
 * @header: @hlen bytes sent first (copied); may be NULL if @hlen is 0.
 * @fd: the file; @len bytes from @offset (its position is not used).
 * @trailer: @tlen bytes sent last; may be NULL if @tlen is 0.
 *
 * zc_sendv() of three segments with ZCOPY_SEND_NOSIGNAL: a closed peer is
 * EPIPE, not SIGPIPE, as servers want. On a blocking socket the return
 * value is @hlen + @len + @tlen unless a signal came or the file is
 * shorter than @offset + @len; resume with zc_sendv()/zc_sendv_advance().
 *
 * Return: bytes sent, or -1 with errno set.
 */
ssize_t zc_send_response(int out_fd, const void *header, size_t hlen, int fd, off_t offset,
			 size_t len, const void *trailer, size_t tlen);

/* ---- statistics and events: the "zcopy" generic netlink family ---------- */

/*
 * These calls speak netlink (through libmnl) to the module's generic
 * netlink family, in the calling thread's network namespace. The family
 * is resolved by name on each open; ENOENT: the module is not loaded.
 * Each call opens a netlink socket of its own and closes it again, so
 * they may be called from any thread; a struct zc_monitor is used by one
 * thread at a time. A reply the library cannot parse is EPROTO.
 */

/* Slots of struct zc_counters. */
#define ZC_COUNTERS_MAX 64
#define ZC_ERRNO_MAX	255

/**
 * struct zc_counters - the counters of one network namespace
 * @have: bit N set if the module reported counter N (a module older than
 *	this header may lack some): value[N] is then meaningful.
 * @value: indexed by ZCOPY_A_STATS_* (<linux/zcopy_netlink.h>), e.g.
 *	value[ZCOPY_A_STATS_BYTES_ZC]. Slots 0, PAD and ERROR stay zero.
 * @errors: indexed by errno: calls that returned it (errors[EBADF]).
 *	Errnos above ZC_ERRNO_MAX are added to
 *	value[ZCOPY_A_STATS_ERRORS_OTHER].
 *
 * Fixed size, whatever the module: a newer module's extra counters land in
 * the spare slots, or are dropped past ZC_COUNTERS_MAX.
 */
struct zc_counters {
	uint64_t have;
	uint64_t value[ZC_COUNTERS_MAX];
	uint64_t errors[ZC_ERRNO_MAX + 1];
};

/**
 * zc_stats_get() - read the counters of this network namespace
 * @c: filled in (zeroed first).
 *
 * Return: 0, or -1 with errno set (ENOENT: the module is not loaded).
 */
int zc_stats_get(struct zc_counters *c);

/**
 * zc_stats_reset() - set this network namespace's counters to zero
 *
 * Return: 0, or -1 with errno set (EPERM without CAP_NET_ADMIN).
 */
int zc_stats_reset(void);

/**
 * zc_stat_name() - the name of counter @attr ("bytes_zc"), or NULL
 * @attr: a ZCOPY_A_STATS_* value; NULL for PAD, ERROR and unknown ones.
 */
const char *zc_stat_name(unsigned int attr);

/**
 * struct zc_config - the settings of one network namespace
 * @events_rate: events per second, on average (ZCOPY_A_CONFIG_EVENTS_RATE).
 * @events_burst: events at once after a quiet time.
 */
struct zc_config {
	uint32_t events_rate;
	uint32_t events_burst;
};

/** zc_config_get() - read the settings. Return: 0, or -1 with errno set. */
int zc_config_get(struct zc_config *cfg);

/**
 * zc_config_set() - change the settings (CAP_NET_ADMIN)
 * @cfg: the new values; a field of 0 is left as it is.
 *
 * Return: 0, or -1 with errno set (EPERM, ERANGE or EINVAL out of range).
 */
int zc_config_set(const struct zc_config *cfg);

/**
 * struct zc_event - one finished call, as the module reports it
 * @ioctl_nr: 1 for ZCOPY_IOC_SENDFILE, 2 for ZCOPY_IOC_SENDV.
 * @pid: the caller's process id, in its own pid namespace.
 * @tid: the caller's thread id.
 * @flags: the call's ZCOPY_SEND_* flags.
 * @err: the errno the call returned, or 0.
 * @dropped: events this namespace dropped since the previous one sent.
 * @comm: the caller's command name, NUL-terminated.
 * @requested: bytes asked for.
 * @sent: bytes sent.
 * @zc_bytes: of @sent, lent by reference.
 * @copied_bytes: of @sent, copied.
 * @duration_ns: how long the call took.
 */
struct zc_event {
	uint32_t ioctl_nr;
	uint32_t pid;
	uint32_t tid;
	uint32_t flags;
	uint32_t err;
	uint32_t dropped;
	char comm[16];
	uint64_t requested;
	uint64_t sent;
	uint64_t zc_bytes;
	uint64_t copied_bytes;
	uint64_t duration_ns;
};

struct zc_monitor;

/**
 * zc_monitor_open() - subscribe to the events of this network namespace
 *
 * Joins the family's "events" multicast group: CAP_NET_ADMIN is needed
 * (EPERM). Events of calls that begin after this returns are delivered:
 * it waits 25 ms after joining for the module to notice the listener.
 *
 * Return: the subscription, or NULL with errno set.
 */
struct zc_monitor *zc_monitor_open(void);

/**
 * zc_monitor_fd() - the subscription's descriptor, for poll()/epoll: it
 * is readable when events are waiting.
 */
int zc_monitor_fd(const struct zc_monitor *m);

/**
 * zc_monitor_read() - receive waiting events
 * @m: the subscription.
 * @cb: called once per event, in order; a non-zero return stops and is
 *	returned.
 * @arg: passed to @cb.
 *
 * Blocks until at least one message arrives unless the descriptor was
 * made non-blocking.
 *
 * Return: the number of events delivered (>= 0), @cb's non-zero value,
 * or -1 with errno set: ENOBUFS when the socket's receive buffer
 * overflowed and events were lost (the subscription stays usable),
 * EAGAIN when non-blocking and nothing is waiting. A positive return
 * does not tell a count from @cb's value: a @cb that stops says so in
 * @arg. Events after the one that stopped, in the same message, are lost.
 */
int zc_monitor_read(struct zc_monitor *m, int (*cb)(const struct zc_event *ev, void *arg),
		    void *arg);

/** zc_monitor_close() - end the subscription and free it (NULL is fine). */
void zc_monitor_close(struct zc_monitor *m);

/**
 * zc_device_fd() - the library's descriptor of /dev/zcopy
 *
 * Opened (O_CLOEXEC) on first use and kept. Returns -1 with errno set if
 * the device cannot be opened (ENOENT: module not loaded).
 *
 * A program that closes or dup2()s over descriptors it did not open
 * does not break the sends: when a send's ioctl fails as on a foreign
 * descriptor (EBADF, ENOTTY, EINVAL), the library checks the number
 * against the device it opened (st_rdev, st_ino); if it names something
 * else now, the library forgets it without closing it (it is the
 * program's), opens the device again and makes the call once more.
 * zc_notices_read() checks the number before every read.
 */
int zc_device_fd(void);

/**
 * zc_close() - close the library's descriptor of /dev/zcopy
 *
 * For programs that close descriptors they did not open (daemons after
 * fork): call this first. The next call opens the device again. A
 * descriptor that is no longer the device is forgotten, not closed.
 */
void zc_close(void);

/** zc_version() - the library's version string. */
const char *zc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ZCOPY_LIB_H */
