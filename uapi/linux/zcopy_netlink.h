/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcopy user ABI: the "zcopy" generic netlink family, for statistics and
 * events. The ioctl ABI is in <linux/zcopy.h>; uapi/zcopy.yaml describes
 * this family in the kernel's YNL spec language, and tests/host.sh checks
 * that every value below is the one the spec gives.
 *
 * Resolve the family and its multicast group by name through the
 * generic netlink controller (CTRL_CMD_GETFAMILY), as ethtool does.
 *
 * The family works per network namespace: a request reads or changes the
 * counters of the namespace of the netlink socket it arrives on, and an
 * event goes to listeners in the namespace of the socket the transfer was
 * sent on. A transfer that failed before its socket was known (a bad
 * descriptor) counts in the calling task's namespace.
 *
 * Growth rules, as for the ioctl structs:
 *  - command, attribute and group numbers are never reused or renumbered;
 *    new ones are appended before the __ZCOPY_*_MAX markers;
 *  - a reply may carry attributes a reader does not know: skip them (a
 *    newer module has more counters);
 *  - a request is validated strictly: an attribute a command does not
 *    take, of the wrong length, out of its range, or unknown to this
 *    module, is refused with EINVAL (or ERANGE) and an extended ACK
 *    message naming it, so a caller learns that the module is too old.
 */
#ifndef _UAPI_LINUX_ZCOPY_NETLINK_H
#define _UAPI_LINUX_ZCOPY_NETLINK_H

#define ZCOPY_GENL_NAME		"zcopy"
#define ZCOPY_GENL_VERSION	1

/*
 * The multicast group of events: one ZCOPY_CMD_EVENT per finished
 * SENDFILE or SENDV call that began while someone listened. Joining it
 * needs CAP_NET_ADMIN in the user namespace that owns the network
 * namespace: events name other users' processes and the sizes of their
 * transfers, which /proc/PID/io also shows only to their owner.
 */
#define ZCOPY_MCGRP_EVENTS	"events"

/**
 * enum zcopy_nl_cmd - commands of the family
 * @ZCOPY_CMD_UNSPEC: never used.
 * @ZCOPY_CMD_STATS_GET: do; request: no attributes. Reply: the same
 *	command with the namespace's counters, attribute set
 *	%ZCOPY_A_STATS_*. Open to every user.
 * @ZCOPY_CMD_STATS_RESET: do; request: no attributes. Sets every counter
 *	to zero but %ZCOPY_A_STATS_IN_FLIGHT, which is a level, not a count.
 *	Needs CAP_NET_ADMIN in the namespace's user namespace (EPERM).
 * @ZCOPY_CMD_EVENT: notification on the "events" group, attribute set
 *	%ZCOPY_A_EVENT_*. Never accepted as a request.
 * @ZCOPY_CMD_CONFIG_GET: do; request: no attributes. Reply: the
 *	namespace's settings, attribute set %ZCOPY_A_CONFIG_*.
 * @ZCOPY_CMD_CONFIG_SET: do; request: any of the %ZCOPY_A_CONFIG_*
 *	attributes; those absent are left as they are. Needs CAP_NET_ADMIN
 *	in the namespace's user namespace.
 */
enum zcopy_nl_cmd {
	ZCOPY_CMD_UNSPEC,
	ZCOPY_CMD_STATS_GET,
	ZCOPY_CMD_STATS_RESET,
	ZCOPY_CMD_EVENT,
	ZCOPY_CMD_CONFIG_GET,
	ZCOPY_CMD_CONFIG_SET,

	__ZCOPY_CMD_MAX,
	ZCOPY_CMD_MAX = (__ZCOPY_CMD_MAX - 1)
};

/**
 * enum zcopy_stats_attr - counters of one network namespace
 *
 * Every counter is a u64 (NLA_U64, 64-bit aligned with
 * %ZCOPY_A_STATS_PAD), counted since the module was loaded, the
 * namespace was created, or the last %ZCOPY_CMD_STATS_RESET. "A call" is
 * one ZCOPY_IOC_SENDFILE or ZCOPY_IOC_SENDV ioctl; other ioctls are not
 * counted.
 *
 * @ZCOPY_A_STATS_UNSPEC: never used.
 * @ZCOPY_A_STATS_PAD: alignment padding, to skip.
 * @ZCOPY_A_STATS_CALLS_SENDFILE: ZCOPY_IOC_SENDFILE calls.
 * @ZCOPY_A_STATS_CALLS_SENDV: ZCOPY_IOC_SENDV calls.
 * @ZCOPY_A_STATS_CALLS_FAILED: calls that returned an error (their
 *	errnos: %ZCOPY_A_STATS_ERROR).
 * @ZCOPY_A_STATS_BYTES_SENT: bytes the sockets accepted: the sum of the
 *	calls' return values. Always the sum of the five below.
 * @ZCOPY_A_STATS_BYTES_ZC: bytes lent to the socket by reference: page
 *	cache pages attached to skbs, never copied by the CPU on the way.
 * @ZCOPY_A_STATS_BYTES_COPIED_MEMORY: bytes of SENDV memory segments:
 *	copied from the caller's memory, as write(2) copies them.
 * @ZCOPY_A_STATS_BYTES_COPIED_NO_CACHE: bytes of files whose read makes a
 *	copy: files without a page cache of their own (procfs, sysfs, ...)
 *	or opened O_DIRECT.
 * @ZCOPY_A_STATS_BYTES_COPIED_ULP: page-cache bytes a socket's upper
 *	layer protocol (kTLS) copied into records of its own.
 * @ZCOPY_A_STATS_BYTES_COPIED_SOCKET: page-cache bytes the socket copied
 *	because it does not take pages: a route without scatter-gather, or
 *	a protocol that always copies (AF_UNIX SEQPACKET, SCTP, ...).
 * @ZCOPY_A_STATS_PAGES_CACHED: pages of tmpfs, ext4, xfs and block
 *	device files that were in the page cache and uptodate when the call
 *	reached them. Pages that readahead brought in ahead of the call (its
 *	own readahead included) count here: they cost the call no wait.
 * @ZCOPY_A_STATS_PAGES_READ: pages of those files that were not: the
 *	call read them in from disk (or swap), or waited for a read in
 *	flight. A cold file read sequentially shows few of these and some
 *	%ZCOPY_A_STATS_READAHEAD_SYNC: readahead reads ahead of the call.
 *	Files read through their own splice read are counted in neither.
 * @ZCOPY_A_STATS_READAHEAD_SYNC: readahead started because a page was
 *	missing (the call waits for it).
 * @ZCOPY_A_STATS_READAHEAD_ASYNC: readahead started ahead of the reader,
 *	at a page marked for it (the call does not wait).
 * @ZCOPY_A_STATS_IN_FLIGHT: calls sending now (a level; not reset).
 * @ZCOPY_A_STATS_EVENTS_SENT: events sent to the "events" group.
 * @ZCOPY_A_STATS_EVENTS_DROPPED: events not sent although someone was
 *	listening: over the namespace's rate (%ZCOPY_A_CONFIG_EVENTS_RATE),
 *	or no memory for the message.
 * @ZCOPY_A_STATS_ERROR: nested, repeated: one per errno that calls
 *	returned, attribute set %ZCOPY_A_ERROR_*, in increasing errno
 *	order; errnos never returned are left out. A call interrupted by a
 *	signal counts as EINTR whether or not the kernel restarted it.
 * @ZCOPY_A_STATS_ERRORS_OTHER: calls that failed with an errno above
 *	the largest the module keeps a counter for (EHWPOISON).
 */
enum zcopy_stats_attr {
	ZCOPY_A_STATS_UNSPEC,
	ZCOPY_A_STATS_PAD,
	ZCOPY_A_STATS_CALLS_SENDFILE,
	ZCOPY_A_STATS_CALLS_SENDV,
	ZCOPY_A_STATS_CALLS_FAILED,
	ZCOPY_A_STATS_BYTES_SENT,
	ZCOPY_A_STATS_BYTES_ZC,
	ZCOPY_A_STATS_BYTES_COPIED_MEMORY,
	ZCOPY_A_STATS_BYTES_COPIED_NO_CACHE,
	ZCOPY_A_STATS_BYTES_COPIED_ULP,
	ZCOPY_A_STATS_BYTES_COPIED_SOCKET,
	ZCOPY_A_STATS_PAGES_CACHED,
	ZCOPY_A_STATS_PAGES_READ,
	ZCOPY_A_STATS_READAHEAD_SYNC,
	ZCOPY_A_STATS_READAHEAD_ASYNC,
	ZCOPY_A_STATS_IN_FLIGHT,
	ZCOPY_A_STATS_EVENTS_SENT,
	ZCOPY_A_STATS_EVENTS_DROPPED,
	ZCOPY_A_STATS_ERROR,
	ZCOPY_A_STATS_ERRORS_OTHER,

	__ZCOPY_A_STATS_MAX,
	ZCOPY_A_STATS_MAX = (__ZCOPY_A_STATS_MAX - 1)
};

/**
 * enum zcopy_error_attr - one entry of %ZCOPY_A_STATS_ERROR
 * @ZCOPY_A_ERROR_UNSPEC: never used.
 * @ZCOPY_A_ERROR_PAD: alignment padding, to skip.
 * @ZCOPY_A_ERROR_ERRNO: u32, the errno (positive: EBADF is 9).
 * @ZCOPY_A_ERROR_COUNT: u64, calls that returned it.
 */
enum zcopy_error_attr {
	ZCOPY_A_ERROR_UNSPEC,
	ZCOPY_A_ERROR_PAD,
	ZCOPY_A_ERROR_ERRNO,
	ZCOPY_A_ERROR_COUNT,

	__ZCOPY_A_ERROR_MAX,
	ZCOPY_A_ERROR_MAX = (__ZCOPY_A_ERROR_MAX - 1)
};

/**
 * enum zcopy_event_attr - one finished call, as %ZCOPY_CMD_EVENT tells it
 * @ZCOPY_A_EVENT_UNSPEC: never used.
 * @ZCOPY_A_EVENT_PAD: alignment padding, to skip.
 * @ZCOPY_A_EVENT_IOCTL: u32, which call: the _IOC_NR() of its ioctl
 *	(1 ZCOPY_IOC_SENDFILE, 2 ZCOPY_IOC_SENDV).
 * @ZCOPY_A_EVENT_PID: u32, the caller's process id (thread group id), as
 *	seen from the caller's own pid namespace.
 * @ZCOPY_A_EVENT_TID: u32, the caller's thread id, likewise.
 * @ZCOPY_A_EVENT_COMM: string, the caller's command name (TASK_COMM_LEN).
 * @ZCOPY_A_EVENT_FLAGS: u32, the call's ZCOPY_SEND_* flags.
 * @ZCOPY_A_EVENT_REQUESTED: u64, bytes asked for: @count of a SENDFILE,
 *	the sum of the segments' lengths of a SENDV.
 * @ZCOPY_A_EVENT_SENT: u64, bytes sent: the call's return value if
 *	positive, else 0.
 * @ZCOPY_A_EVENT_ZC_BYTES: u64, of @SENT, bytes lent by reference.
 * @ZCOPY_A_EVENT_COPIED_BYTES: u64, of @SENT, bytes copied.
 * @ZCOPY_A_EVENT_DURATION_NS: u64, nanoseconds from the call's entry to
 *	its end, on the monotonic clock.
 * @ZCOPY_A_EVENT_ERRNO: u32, the errno the call returned (positive), or
 *	0 if it succeeded (sent bytes, or 0 at end of file).
 * @ZCOPY_A_EVENT_DROPPED: u32, events of this namespace dropped since
 *	the previous event sent, the last %ZCOPY_CMD_STATS_RESET, or the
 *	last time an event found nobody listening
 *	(%ZCOPY_A_STATS_EVENTS_DROPPED counts them all); present only when
 *	not zero.
 */
enum zcopy_event_attr {
	ZCOPY_A_EVENT_UNSPEC,
	ZCOPY_A_EVENT_PAD,
	ZCOPY_A_EVENT_IOCTL,
	ZCOPY_A_EVENT_PID,
	ZCOPY_A_EVENT_TID,
	ZCOPY_A_EVENT_COMM,
	ZCOPY_A_EVENT_FLAGS,
	ZCOPY_A_EVENT_REQUESTED,
	ZCOPY_A_EVENT_SENT,
	ZCOPY_A_EVENT_ZC_BYTES,
	ZCOPY_A_EVENT_COPIED_BYTES,
	ZCOPY_A_EVENT_DURATION_NS,
	ZCOPY_A_EVENT_ERRNO,
	ZCOPY_A_EVENT_DROPPED,

	__ZCOPY_A_EVENT_MAX,
	ZCOPY_A_EVENT_MAX = (__ZCOPY_A_EVENT_MAX - 1)
};

/**
 * enum zcopy_config_attr - settings of one network namespace
 * @ZCOPY_A_CONFIG_UNSPEC: never used.
 * @ZCOPY_A_CONFIG_EVENTS_RATE: u32, events per second the namespace may
 *	send, on average, 1 to 1000000; default 1000. Events over it are
 *	dropped and counted (%ZCOPY_A_STATS_EVENTS_DROPPED), so a flood of
 *	small transfers cannot flood the listeners' sockets or memory.
 * @ZCOPY_A_CONFIG_EVENTS_BURST: u32, events that may be sent at once
 *	above the average rate after a quiet time, 1 to 1000000; default
 *	1000.
 */
enum zcopy_config_attr {
	ZCOPY_A_CONFIG_UNSPEC,
	ZCOPY_A_CONFIG_EVENTS_RATE,
	ZCOPY_A_CONFIG_EVENTS_BURST,

	__ZCOPY_A_CONFIG_MAX,
	ZCOPY_A_CONFIG_MAX = (__ZCOPY_A_CONFIG_MAX - 1)
};

/* Limits and defaults of the settings. */
#define ZCOPY_EVENTS_RATE_MAX		1000000U
#define ZCOPY_EVENTS_BURST_MAX		1000000U
#define ZCOPY_EVENTS_RATE_DEFAULT	1000U
#define ZCOPY_EVENTS_BURST_DEFAULT	1000U

#endif /* _UAPI_LINUX_ZCOPY_NETLINK_H */
