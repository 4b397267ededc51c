// SPDX-License-Identifier: GPL-2.0
/*
 * genl.c - the "zcopy" generic netlink family: counters and events.
 *
 * The ABI is uapi/linux/zcopy_netlink.h (and its YNL spec, uapi/zcopy.yaml).
 * userspace/lib/zcopy_nl.c speaks it through libmnl; `zcopy stats` and
 * `zcopy monitor` are built on that.
 *
 * Every request is validated by the generic netlink core against the
 * policy of its command before a handler runs, strictly (the family sets
 * no GENL_DONT_VALIDATE_* flag and no resv_start_op): an attribute the
 * command does not take, of the wrong length or out of range, an unknown
 * attribute type, or trailing garbage, is refused with EINVAL (ERANGE)
 * and an extended ACK naming the attribute. Commands that change state
 * carry GENL_UNS_ADMIN_PERM: CAP_NET_ADMIN in the user namespace that
 * owns the network namespace, checked by the core.
 *
 * Locking: the family is not parallel_ops, so its handlers run one at a
 * time under the generic netlink mutex; that is what protects
 * struct zcopy_net's reset base. Events are sent from the data path, in
 * the context of the call that ended, without that mutex.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "compat.h"
#include "zcopy.h"

/* The family's multicast groups, by index. */
enum {
	ZCOPY_MCGRP_EVENTS_IDX,
};

static const struct genl_multicast_group zcopy_mcgrps[] = {
	[ZCOPY_MCGRP_EVENTS_IDX] = {
		.name = ZCOPY_MCGRP_EVENTS,
		/* Events name other users' processes: see the uapi header. */
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

/*
 * Commands that take no attribute: every attribute of the request space
 * is NLA_UNSPEC, which strict validation refuses ("Unsupported
 * attribute"), and a type past the space is "Unknown attribute type". A
 * maxattr of 0 would instead skip the parsing and ignore them.
 */
static const struct nla_policy zcopy_noattr_policy[ZCOPY_A_CONFIG_MAX + 1];

/* Not const: 6.1's struct nla_policy points to a mutable one. */
static struct netlink_range_validation zcopy_rate_range = {
	.min = 1,
	.max = ZCOPY_EVENTS_RATE_MAX,
};

static struct netlink_range_validation zcopy_burst_range = {
	.min = 1,
	.max = ZCOPY_EVENTS_BURST_MAX,
};

static const struct nla_policy zcopy_config_policy[ZCOPY_A_CONFIG_MAX + 1] = {
	[ZCOPY_A_CONFIG_EVENTS_RATE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &zcopy_rate_range),
	[ZCOPY_A_CONFIG_EVENTS_BURST] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &zcopy_burst_range),
};

static struct genl_family zcopy_genl_family;

/* Every handler works on the state of the request's namespace. */
static int zcopy_pre_doit(const struct zc_genl_ops *ops, struct sk_buff *skb,
			  struct genl_info *info)
{
	info->user_ptr[0] = zcopy_net(genl_info_net(info));
	return 0;
}

/* The counters of the stats attribute set, in the order they are put. */
static bool zcopy_stat_is_counter(unsigned int attr)
{
	return attr != ZCOPY_A_STATS_UNSPEC && attr != ZCOPY_A_STATS_PAD &&
	       attr != ZCOPY_A_STATS_ERROR;
}

/* The exact size of a STATS_GET reply's attributes for @sum. */
static size_t zcopy_stats_size(const struct zcopy_counters *sum)
{
	size_t size = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sum->v); i++)
		if (zcopy_stat_is_counter(i))
			size += nla_total_size_64bit(sizeof(u64));
	for (i = 1; i < ARRAY_SIZE(sum->err); i++)
		if (sum->err[i])
			size += nla_total_size(nla_total_size(sizeof(u32)) +
					       nla_total_size_64bit(sizeof(u64)));
	return size;
}

static int zcopy_put_stats(struct sk_buff *msg,
			   const struct zcopy_counters *sum)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sum->v); i++)
		if (zcopy_stat_is_counter(i) &&
		    nla_put_u64_64bit(msg, i, sum->v[i], ZCOPY_A_STATS_PAD))
			return -EMSGSIZE;

	for (i = 1; i < ARRAY_SIZE(sum->err); i++) {
		struct nlattr *nest;

		if (!sum->err[i])
			continue;
		nest = nla_nest_start(msg, ZCOPY_A_STATS_ERROR);
		if (!nest ||
		    nla_put_u32(msg, ZCOPY_A_ERROR_ERRNO, i) ||
		    nla_put_u64_64bit(msg, ZCOPY_A_ERROR_COUNT, sum->err[i],
				      ZCOPY_A_ERROR_PAD))
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
	}
	return 0;
}

static int zcopy_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct zcopy_net *zn = info->user_ptr[0];
	struct zcopy_counters *sum;
	struct sk_buff *msg;
	void *hdr;
	int err = -ENOMEM;

	/* About 1.2 KiB: too much for the stack. */
	sum = kmalloc(sizeof(*sum), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	zcopy_stats_sum(zn, sum);

	msg = genlmsg_new(zcopy_stats_size(sum), GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &zcopy_genl_family, 0,
				ZCOPY_CMD_STATS_GET);
	err = -EMSGSIZE;
	if (!hdr || zcopy_put_stats(msg, sum)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
out:
	kfree(sum);
	return err;
}

static int zcopy_stats_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	return zcopy_stats_reset(info->user_ptr[0]);
}

static int zcopy_config_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct zcopy_net *zn = info->user_ptr[0];
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(2 * nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &zcopy_genl_family, 0,
				ZCOPY_CMD_CONFIG_GET);
	if (!hdr ||
	    nla_put_u32(msg, ZCOPY_A_CONFIG_EVENTS_RATE, zn->ev_rate) ||
	    nla_put_u32(msg, ZCOPY_A_CONFIG_EVENTS_BURST, zn->ev_burst)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int zcopy_config_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct zcopy_net *zn = info->user_ptr[0];
	struct nlattr **a = info->attrs;
	u32 rate = zn->ev_rate, burst = zn->ev_burst;

	/* Ranges were checked by the policy. */
	if (a[ZCOPY_A_CONFIG_EVENTS_RATE])
		rate = nla_get_u32(a[ZCOPY_A_CONFIG_EVENTS_RATE]);
	if (a[ZCOPY_A_CONFIG_EVENTS_BURST])
		burst = nla_get_u32(a[ZCOPY_A_CONFIG_EVENTS_BURST]);
	zcopy_events_config(zn, rate, burst);
	return 0;
}

static const struct genl_ops zcopy_genl_ops[] = {
	{
		.cmd = ZCOPY_CMD_STATS_GET,
		.doit = zcopy_stats_get_doit,
		.policy = zcopy_noattr_policy,
		.maxattr = ZCOPY_A_CONFIG_MAX,
	},
	{
		.cmd = ZCOPY_CMD_STATS_RESET,
		.doit = zcopy_stats_reset_doit,
		.policy = zcopy_noattr_policy,
		.maxattr = ZCOPY_A_CONFIG_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = ZCOPY_CMD_CONFIG_GET,
		.doit = zcopy_config_get_doit,
		.policy = zcopy_noattr_policy,
		.maxattr = ZCOPY_A_CONFIG_MAX,
	},
	{
		.cmd = ZCOPY_CMD_CONFIG_SET,
		.doit = zcopy_config_set_doit,
		.policy = zcopy_config_policy,
		.maxattr = ZCOPY_A_CONFIG_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family zcopy_genl_family __ro_after_init = {
	.name = ZCOPY_GENL_NAME,
	.version = ZCOPY_GENL_VERSION,
	.netnsok = true,
	.pre_doit = zcopy_pre_doit,
	.ops = zcopy_genl_ops,
	.n_ops = ARRAY_SIZE(zcopy_genl_ops),
	.mcgrps = zcopy_mcgrps,
	.n_mcgrps = ARRAY_SIZE(zcopy_mcgrps),
	.module = THIS_MODULE,
};

/**
 * zcopy_genl_listening - may someone listen for events in @net?
 * @net: the namespace an event would go to.
 *
 * Netlink keeps one bitmap of groups with listeners for all namespaces:
 * true means someone, somewhere, listens, and the event is then built
 * and offered to @net's listeners (genlmsg_multicast_netns() returns
 * -ESRCH if there are none). Cheap: a bit test under RCU.
 */
bool zcopy_genl_listening(struct net *net)
{
	return genl_has_listeners(&zcopy_genl_family, net,
				  ZCOPY_MCGRP_EVENTS_IDX);
}

/* The largest event: every attribute present, the comm at its longest. */
static size_t zcopy_event_size(void)
{
	return 6 * nla_total_size(sizeof(u32)) +
	       nla_total_size(TASK_COMM_LEN) +
	       6 * nla_total_size_64bit(sizeof(u64));
}

/**
 * zcopy_genl_event - multicast the event of a call that ended
 * @net: the namespace of the call's socket.
 * @c: the call.
 * @ret: what it returned.
 * @now: ktime_get_ns() at its end.
 * @dropped: events of @net dropped since the last one sent.
 *
 * Context: process context, the calling task's; may sleep.
 * Return: 0 if at least one listener took it; -ESRCH if there was none;
 * -ENOBUFS if a listener's receive buffer was full (that listener's next
 * recv() reports ENOBUFS); -ENOMEM.
 */
int zcopy_genl_event(struct net *net, const struct zcopy_call *c, long ret,
		     u64 now, u32 dropped)
{
	char comm[TASK_COMM_LEN];
	struct sk_buff *msg;
	u64 copied = 0;
	void *hdr;
	int i;

	for (i = 0; i < ZCOPY_COPIED_WHY; i++)
		copied += c->copied[i];
	get_task_comm(comm, current);

	msg = genlmsg_new(zcopy_event_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &zcopy_genl_family, 0, ZCOPY_CMD_EVENT);
	if (!hdr ||
	    nla_put_u32(msg, ZCOPY_A_EVENT_IOCTL, c->ioctl_nr) ||
	    nla_put_u32(msg, ZCOPY_A_EVENT_PID, task_tgid_vnr(current)) ||
	    nla_put_u32(msg, ZCOPY_A_EVENT_TID, task_pid_vnr(current)) ||
	    nla_put_string(msg, ZCOPY_A_EVENT_COMM, comm) ||
	    nla_put_u32(msg, ZCOPY_A_EVENT_FLAGS, c->flags) ||
	    nla_put_u64_64bit(msg, ZCOPY_A_EVENT_REQUESTED, c->requested,
			      ZCOPY_A_EVENT_PAD) ||
	    nla_put_u64_64bit(msg, ZCOPY_A_EVENT_SENT, ret > 0 ? ret : 0,
			      ZCOPY_A_EVENT_PAD) ||
	    nla_put_u64_64bit(msg, ZCOPY_A_EVENT_ZC_BYTES, c->zc_bytes,
			      ZCOPY_A_EVENT_PAD) ||
	    nla_put_u64_64bit(msg, ZCOPY_A_EVENT_COPIED_BYTES, copied,
			      ZCOPY_A_EVENT_PAD) ||
	    (c->start &&
	     nla_put_u64_64bit(msg, ZCOPY_A_EVENT_DURATION_NS, now - c->start,
			       ZCOPY_A_EVENT_PAD)) ||
	    nla_put_u32(msg, ZCOPY_A_EVENT_ERRNO,
			ret < 0 ? zcopy_user_errno(ret) : 0) ||
	    (dropped && nla_put_u32(msg, ZCOPY_A_EVENT_DROPPED, dropped))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_multicast_netns(&zcopy_genl_family, net, msg, 0,
				       ZCOPY_MCGRP_EVENTS_IDX, GFP_KERNEL);
}

/**
 * zcopy_genl_init - register the family
 *
 * Return: 0, or a negative errno.
 */
int zcopy_genl_init(void)
{
	return genl_register_family(&zcopy_genl_family);
}

/**
 * zcopy_genl_exit - unregister the family
 *
 * Waits for running handlers; no event can be in flight, as events are
 * sent by ioctl calls and the device is gone before this runs.
 */
void zcopy_genl_exit(void)
{
	genl_unregister_family(&zcopy_genl_family);
}
