// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - counting what the data path did, per network namespace.
 *
 * Beside the path, not on it: each SENDFILE or SENDV call carries a
 * struct zcopy_call on its stack, which the stages fill as they go (bytes
 * lent or copied and why, pages found or read in, readahead). When the
 * call ends, zcopy_call_end() adds it to the counters of its namespace,
 * emits the zcopy_call tracepoint and, if someone listens, an event
 * (genl.c). This file also holds the events' rate limit.
 *
 * The namespace is the one of the socket sent on: a server in a container
 * is counted in the container's. A call that failed before its socket was
 * known counts in the caller's namespace.
 *
 * Cost on the data path: the counters are per CPU (struct zcopy_counters),
 * added to with this_cpu_add(), one instruction each on x86 and no shared
 * cache line written, a dozen per call. Nothing else happens unless someone
 * listens for events (zcopy_events_wanted(): two words read), and only
 * then is the clock read and the rate limit's lock taken.
 *
 * Lifetime: struct zcopy_net is allocated by the network namespace core
 * for every namespace (pernet_operations with .id and .size) and its
 * per-CPU counters are allocated and freed with it. A call reaches its
 * namespace through the socket it holds, which holds the namespace; the
 * initial namespace's state, which outlives every call, is also kept in
 * zcopy_init_net, so that the common case needs no net_generic() lookup.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/percpu.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "zcopy.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

unsigned int zcopy_net_id __read_mostly;
/* init_net's state: set when it is created, the first of them. */
struct zcopy_net *zcopy_init_net __read_mostly;

/*
 * Whether anyone listens for events, as last seen, and when (jiffies).
 * Netlink keeps the groups' listeners in one bitmap for all namespaces,
 * and asking it on every call cost the benchmark's 4 KiB calls several
 * per cent under QEMU (six more cache lines and pages touched per call).
 * So it is asked at most once per clock tick, by whichever call comes
 * first: in the steady state every call only reads these two words
 * (zcopy_events_wanted()), and they are written only when a tick has
 * passed. A listener that has just joined gets the events of calls that
 * begin a tick later (zc_monitor_open() waits that long before it
 * returns).
 */
unsigned long zcopy_listen_seen;
bool zcopy_listen_cached;

/**
 * zcopy_events_check - ask netlink whether anyone listens for events
 * @now: jiffies, which zcopy_events_wanted() found past the last look.
 *
 * Return: whether a listener is there, as zcopy_events_wanted() will
 * answer until the next tick.
 */
bool zcopy_events_check(unsigned long now)
{
	bool listening = zcopy_genl_listening(current->nsproxy->net_ns);

	WRITE_ONCE(zcopy_listen_cached, listening);
	WRITE_ONCE(zcopy_listen_seen, now);
	return listening;
}

/*
 * Is an event of this call allowed by @zn's rate limit? A generic cell
 * rate algorithm: each event moves a "theoretical arrival time" on by
 * one interval (1 s / rate); an event is allowed while that time is no
 * more than burst - 1 intervals ahead of now. So a quiet namespace may
 * send @ev_burst events at once, and no more than @ev_rate a second on
 * average, with one u64 of state.
 */
static bool zcopy_event_allowed(struct zcopy_net *zn, u64 now)
{
	bool ok;
	u64 tat;

	spin_lock(&zn->ev_lock);
	tat = max(zn->ev_tat, now);
	ok = tat - now <= (u64)(zn->ev_burst - 1) * zn->ev_interval;
	if (ok)
		zn->ev_tat = tat + zn->ev_interval;
	spin_unlock(&zn->ev_lock);
	return ok;
}

/*
 * Send the event of a call that ended with @ret in @net, where someone
 * listens. An event over the rate, or one no listener could take, is
 * counted as dropped, and the next event sent says how many were.
 * Out of line: the common call, with nobody listening, keeps a small
 * zcopy_call_end() (the benchmark's 4 KiB calls pay for every register
 * it saves).
 */
static noinline void zcopy_call_event(struct net *net,
				      struct zcopy_net *zn,
				      const struct zcopy_call *c, long ret)
{
	u64 now = ktime_get_ns();
	u32 dropped;
	int err;

	if (zcopy_event_allowed(zn, now)) {
		dropped = atomic_xchg(&zn->ev_dropped, 0);
		err = zcopy_genl_event(net, c, ret, now, dropped);
		if (!err) {
			this_cpu_inc(zn->pcpu->v[ZCOPY_A_STATS_EVENTS_SENT]);
			return;
		}
		/*
		 * -ESRCH: nobody listens in this namespace (the last listener
		 * left): nobody missed this event, and nobody is left to be
		 * told of the earlier ones.
		 */
		if (err == -ESRCH)
			return;
		atomic_add(dropped, &zn->ev_dropped);
	}
	atomic_inc(&zn->ev_dropped);
	this_cpu_inc(zn->pcpu->v[ZCOPY_A_STATS_EVENTS_DROPPED]);
}

/**
 * zcopy_call_end - a call ends: count it, trace it, tell the listeners
 * @c: the call.
 * @out: the call's output file, still held by the caller, or NULL if
 *	the call failed before it had one.
 * @ret: what the call returns: bytes sent, or a negative errno.
 *
 * Context: process context (an event is allocated with GFP_KERNEL).
 */
void zcopy_call_end(struct zcopy_call *c, struct file *out, long ret)
{
	struct zcopy_counters __percpu *p;
	struct zcopy_net *zn;
	struct net *net;
	u64 copied = 0;
	int i;

	BUILD_BUG_ON(ZCOPY_COPIED_WHY != 4);
	BUILD_BUG_ON(ZCOPY_A_STATS_BYTES_COPIED_NO_CACHE !=
		     ZCOPY_A_STATS_BYTES_COPIED_MEMORY + ZCOPY_COPIED_NO_CACHE ||
		     ZCOPY_A_STATS_BYTES_COPIED_SOCKET !=
		     ZCOPY_A_STATS_BYTES_COPIED_MEMORY + ZCOPY_COPIED_SOCKET);
	if (c->in_flight) {
		/* The socket's: the common case, already looked up. */
		net = c->net;
		zn = c->zn;
		this_cpu_dec(zn->pcpu->v[ZCOPY_A_STATS_IN_FLIGHT]);
	} else {
		struct socket *sock = out ? sock_from_file(out) : NULL;

		net = sock ? sock_net(sock->sk) : current->nsproxy->net_ns;
		zn = zcopy_net(net);
	}
	p = zn->pcpu;
	this_cpu_inc(p->v[c->ioctl_nr == _IOC_NR(ZCOPY_IOC_SENDV) ?
			  ZCOPY_A_STATS_CALLS_SENDV :
			  ZCOPY_A_STATS_CALLS_SENDFILE]);
	if (ret < 0) {
		unsigned int e = zcopy_user_errno(ret);

		this_cpu_inc(p->v[ZCOPY_A_STATS_CALLS_FAILED]);
		if (e < ZCOPY_ERRNO_SLOTS)
			this_cpu_inc(p->err[e]);
		else
			this_cpu_inc(p->v[ZCOPY_A_STATS_ERRORS_OTHER]);
	}
	c->zc_bytes = 0;
	if (ret > 0) {
		/* What was not copied was lent: the data path counts copies. */
		copied = c->copied[0] + c->copied[1] + c->copied[2] +
			 c->copied[3];
		c->zc_bytes = ret - copied;
		this_cpu_add(p->v[ZCOPY_A_STATS_BYTES_SENT], ret);
		this_cpu_add(p->v[ZCOPY_A_STATS_BYTES_ZC], c->zc_bytes);
		for (i = 0; unlikely(copied) && i < ZCOPY_COPIED_WHY; i++)
			this_cpu_add(p->v[ZCOPY_A_STATS_BYTES_COPIED_MEMORY + i],
				     c->copied[i]);
	}
	if (c->pages_cached)
		this_cpu_add(p->v[ZCOPY_A_STATS_PAGES_CACHED], c->pages_cached);
	if (unlikely(c->pages_read | c->ra_sync | c->ra_async)) {
		this_cpu_add(p->v[ZCOPY_A_STATS_PAGES_READ], c->pages_read);
		this_cpu_add(p->v[ZCOPY_A_STATS_READAHEAD_SYNC], c->ra_sync);
		this_cpu_add(p->v[ZCOPY_A_STATS_READAHEAD_ASYNC], c->ra_async);
	}
	trace_zcopy_call(c->ioctl_nr, ret, c->requested, c->zc_bytes, copied,
			 c->pages_cached, c->pages_read);
	if (unlikely(c->start))
		zcopy_call_event(net, zn, c, ret);
}

/**
 * zcopy_stats_sum - the counters of a namespace, summed over the CPUs
 * @zn: the namespace's state.
 * @sum: filled in (overwritten), minus the sums at the last reset.
 *
 * Each CPU's counter is read once: the result is not a snapshot of one
 * instant, but every call counted is counted whole within a few reads.
 *
 * Context: under the generic netlink mutex (@zn->base).
 */
void zcopy_stats_sum(struct zcopy_net *zn, struct zcopy_counters *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct zcopy_counters *p = per_cpu_ptr(zn->pcpu, cpu);

		for (i = 0; i < ARRAY_SIZE(sum->v); i++)
			sum->v[i] += READ_ONCE(p->v[i]);
		for (i = 0; i < ARRAY_SIZE(sum->err); i++)
			sum->err[i] += READ_ONCE(p->err[i]);
	}
	for (i = 0; i < ARRAY_SIZE(sum->v); i++)
		if (i != ZCOPY_A_STATS_IN_FLIGHT)
			sum->v[i] -= zn->base.v[i];
	for (i = 0; i < ARRAY_SIZE(sum->err); i++)
		sum->err[i] -= zn->base.err[i];
	/* Summed while calls come and go: an end may be seen before its start. */
	if ((s64)sum->v[ZCOPY_A_STATS_IN_FLIGHT] < 0)
		sum->v[ZCOPY_A_STATS_IN_FLIGHT] = 0;
}

/**
 * zcopy_stats_reset - report every counter as zero from now on
 * @zn: the namespace's state.
 *
 * The per-CPU counters are never written from here (a remote write would
 * race with the owning CPU's this_cpu_add()): the current sums become the
 * base that zcopy_stats_sum() subtracts. In-flight calls are a level and
 * are not reset. The count of events dropped since the last one sent
 * starts again from zero too.
 *
 * Context: under the generic netlink mutex.
 * Return: 0, or -ENOMEM (nothing reset).
 */
int zcopy_stats_reset(struct zcopy_net *zn)
{
	struct zcopy_counters *now;

	now = kmalloc(sizeof(*now), GFP_KERNEL);
	if (!now)
		return -ENOMEM;
	memset(&zn->base, 0, sizeof(zn->base));
	zcopy_stats_sum(zn, now);
	zn->base = *now;
	atomic_set(&zn->ev_dropped, 0);
	kfree(now);
	return 0;
}

/**
 * zcopy_events_config - set a namespace's event rate limit
 * @zn: the namespace's state.
 * @rate: events per second, 1 to %ZCOPY_EVENTS_RATE_MAX.
 * @burst: events at once, 1 to %ZCOPY_EVENTS_BURST_MAX.
 *
 * The limit starts afresh: a full burst is allowed at once.
 */
void zcopy_events_config(struct zcopy_net *zn, u32 rate, u32 burst)
{
	spin_lock(&zn->ev_lock);
	zn->ev_rate = rate;
	zn->ev_burst = burst;
	zn->ev_interval = div_u64(NSEC_PER_SEC, rate);
	zn->ev_tat = 0;
	spin_unlock(&zn->ev_lock);
}

static int __net_init zcopy_net_init(struct net *net)
{
	struct zcopy_net *zn = net_generic(net, zcopy_net_id);

	zn->pcpu = alloc_percpu(struct zcopy_counters);
	if (!zn->pcpu)
		return -ENOMEM;
	spin_lock_init(&zn->ev_lock);
	atomic_set(&zn->ev_dropped, 0);
	zcopy_events_config(zn, ZCOPY_EVENTS_RATE_DEFAULT,
			    ZCOPY_EVENTS_BURST_DEFAULT);
	if (net_eq(net, &init_net))
		zcopy_init_net = zn;
	return 0;
}

static void __net_exit zcopy_net_exit(struct net *net)
{
	free_percpu(zcopy_net(net)->pcpu);
	if (net_eq(net, &init_net))
		zcopy_init_net = NULL;
}

static struct pernet_operations zcopy_net_ops = {
	.init = zcopy_net_init,
	.exit = zcopy_net_exit,
	.id = &zcopy_net_id,
	.size = sizeof(struct zcopy_net),
};

/**
 * zcopy_stats_init - give every network namespace, now and to come, its
 *	zcopy state
 *
 * Return: 0, or a negative errno.
 */
int zcopy_stats_init(void)
{
	return register_pernet_subsys(&zcopy_net_ops);
}

/** zcopy_stats_exit - free the state of every namespace */
void zcopy_stats_exit(void)
{
	unregister_pernet_subsys(&zcopy_net_ops);
}
