/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_nlfuzz.c - the "zcopy" generic netlink family against requests it must
 * refuse: a policy table, then a seeded fuzzer.
 *
 * The family is resolved by name through the genetlink controller. Every
 * request is followed by a barrier, an NLMSG_NOOP with NLM_F_ACK, which
 * af_netlink acks itself; its ack closes the answer to the request. So a
 * request the kernel drops without a word (its nlmsg_len is past the end
 * of what was sent) is seen as such, and no answer is waited for in vain:
 * a receive timeout (SO_RCVTIMEO, 5 s) is always a failure.
 *
 * The policy table asserts the exact errno of each malformed request and,
 * where genetlink or the attribute policy sets one, the extended ACK's
 * message (NLMSGERR_ATTR_MSG) and the offset of the bad attribute. What
 * 6.1 and 6.12 do here is the same code (net/netlink/genetlink.c,
 * lib/nlattr.c): the header check, then the command, the capability, and
 * the strict attribute policy, in that order.
 *
 * The fuzzer sends random requests to the family (never to another
 * family: its nlmsg_type is always zcopy's id, so as root it cannot touch
 * another subsystem): random commands, flags, genetlink header, and
 * attribute streams (valid types of wrong lengths, nested garbage with
 * bogus lengths, attributes up to a 64 KiB message, truncated messages,
 * zero-length attributes, NLA_F_NET_BYTEORDER), half of them well-formed
 * enough to reach the command's handler. Each answer must be an
 * NLMSG_ERROR with an allowed errno or a reply that parses; for the
 * well-formed ones the errno is predicted exactly. Three quarters run as
 * root, the rest in a child without CAP_NET_ADMIN (uid 65534) in a network
 * namespace of its own. The kernel side is watched by the debug kernels
 * (KASAN, lockdep, kmemleak), whose reports fail the run from the console
 * log.
 *
 * Environment: ZC_NLFUZZ_SEED (default: the time; printed either way),
 * ZC_NLFUZZ_COUNT (messages, default 20000), ZC_NLFUZZ_SECONDS (a time
 * budget, default 60: a slow kernel sends fewer messages, and says so).
 *
 * The part resets the family's counters and leaves the settings at their
 * defaults.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/zcopy_netlink.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX	  (64 * KiB)	      /* the largest request the fuzzer sends */
#define RX_BUF	  (MSG_MAX + 8 * KiB) /* an error echoes the request */
#define ERRNO_MAX 4096
#define SHOW_MAX  10 /* unexpected answers printed, per process */

static uint16_t family_id;
static uint32_t events_group; /* the "events" multicast group's id */
/*
 * The policy table saw genetlink's header check (genlmsghdr.reserved and
 * nlmsg_flags) on the family's commands: the fuzzer then holds the
 * kernel to it.
 */
static int header_checked;

/* ---- the socket and one exchange ---------------------------------------- */

struct nl {
	struct mnl_socket *sk;
	unsigned int portid;
	uint32_t seq;
};

/* What came back for one request. */
struct answer {
	int acked;	      /* NLMSG_ERRORs for the request: exactly 1 if any */
	int err;	      /* the last one's errno, positive; 0: an ACK */
	int has_msg;	      /* it carried NLMSGERR_ATTR_MSG */
	char msg[128];	      /* ... this one */
	int has_offs;	      /* it carried NLMSGERR_ATTR_OFFS */
	uint32_t offs;	      /* ... this one */
	unsigned int replies; /* other messages with the request's seq */
	char bad[160];	      /* set when something did not parse */
	/* what the replies said */
	uint16_t ctrl_id;
	uint32_t ctrl_group; /* the "events" group's id */
	uint32_t rate, burst;
	unsigned int counters;
};

static unsigned char rx[RX_BUF];

static void nl_open(struct nl *nl, int cap_ack)
{
	struct timeval tv = { .tv_sec = 5 };
	int one = 1, rcvbuf = 1 << 20;

	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk || mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink socket");
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	if (mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &cap_ack, sizeof(cap_ack)) < 0)
		die("NETLINK_EXT_ACK, NETLINK_CAP_ACK");
	if (setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) <
		    0)
		die("SO_RCVTIMEO, SO_RCVBUF");
}

static void bad(struct answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct answer *a, const char *fmt, ...)
{
	va_list ap;

	if (a->bad[0])
		return; /* the first says most */
	va_start(ap, fmt);
	vsnprintf(a->bad, sizeof(a->bad), fmt, ap);
	va_end(ap);
}

static int ack_tlv_cb(const struct nlattr *attr, void *data)
{
	struct answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) {
			bad(a, "NLMSGERR_ATTR_MSG is not a string");
			break;
		}
		a->has_msg = 1;
		snprintf(a->msg, sizeof(a->msg), "%s", mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
			bad(a, "NLMSGERR_ATTR_OFFS is not a u32");
			break;
		}
		a->has_offs = 1;
		a->offs = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/*
 * An NLMSG_ERROR: the errno, then the extended ACK's TLVs, which follow
 * the echoed request unless the kernel capped it (NETLINK_CAP_ACK, or an
 * ACK, which never echoes).
 */
static void parse_error(const struct nlmsghdr *nlh, struct answer *a)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t len = mnl_nlmsg_get_payload_len(nlh), off = sizeof(*e);

	if (len < sizeof(*e)) {
		bad(a, "NLMSG_ERROR of %zu bytes", len);
		return;
	}
	a->acked++;
	a->err = -e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN) {
			bad(a, "NLMSG_ERROR echoes a request of %u bytes", e->msg.nlmsg_len);
			return;
		}
		off += MNL_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	}
	if (off > len) {
		bad(a, "NLMSG_ERROR of %zu bytes echoes %zu", len, off);
		return;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (mnl_attr_parse(nlh, off, ack_tlv_cb, a) < MNL_CB_STOP)
		bad(a, "the extended ACK's TLVs do not parse");
}

/* ZCOPY_A_STATS_ERROR: one errno and its count. */
static int stats_error_cb(const struct nlattr *attr, void *data)
{
	struct answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case ZCOPY_A_ERROR_ERRNO:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			bad(a, "ZCOPY_A_ERROR_ERRNO is not a u32");
		break;
	case ZCOPY_A_ERROR_COUNT:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			bad(a, "ZCOPY_A_ERROR_COUNT is not a u64");
		break;
	}
	return MNL_CB_OK;
}

/* A STATS_GET reply: every counter a u64; unknown attributes are skipped. */
static int stats_cb(const struct nlattr *attr, void *data)
{
	struct answer *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == ZCOPY_A_STATS_ERROR) {
		if (mnl_attr_parse_nested(attr, stats_error_cb, a) < MNL_CB_STOP)
			bad(a, "a ZCOPY_A_STATS_ERROR does not parse");
	} else if (type > ZCOPY_A_STATS_PAD && type <= ZCOPY_A_STATS_MAX) {
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			bad(a, "counter %u is %u bytes, not a u64", type,
			    mnl_attr_get_payload_len(attr));
		a->counters++;
	}
	return MNL_CB_OK;
}

static int config_cb(const struct nlattr *attr, void *data)
{
	struct answer *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type != ZCOPY_A_CONFIG_EVENTS_RATE && type != ZCOPY_A_CONFIG_EVENTS_BURST)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
		bad(a, "setting %u is not a u32", type);
		return MNL_CB_OK;
	}
	*(type == ZCOPY_A_CONFIG_EVENTS_RATE ? &a->rate : &a->burst) = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

/* One entry of CTRL_ATTR_MCAST_GROUPS: a name and an id. */
static int ctrl_group_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == CTRL_ATTR_MCAST_GRP_NAME || type == CTRL_ATTR_MCAST_GRP_ID)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int ctrl_groups_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { NULL };
	struct answer *a = data;

	mnl_attr_parse_nested(attr, ctrl_group_cb, tb);
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_NAME], MNL_TYPE_NUL_STRING) >= 0 &&
	    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_ID], MNL_TYPE_U32) >= 0 &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]), ZCOPY_MCGRP_EVENTS))
		a->ctrl_group = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int ctrl_cb(const struct nlattr *attr, void *data)
{
	struct answer *a = data;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
			a->ctrl_id = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		mnl_attr_parse_nested(attr, ctrl_groups_cb, a);
		break;
	}
	return MNL_CB_OK;
}

/* A message of the family (or the controller) answering command @cmd. */
static void parse_reply(const struct nlmsghdr *nlh, uint8_t cmd, struct answer *a)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	mnl_attr_cb_t cb = NULL;

	a->replies++;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g)) {
		bad(a, "a reply of %zu bytes", mnl_nlmsg_get_payload_len(nlh));
		return;
	}
	if (nlh->nlmsg_type == GENL_ID_CTRL && g->cmd == CTRL_CMD_NEWFAMILY)
		cb = ctrl_cb;
	else if (nlh->nlmsg_type != family_id || g->cmd != cmd)
		bad(a, "a reply of type %u, command %u, to command %u", nlh->nlmsg_type, g->cmd,
		    cmd);
	else if (cmd == ZCOPY_CMD_STATS_GET)
		cb = stats_cb;
	else if (cmd == ZCOPY_CMD_CONFIG_GET)
		cb = config_cb;
	else
		bad(a, "a reply to command %u, which has none", cmd);
	if (cb && mnl_attr_parse(nlh, sizeof(*g), cb, a) < MNL_CB_STOP)
		bad(a, "the reply's attributes do not parse");
}

/*
 * Send the @len bytes at @msg, then the barrier, and gather the answer
 * until the barrier's ACK. The request's nlmsg_seq is set here if it has
 * a whole header. Returns 0; -1 with errno if the send failed; -2 with
 * errno if receiving did (ETIMEDOUT: no barrier ACK within 5 s), which
 * leaves the socket out of step.
 */
static int nl_exchange(struct nl *nl, void *msg, size_t len, struct answer *a)
{
	uint32_t seq = ++nl->seq, barrier = ++nl->seq;
	struct nlmsghdr noop = {
		.nlmsg_len = NLMSG_HDRLEN,
		.nlmsg_type = NLMSG_NOOP,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nlmsg_seq = barrier,
	};
	uint8_t cmd = 0;
	int done = 0;

	memset(a, 0, sizeof(*a));
	if (len >= NLMSG_HDRLEN)
		((struct nlmsghdr *)msg)->nlmsg_seq = seq;
	if (len >= NLMSG_HDRLEN + GENL_HDRLEN)
		cmd = ((struct genlmsghdr *)((char *)msg + NLMSG_HDRLEN))->cmd;
	if (mnl_socket_sendto(nl->sk, msg, len) < 0)
		return -1;
	if (mnl_socket_sendto(nl->sk, &noop, sizeof(noop)) < 0)
		return -1;
	while (!done) {
		ssize_t n = mnl_socket_recvfrom(nl->sk, rx, sizeof(rx));
		const struct nlmsghdr *nlh = (const void *)rx;
		int left = (int)n;

		if (n < 0) {
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			return -2;
		}
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (!mnl_nlmsg_portid_ok(nlh, nl->portid))
				bad(a, "a message to port %u", nlh->nlmsg_pid);
			if (nlh->nlmsg_seq == barrier && nlh->nlmsg_type == NLMSG_ERROR) {
				struct answer b = { 0 };

				parse_error(nlh, &b);
				if (b.err)
					bad(a, "the barrier got %s", errname(b.err));
				done = 1;
			} else if (nlh->nlmsg_seq != seq) {
				bad(a, "a message of seq %u, type %u", nlh->nlmsg_seq,
				    nlh->nlmsg_type);
			} else if (nlh->nlmsg_type == NLMSG_ERROR) {
				parse_error(nlh, a);
			} else if (nlh->nlmsg_type < NLMSG_MIN_TYPE) {
				bad(a, "a control message of type %u", nlh->nlmsg_type);
			} else {
				parse_reply(nlh, cmd, a);
			}
		}
		if (left)
			bad(a, "%d bytes after the last whole message", left);
	}
	if (a->acked > 1)
		bad(a, "%d NLMSG_ERRORs", a->acked);
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static struct nlmsghdr *req(void *buf, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = type == GENL_ID_CTRL ? 1 : ZCOPY_GENL_VERSION;
	return nlh;
}

static int resolve_family(struct nl *nl)
{
	unsigned char buf[256];
	struct nlmsghdr *nlh = req(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	struct answer a;

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, ZCOPY_GENL_NAME);
	if (nl_exchange(nl, buf, nlh->nlmsg_len, &a) < 0)
		return -1;
	if (a.err || !a.ctrl_id) {
		errno = a.err ? a.err : ENOENT;
		return -1;
	}
	events_group = a.ctrl_group;
	return a.ctrl_id;
}

/* A request without attributes, answered; 0 or the errno. */
static int simple(struct nl *nl, uint8_t cmd, struct answer *a)
{
	unsigned char buf[64];
	struct nlmsghdr *nlh = req(buf, family_id, cmd, NLM_F_ACK);

	if (nl_exchange(nl, buf, nlh->nlmsg_len, a) < 0)
		return errno;
	return a->bad[0] ? EPROTO : a->err;
}

static int config_set(struct nl *nl, uint32_t rate, uint32_t burst)
{
	unsigned char buf[64];
	struct nlmsghdr *nlh = req(buf, family_id, ZCOPY_CMD_CONFIG_SET, NLM_F_ACK);
	struct answer a;

	mnl_attr_put_u32(nlh, ZCOPY_A_CONFIG_EVENTS_RATE, rate);
	mnl_attr_put_u32(nlh, ZCOPY_A_CONFIG_EVENTS_BURST, burst);
	if (nl_exchange(nl, buf, nlh->nlmsg_len, &a) < 0)
		return errno;
	return a.bad[0] ? EPROTO : a.err;
}

/* "rate/burst" as CONFIG_GET tells them, or why not. */
static const char *config_now(struct nl *nl)
{
	static char s[256];
	struct answer a;
	int err = simple(nl, ZCOPY_CMD_CONFIG_GET, &a);

	if (err || a.replies != 1)
		snprintf(s, sizeof(s), "CONFIG_GET: %s, %u replies %s", errname(err), a.replies,
			 a.bad);
	else
		snprintf(s, sizeof(s), "%u/%u", a.rate, a.burst);
	return s;
}

/* ---- the policy table ----------------------------------------------------- */

/*
 * Send @len bytes of @buf; the answer must be errno @want (0: an ACK),
 * with an extended ACK message if @want_msg, naming the attribute at
 * offset @offs if not 0; with @replies replies before it.
 */
static int expect(struct nl *nl, const char *name, void *buf, size_t len, int want, int want_msg,
		  uint32_t offs, unsigned int replies)
{
	int failed = n_failed;
	struct answer a;
	char got[256];

	if (nl_exchange(nl, buf, len, &a) < 0) {
		report(0, name, "%s", strerror(errno));
		return 0;
	}
	snprintf(got, sizeof(got), "%s%s%s%s, %u replies", a.acked ? errname(a.err) : "no answer",
		 a.has_msg ? " \"" : "", a.has_msg ? a.msg : "", a.has_msg ? "\"" : "", a.replies);
	if (a.has_msg)
		note("%s: %s", name, got);
	if (a.bad[0])
		report(0, name, "%s (%s)", a.bad, got);
	else if (a.acked != 1 || a.err != want || a.replies != replies)
		report(0, name, "want %s, %u replies; got %s", errname(want), replies, got);
	else if (want_msg && !a.has_msg)
		report(0, name, "no extended ACK message (%s)", got);
	else if (offs && (!a.has_offs || a.offs != offs))
		report(0, name, "NLMSGERR_ATTR_OFFS %s%u, want %u", a.has_offs ? "" : "absent, ",
		       a.offs, offs);
	else
		report(1, name, NULL);
	return n_failed == failed;
}

/* @cmd with one attribute of @type and @len bytes (a u32 where len is 4). */
static size_t with_attr(void *buf, uint8_t cmd, uint16_t type, size_t len, uint64_t val)
{
	struct nlmsghdr *nlh = req(buf, family_id, cmd, NLM_F_ACK);

	mnl_attr_put(nlh, type, len, &val); /* little endian: the low bytes */
	return nlh->nlmsg_len;
}

static const uint32_t ATTR_OFFS = NLMSG_HDRLEN + GENL_HDRLEN; /* the first attribute's */

static void policy_root(struct nl *nl)
{
	static const uint16_t stray[] = { 0, 1, 2, 200, 0x7fff };
	static const uint8_t no_attrs[] = { ZCOPY_CMD_STATS_GET, ZCOPY_CMD_STATS_RESET,
					    ZCOPY_CMD_CONFIG_GET };
	static const char *const cmd_name[] = { "UNSPEC", "STATS_GET",	"STATS_RESET",
						"EVENT",  "CONFIG_GET", "CONFIG_SET" };
	unsigned char buf[256];
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct answer a;
	char name[160];
	size_t len;
	int err;

	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK);
	expect(nl, "nlfuzz: STATS_GET without attributes: a reply, then ACK 0", buf, nlh->nlmsg_len,
	       0, 0, 0, 1);
	err = simple(nl, ZCOPY_CMD_STATS_GET, &a);
	report(!err && a.counters >= ZCOPY_A_STATS_MAX - ZCOPY_A_STATS_PAD - 1,
	       "nlfuzz: the STATS_GET reply has every counter, each a u64", "%s, %u counters %s",
	       errname(err), a.counters, a.bad);

	for (size_t c = 0; c < sizeof(no_attrs); c++)
		for (size_t i = 0; i < sizeof(stray) / sizeof(stray[0]); i++) {
			if (no_attrs[c] != ZCOPY_CMD_STATS_GET && i != 1 && i != 4)
				continue; /* all types for one command, two for the others */
			len = with_attr(buf, no_attrs[c], stray[i], 4, 7);
			snprintf(name, sizeof(name), "nlfuzz: %s with attribute type %u: EINVAL",
				 cmd_name[no_attrs[c]], stray[i]);
			expect(nl, name, buf, len, EINVAL, 1, ATTR_OFFS, 0);
		}

	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_RATE, 4, 0);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_RATE 0: ERANGE", buf, len, ERANGE, 1, ATTR_OFFS, 0);
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_RATE, 4,
			ZCOPY_EVENTS_RATE_MAX + 1);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_RATE 1000001: ERANGE", buf, len, ERANGE, 1, ATTR_OFFS,
	       0);
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_BURST, 4, 0);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_BURST 0: ERANGE", buf, len, ERANGE, 1, ATTR_OFFS, 0);
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_BURST, 4, 0xffffffffU);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_BURST 0xffffffff: ERANGE", buf, len, ERANGE, 1,
	       ATTR_OFFS, 0);
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_RATE, 2, 500);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_RATE as a u16: EINVAL", buf, len, EINVAL, 1,
	       ATTR_OFFS, 0);
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_RATE, 8, 500);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_RATE as a u64: EINVAL", buf, len, EINVAL, 1,
	       ATTR_OFFS, 0);
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_RATE, 0, 0);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_RATE of 0 bytes: EINVAL", buf, len, EINVAL, 1,
	       ATTR_OFFS, 0);
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_BURST + 1, 4, 500);
	expect(nl, "nlfuzz: CONFIG_SET with unknown attribute 3: EINVAL", buf, len, EINVAL, 1,
	       ATTR_OFFS, 0);
	nlh = req(buf, family_id, ZCOPY_CMD_CONFIG_SET, NLM_F_ACK);
	mnl_attr_put_u32(nlh, ZCOPY_A_CONFIG_EVENTS_RATE | NLA_F_NESTED, 500);
	expect(nl, "nlfuzz: CONFIG_SET EVENTS_RATE with NLA_F_NESTED: EINVAL", buf, nlh->nlmsg_len,
	       EINVAL, 1, ATTR_OFFS, 0);

	/* An attribute whose nla_len runs past the message's end. */
	len = with_attr(buf, ZCOPY_CMD_CONFIG_SET, ZCOPY_A_CONFIG_EVENTS_RATE, 4, 500);
	((struct nlattr *)(buf + ATTR_OFFS))->nla_len = 200;
	expect(nl, "nlfuzz: CONFIG_SET with nla_len past the message's end: EINVAL", buf, len,
	       EINVAL, 1, 0, 0);
	/* ... and one shorter than its own header */
	((struct nlattr *)(buf + ATTR_OFFS))->nla_len = 2;
	expect(nl, "nlfuzz: CONFIG_SET with nla_len 2: EINVAL", buf, len, EINVAL, 1, 0, 0);

	/* Settings: a valid SET, read back; a SET with one bad value changes nothing. */
	err = config_set(nl, 500, 500);
	report(!err, "nlfuzz: CONFIG_SET 500/500: ACK 0", "%s", errname(err));
	report(!strcmp(config_now(nl), "500/500"), "nlfuzz: CONFIG_GET reads back 500/500", "%s",
	       config_now(nl));
	err = config_set(nl, 700, 0);
	report(err == ERANGE, "nlfuzz: CONFIG_SET 700/0: ERANGE", "%s", errname(err));
	report(!strcmp(config_now(nl), "500/500"), "nlfuzz: ... and changes neither setting", "%s",
	       config_now(nl));
	nlh = req(buf, family_id, ZCOPY_CMD_CONFIG_SET, NLM_F_ACK);
	mnl_attr_put_u32(nlh, ZCOPY_A_CONFIG_EVENTS_BURST, 600);
	err = nl_exchange(nl, buf, nlh->nlmsg_len, &a) < 0 ? errno : a.err;
	report(!err && !strcmp(config_now(nl), "500/600"),
	       "nlfuzz: CONFIG_SET of EVENTS_BURST alone leaves EVENTS_RATE", "%s, then %s",
	       errname(err), config_now(nl));
	err = config_set(nl, ZCOPY_EVENTS_RATE_DEFAULT, ZCOPY_EVENTS_BURST_DEFAULT);
	report(!err && !strcmp(config_now(nl), "1000/1000"),
	       "nlfuzz: CONFIG_SET back to the defaults 1000/1000", "%s, then %s", errname(err),
	       config_now(nl));

	/* Commands that are not requests. */
	nlh = req(buf, family_id, ZCOPY_CMD_EVENT, NLM_F_ACK);
	expect(nl, "nlfuzz: EVENT as a request: EOPNOTSUPP", buf, nlh->nlmsg_len, EOPNOTSUPP, 0, 0,
	       0);
	nlh = req(buf, family_id, ZCOPY_CMD_UNSPEC, NLM_F_ACK);
	expect(nl, "nlfuzz: command 0: EOPNOTSUPP", buf, nlh->nlmsg_len, EOPNOTSUPP, 0, 0, 0);
	nlh = req(buf, family_id, 99, NLM_F_ACK);
	expect(nl, "nlfuzz: command 99: EOPNOTSUPP", buf, nlh->nlmsg_len, EOPNOTSUPP, 0, 0, 0);
	nlh = req(buf, family_id, 255, NLM_F_ACK);
	expect(nl, "nlfuzz: command 255: EOPNOTSUPP", buf, nlh->nlmsg_len, EOPNOTSUPP, 0, 0, 0);
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK | NLM_F_DUMP);
	expect(nl, "nlfuzz: STATS_GET as a dump: EOPNOTSUPP (do only)", buf, nlh->nlmsg_len,
	       EOPNOTSUPP, 0, 0, 0);

	/* The headers. */
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	expect(nl, "nlfuzz: a request without genlmsghdr (nlmsg_len 16): EINVAL", buf, NLMSG_HDRLEN,
	       EINVAL, 0, 0, 0);
	nlh->nlmsg_len = NLMSG_HDRLEN + 3;
	expect(nl, "nlfuzz: a request with 3 bytes of genlmsghdr: EINVAL", buf, NLMSG_HDRLEN + 3,
	       EINVAL, 0, 0, 0);
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK);
	g = mnl_nlmsg_get_payload(nlh);
	g->reserved = 1;
	header_checked = expect(nl, "nlfuzz: genlmsghdr.reserved 1: EINVAL", buf, nlh->nlmsg_len,
				EINVAL, 1, 0, 0);
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK | NLM_F_ROOT);
	header_checked &= expect(nl, "nlfuzz: STATS_GET with NLM_F_ROOT alone: EINVAL", buf,
				 nlh->nlmsg_len, EINVAL, 1, 0, 0);
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK | NLM_F_EXCL);
	header_checked &= expect(nl, "nlfuzz: STATS_GET with NLM_F_EXCL: EINVAL", buf,
				 nlh->nlmsg_len, EINVAL, 1, 0, 0);
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK | NLM_F_ECHO);
	expect(nl, "nlfuzz: STATS_GET with NLM_F_ECHO: a reply, then ACK 0", buf, nlh->nlmsg_len, 0,
	       0, 0, 1);
	/* genetlink does not look at the version; nor does the family. */
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK);
	g = mnl_nlmsg_get_payload(nlh);
	g->version = 0;
	expect(nl, "nlfuzz: STATS_GET of genetlink version 0: a reply, then ACK 0", buf,
	       nlh->nlmsg_len, 0, 0, 0, 1);
}

/* As uid 65534, without CAP_NET_ADMIN. */
static void policy_user(struct nl *nl)
{
	unsigned char buf[64];
	struct nlmsghdr *nlh;
	struct answer a;
	int err;

	int grp = (int)events_group;

	nlh = req(buf, family_id, ZCOPY_CMD_STATS_RESET, NLM_F_ACK);
	expect(nl, "nlfuzz: STATS_RESET without CAP_NET_ADMIN: EPERM", buf, nlh->nlmsg_len, EPERM,
	       0, 0, 0);
	err = mnl_socket_setsockopt(nl->sk, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0 ? errno
											   : 0;
	report(err == EPERM,
	       "nlfuzz: joining \"" ZCOPY_MCGRP_EVENTS "\" without CAP_NET_ADMIN: EPERM", "%s",
	       errname(err));
	err = config_set(nl, 500, 500);
	report(err == EPERM, "nlfuzz: CONFIG_SET without CAP_NET_ADMIN: EPERM", "%s", errname(err));
	/* The capability is checked before the attributes. */
	err = config_set(nl, 0, 0);
	report(err == EPERM, "nlfuzz: CONFIG_SET 0/0 without CAP_NET_ADMIN: EPERM", "%s",
	       errname(err));
	nlh = req(buf, family_id, ZCOPY_CMD_STATS_GET, NLM_F_ACK);
	expect(nl, "nlfuzz: STATS_GET without CAP_NET_ADMIN: a reply, then ACK 0", buf,
	       nlh->nlmsg_len, 0, 0, 0, 1);
	err = simple(nl, ZCOPY_CMD_CONFIG_GET, &a);
	report(!err && a.rate == ZCOPY_EVENTS_RATE_DEFAULT && a.burst == ZCOPY_EVENTS_BURST_DEFAULT,
	       "nlfuzz: CONFIG_GET without CAP_NET_ADMIN: 1000/1000", "%s, %u/%u %s", errname(err),
	       a.rate, a.burst, a.bad);
}

/* ---- the fuzzer ------------------------------------------------------------ */

static uint64_t rng;

static uint64_t rnd64(void)
{
	return splitmix64(&rng);
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static int chance(unsigned int percent)
{
	return rnd(100) < percent;
}

/* What the generator knows about a message, to judge its answer. */
struct gen {
	size_t sent;	   /* bytes sent */
	uint32_t len;	   /* its nlmsg_len */
	uint8_t cmd;	   /* genlmsghdr.cmd (if there is one) */
	uint16_t reserved; /* genlmsghdr.reserved */
	uint16_t flags;	   /* nlmsg_flags */
	int clean;	   /* well-formed: the answer is predicted exactly */
	int predicted;	   /* ... as this errno */
	const char *what;  /* how the attributes were made */
};

/*
 * A TLV at @buf + *off: header (nla_len @nla_len, type @type) and @plen
 * payload bytes, random unless @payload, zero-padded to alignment; all of
 * it cut at @cap. Returns the padding written.
 */
static size_t tlv(unsigned char *buf, size_t *off, size_t cap, uint16_t nla_len, uint16_t type,
		  size_t plen, const void *payload)
{
	struct nlattr h = { .nla_len = nla_len, .nla_type = type };
	size_t pad;

	if (*off + NLA_HDRLEN > cap)
		return 0;
	memcpy(buf + *off, &h, NLA_HDRLEN);
	*off += NLA_HDRLEN;
	if (plen > cap - *off)
		plen = cap - *off;
	if (payload) {
		memcpy(buf + *off, payload, plen);
	} else {
		for (size_t i = 0; i < plen; i++)
			buf[*off + i] = (unsigned char)rnd64();
	}
	*off += plen;
	pad = NLA_ALIGN(plen) - plen;
	if (pad > cap - *off)
		pad = cap - *off;
	memset(buf + *off, 0, pad);
	*off += pad;
	return pad;
}

static uint32_t config_value(void)
{
	static const uint32_t edge[] = { 0,	  1,	      2,	  999,
					 1000,	  1001,	      999999,	  1000000,
					 1000001, 0x7fffffff, 0x80000000, 0xffffffff };

	return chance(50) ? edge[rnd(sizeof(edge) / sizeof(edge[0]))] : rnd(2000000);
}

static uint16_t some_type(void)
{
	switch (rnd(4)) {
	case 0:
		return (uint16_t)rnd(4); /* 0..3: the family's own, and one past */
	case 1:
		return (uint16_t)rnd(ZCOPY_A_STATS_MAX + 2);
	case 2:
		return (uint16_t)rnd(256);
	default:
		return (uint16_t)rnd(0x4000);
	}
}

/* Nested garbage: TLVs inside TLVs, their lengths true or not. */
static void nested(unsigned char *buf, size_t *off, size_t cap, int depth)
{
	size_t start = *off, n = 1 + rnd(6);

	tlv(buf, off, cap, 0, some_type() | NLA_F_NESTED, 0, NULL);
	for (size_t i = 0; i < n && *off + NLA_HDRLEN <= cap; i++) {
		if (depth < 4 && chance(30)) {
			nested(buf, off, cap, depth + 1);
		} else {
			size_t plen = rnd(chance(90) ? 16 : 512);
			uint16_t claim = chance(70) ? NLA_HDRLEN + plen : rnd(0x10000);

			tlv(buf, off, cap, claim, some_type() | (chance(20) ? NLA_F_NESTED : 0),
			    plen, NULL);
		}
	}
	if (start + NLA_HDRLEN <= cap) {
		uint16_t whole = (uint16_t)(*off - start);

		if (chance(20))
			whole = (uint16_t)rnd(0x10000); /* a lie */
		memcpy(buf + start, &whole, sizeof(whole));
	}
}

/* A random attribute stream after the genetlink header; returns its end. */
static size_t chaos_attrs(unsigned char *buf, size_t off, size_t cap, struct gen *g)
{
	unsigned int n = rnd(8);

	g->what = "random attributes";
	for (unsigned int i = 0; i < n && off + NLA_HDRLEN <= cap; i++) {
		uint32_t v = config_value();
		size_t plen;

		switch (rnd(9)) {
		case 0: /* a setting, right */
			tlv(buf, &off, cap, NLA_HDRLEN + 4, 1 + rnd(2), 4, &v);
			break;
		case 1: /* a known type, wrong length */
			plen = rnd(13);
			tlv(buf, &off, cap, NLA_HDRLEN + plen, some_type() & 0x1f, plen, NULL);
			break;
		case 2:
			nested(buf, &off, cap, 0);
			break;
		case 3: /* large: up to the message's end */
			plen = rnd((uint32_t)(cap - off));
			if (plen > 0xffff - NLA_HDRLEN)
				plen = 0xffff - NLA_HDRLEN;
			tlv(buf, &off, cap, NLA_HDRLEN + plen,
			    chance(50) ? 1 + rnd(2) : some_type(), plen, NULL);
			break;
		case 4: /* zero-length */
			tlv(buf, &off, cap, NLA_HDRLEN, some_type(), 0, NULL);
			break;
		case 5: /* network byte order */
			v = htonl(v);
			tlv(buf, &off, cap, NLA_HDRLEN + 4, (1 + rnd(2)) | NLA_F_NET_BYTEORDER, 4,
			    &v);
			break;
		case 6: /* nla_len past the end, or under a header */
			tlv(buf, &off, cap, chance(50) ? rnd(NLA_HDRLEN) : 0xfff0 + rnd(16),
			    some_type(), rnd(8), NULL);
			break;
		case 7: /* unaligned: the next header starts mid-word */
			plen = 1 + rnd(7);
			off -= tlv(buf, &off, cap, NLA_HDRLEN + plen, some_type(), plen, NULL);
			break;
		default: /* bytes */
			plen = 1 + rnd(64);
			for (size_t j = 0; j < plen && off < cap; j++)
				buf[off++] = (unsigned char)rnd64();
		}
	}
	return off;
}

static const uint8_t valid_cmd[] = { ZCOPY_CMD_STATS_GET, ZCOPY_CMD_STATS_RESET, ZCOPY_CMD_EVENT,
				     ZCOPY_CMD_CONFIG_GET, ZCOPY_CMD_CONFIG_SET };

/*
 * A request the kernel must answer exactly: a command of the family,
 * NLM_F_ACK, a clean header, and for CONFIG_SET up to three settings.
 */
static size_t gen_clean(unsigned char *buf, struct gen *g, int root)
{
	uint8_t cmd = valid_cmd[rnd(sizeof(valid_cmd))];
	struct nlmsghdr *nlh = req(buf, family_id, cmd, NLM_F_ACK | (chance(20) ? NLM_F_ECHO : 0));
	int range = 1;

	g->clean = 1;
	g->what = "well-formed";
	if (cmd == ZCOPY_CMD_CONFIG_SET)
		for (unsigned int i = rnd(4); i > 0; i--) {
			uint32_t v = chance(70) ? 1 + rnd(ZCOPY_EVENTS_RATE_MAX) : config_value();

			range &= v >= 1 && v <= ZCOPY_EVENTS_RATE_MAX;
			mnl_attr_put_u32(nlh, 1 + rnd(2), v);
		}
	if (cmd == ZCOPY_CMD_EVENT)
		g->predicted = EOPNOTSUPP;
	else if (!root && (cmd == ZCOPY_CMD_STATS_RESET || cmd == ZCOPY_CMD_CONFIG_SET))
		g->predicted = EPERM;
	else if (!range)
		g->predicted = ERANGE;
	return nlh->nlmsg_len;
}

static size_t gen_chaos(unsigned char *buf, struct gen *g)
{
	static const uint16_t flag[] = { NLM_F_ACK,    NLM_F_ECHO,    NLM_F_ROOT, NLM_F_MATCH,
					 NLM_F_ATOMIC, NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE,
					 NLM_F_APPEND, NLM_F_MULTI,   0x0040,	  0x8000 };
	uint8_t cmd;
	uint16_t flags = 0;
	struct nlmsghdr *nlh;
	struct genlmsghdr *gh;
	size_t cap = chance(5) ? MSG_MAX : 512 + rnd(1024);

	switch (rnd(3)) {
	case 0:
		cmd = valid_cmd[rnd(sizeof(valid_cmd))];
		break;
	case 1:
		cmd = (uint8_t)rnd(11);
		break;
	default:
		cmd = (uint8_t)rnd(256);
	}
	if (chance(70))
		flags |= NLM_F_ACK;
	for (unsigned int i = rnd(4); i > 0; i--)
		flags |= flag[rnd(sizeof(flag) / sizeof(flag[0]))];
	nlh = req(buf, family_id, cmd, flags);
	gh = mnl_nlmsg_get_payload(nlh);
	if (chance(20))
		gh->version = (uint8_t)rnd(256);
	if (chance(20))
		gh->reserved = (uint16_t)rnd(0x10000);
	return chaos_attrs(buf, nlh->nlmsg_len, cap, g);
}

/*
 * One message: half well-formed, half not; then, for some, a length
 * that lies: cut (consistent), longer than sent (dropped unanswered),
 * shorter than sent by under a header (the rest ignored), or fewer
 * bytes than a header.
 */
static size_t gen_msg(unsigned char *buf, struct gen *g, int root)
{
	size_t len;

	memset(g, 0, sizeof(*g));
	len = chance(50) ? gen_clean(buf, g, root) : gen_chaos(buf, g);
	g->sent = len;
	g->len = (uint32_t)len;
	if (chance(15)) {
		g->clean = 0;
		switch (rnd(4)) {
		case 0:
			g->sent = g->len = NLMSG_HDRLEN + rnd((uint32_t)(len - NLMSG_HDRLEN));
			g->what = "cut";
			break;
		case 1:
			g->len = (uint32_t)len + 1 + rnd(4096);
			g->what = "nlmsg_len past the end";
			break;
		case 2:
			g->len = (uint32_t)len - rnd(13);
			if (g->len < NLMSG_HDRLEN)
				g->len = NLMSG_HDRLEN;
			g->what = "nlmsg_len short of the end";
			break;
		default:
			g->sent = rnd(NLMSG_HDRLEN);
			g->what = "under a header";
		}
	}
	if (g->sent >= NLMSG_HDRLEN)
		((struct nlmsghdr *)buf)->nlmsg_len = g->len;
	if (g->sent >= NLMSG_HDRLEN + GENL_HDRLEN) {
		g->cmd = ((struct genlmsghdr *)(buf + NLMSG_HDRLEN))->cmd;
		g->reserved = ((struct genlmsghdr *)(buf + NLMSG_HDRLEN))->reserved;
	}
	g->flags = ((struct nlmsghdr *)buf)->nlmsg_flags;
	return g->sent;
}

struct tally {
	unsigned long sent, clean, replies, silent, empty, err[ERRNO_MAX];
	unsigned long unexpected, config_sets;
};

/* Why the answer @a to @g is wrong, or NULL. */
static const char *judge(const struct gen *g, const struct answer *a, int root)
{
	static char why[256];
	int processed = g->sent >= NLMSG_HDRLEN && g->len >= NLMSG_HDRLEN && g->len <= g->sent;
	int dump = (g->flags & NLM_F_DUMP) == NLM_F_DUMP;
	int known = g->cmd && g->cmd <= ZCOPY_CMD_MAX && g->cmd != ZCOPY_CMD_EVENT;

	if (a->bad[0])
		return a->bad;
	if (!processed)
		return a->acked || a->replies ? "an answer to a message the kernel must drop"
					      : NULL;
	if (!a->acked && (g->flags & NLM_F_ACK))
		return "no NLMSG_ERROR although NLM_F_ACK was set";
	if (g->clean && (!a->acked || a->err != g->predicted)) {
		snprintf(why, sizeof(why), "want %s, got %s", errname(g->predicted),
			 a->acked ? errname(a->err) : "no NLMSG_ERROR");
		return why;
	}
	if (!a->acked)
		return NULL; /* success without NLM_F_ACK */
	switch (a->err) {
	case 0:
		if (g->len < NLMSG_HDRLEN + GENL_HDRLEN)
			return "a request without genlmsghdr succeeded";
		if (!known)
			return "a command that is no request succeeded";
		if (dump)
			return "a dump succeeded; the family has none";
		if (!root && (g->cmd == ZCOPY_CMD_STATS_RESET || g->cmd == ZCOPY_CMD_CONFIG_SET))
			return "a privileged command succeeded without CAP_NET_ADMIN";
		if (header_checked && g->reserved)
			return "a non-zero genlmsghdr.reserved was accepted";
		if (header_checked && (g->flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO)))
			return "reserved nlmsg_flags were accepted";
		return NULL;
	case EINVAL:
		return NULL;
	case ERANGE:
		return g->cmd == ZCOPY_CMD_CONFIG_SET ? NULL
						      : "ERANGE from a command without settings";
	case EOPNOTSUPP:
		return known && !dump ? "EOPNOTSUPP for a command of the family" : NULL;
	case EPERM:
		return root ? "EPERM as root" : NULL;
	case E2BIG:
	case EMSGSIZE:
		return NULL;
	}
	return "an errno outside EINVAL, ERANGE, EOPNOTSUPP, EPERM, E2BIG, EMSGSIZE";
}

static void show(const unsigned char *buf, const struct gen *g, const struct answer *a,
		 unsigned long i, const char *why)
{
	char hex[3 * 48 + 1] = "";

	for (size_t j = 0; j < g->sent && j < 48; j++)
		snprintf(hex + 3 * j, sizeof(hex) - 3 * j, "%02x ", buf[j]);
	report(0, "nlfuzz: an unexpected answer",
	       "message %lu (%s, %zu bytes sent, nlmsg_len %u, flags %#x, cmd %u): %s; got %s%s%s, "
	       "%u replies; bytes: %s",
	       i, g->what, g->sent, g->len, g->flags, g->cmd, why,
	       a->acked ? errname(a->err) : "no NLMSG_ERROR", a->has_msg ? ": " : "",
	       a->has_msg ? a->msg : "", a->replies, hex);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * @count messages, or as many as fit in @seconds; one report line for
 * all, one more per unexpected answer (the first SHOW_MAX).
 */
static void fuzz(uint64_t seed, unsigned long count, double seconds, int root)
{
	static unsigned char buf[MSG_MAX];
	static struct tally t;
	const char *who = root ? "as root" : "as uid 65534";
	struct nl nl[2];
	double t0 = now();
	char name[1024];
	size_t n;

	rng = seed;
	memset(&t, 0, sizeof(t));
	nl_open(&nl[0], 0);
	nl_open(&nl[1], 1);
	for (unsigned long i = 0; i < count; i++) {
		struct gen g;
		struct answer a;
		size_t len = gen_msg(buf, &g, root);
		const char *why;
		int ret;

		if ((i & 63) == 0 && now() - t0 > seconds)
			break;
		t.sent++;
		t.clean += g.clean;
		/* both ways of answering: the request echoed in errors, or not */
		ret = nl_exchange(&nl[i & 1], buf, len, &a);
		if (ret == -1 && errno == ENODATA && !len) {
			t.empty++; /* netlink_sendmsg() refuses an empty message */
			continue;
		}
		if (ret < 0) {
			snprintf(a.bad, sizeof(a.bad), "%s: %s", ret == -1 ? "send" : "receive",
				 strerror(errno));
			why = a.bad;
			mnl_socket_close(nl[i & 1].sk); /* out of step */
			nl_open(&nl[i & 1], i & 1);
		} else {
			t.replies += a.replies;
			if (!a.acked)
				t.silent++;
			else
				t.err[a.err > 0 && a.err < ERRNO_MAX ? a.err : 0]++;
			if (root && g.cmd == ZCOPY_CMD_CONFIG_SET && a.acked && !a.err)
				t.config_sets++;
			why = judge(&g, &a, root);
		}
		if (why && t.unexpected++ < SHOW_MAX)
			show(buf, &g, &a, i, why);
	}
	mnl_socket_close(nl[0].sk);
	mnl_socket_close(nl[1].sk);

	n = snprintf(name, sizeof(name), "nlfuzz %s: %lu unexpected answers to %lu messages", who,
		     t.unexpected, t.sent);
	if (t.sent < count)
		n += snprintf(name + n, sizeof(name) - n, " (of %lu: %.0f s budget)", count,
			      seconds);
	n += snprintf(name + n, sizeof(name) - n, " (%lu well-formed) in %.1f s; answers:", t.clean,
		      now() - t0);
	for (int e = 0; e < ERRNO_MAX; e++)
		if (t.err[e])
			n += snprintf(name + n, sizeof(name) - n, " %s %lu", e ? errname(e) : "ACK",
				      t.err[e]);
	n += snprintf(name + n, sizeof(name) - n, ", %lu replies, %lu none, %lu empty sends",
		      t.replies, t.silent, t.empty);
	if (root)
		snprintf(name + n, sizeof(name) - n, "; %lu CONFIG_SETs taken", t.config_sets);
	report(!t.unexpected && t.sent > 0, name, "seed %llu", (unsigned long long)seed);
}

/* ---- the data path busy meanwhile ------------------------------------------ */

/*
 * While root fuzzes, a thread makes calls: a page of a file into an
 * AF_UNIX stream (read back at once) and a call on a bad descriptor
 * (EBADF). So counters move and events are sent while the fuzzer's
 * CONFIG_SETs change the event rate and its STATS_RESETs reset them; a
 * listener joined to the events group never reads until the end, so its
 * buffer overflows and events meet a full socket.
 */
struct load {
	pthread_t thread;
	int stop;
	int file, sv[2];
	unsigned long calls, sent;
	int err; /* an unexpected errno of a call, or 0 */
};

static void *load_run(void *arg)
{
	struct load *l = arg;
	char page[PAGE];

	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED) && !l->err) {
		off_t off = 0;
		ssize_t n = zc_sendfile(l->sv[0], l->file, &off, PAGE);

		l->calls++;
		if (n != (ssize_t)PAGE) {
			l->err = n < 0 ? errno : EIO;
			break;
		}
		for (ssize_t got = 0, r; got < n; got += r) {
			r = read(l->sv[1], page, (size_t)(n - got));
			if (r <= 0) {
				l->err = r < 0 ? errno : EIO;
				break;
			}
		}
		l->sent += (unsigned long)n;
		l->calls++;
		if (zc_sendfile(-1, l->file, &off, PAGE) >= 0)
			l->err = EPROTO;
		else if (errno != EBADF)
			l->err = errno;
	}
	return NULL;
}

static void load_start(struct load *l)
{
	char *path = make_file("nlfuzz-load", PAGE, 13);

	memset(l, 0, sizeof(*l));
	l->file = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	if (l->file < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->sv) < 0)
		die("nlfuzz load");
	if (pthread_create(&l->thread, NULL, load_run, l))
		die("pthread_create");
}

static void load_stop(struct load *l)
{
	__atomic_store_n(&l->stop, 1, __ATOMIC_RELAXED);
	pthread_join(l->thread, NULL);
	close(l->file);
	close(l->sv[0]);
	close(l->sv[1]);
	report(!l->err && l->calls > 0, "nlfuzz: the data path worked throughout the fuzzing",
	       "%s after %lu calls", errname(l->err), l->calls);
	note("nlfuzz: %lu calls meanwhile, %lu bytes sent", l->calls, l->sent);
}

/* A listener that joins the events group and reads nothing until the end. */
static struct mnl_socket *listener_open(void)
{
	struct mnl_socket *sk = mnl_socket_open(NETLINK_GENERIC);
	int grp = (int)events_group, small = 4096;

	if (!sk || mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink socket");
	setsockopt(mnl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	report(mnl_socket_setsockopt(sk, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) == 0,
	       "nlfuzz: root joins \"" ZCOPY_MCGRP_EVENTS "\"", "%s", strerror(errno));
	return sk;
}

/* An event's attributes: the u32s, the name, and the u64s. */
static int event_cb(const struct nlattr *attr, void *data)
{
	uint16_t type = mnl_attr_get_type(attr);
	int *ok = data;

	switch (type) {
	case ZCOPY_A_EVENT_PAD:
		break;
	case ZCOPY_A_EVENT_IOCTL:
	case ZCOPY_A_EVENT_PID:
	case ZCOPY_A_EVENT_TID:
	case ZCOPY_A_EVENT_FLAGS:
	case ZCOPY_A_EVENT_ERRNO:
	case ZCOPY_A_EVENT_DROPPED:
		*ok &= mnl_attr_validate(attr, MNL_TYPE_U32) >= 0;
		break;
	case ZCOPY_A_EVENT_COMM:
		*ok &= mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0;
		break;
	default:
		if (type <= ZCOPY_A_EVENT_MAX)
			*ok &= mnl_attr_validate(attr, MNL_TYPE_U64) >= 0;
	}
	return MNL_CB_OK;
}

/* Every event it kept must parse; its overflow shows as ENOBUFS. */
static void listener_drain(struct mnl_socket *sk)
{
	unsigned long events = 0, overruns = 0;
	char why[160] = "";

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(sk), rx, sizeof(rx), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const void *)rx;
		int left = (int)n;

		if (n < 0 && errno == ENOBUFS) {
			overruns++;
			continue;
		}
		if (n < 0)
			break;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
			int ok = 1;

			events++;
			if (nlh->nlmsg_type != family_id || g->cmd != ZCOPY_CMD_EVENT ||
			    mnl_attr_parse(nlh, sizeof(*g), event_cb, &ok) < MNL_CB_STOP || !ok)
				snprintf(why, sizeof(why), "a message of type %u, command %u",
					 nlh->nlmsg_type, g->cmd);
		}
	}
	mnl_socket_close(sk);
	report(events > 0 && !why[0], "nlfuzz: the events the listener kept parse", "%lu events %s",
	       events, why);
	note("nlfuzz: the listener kept %lu events, overran %lu times", events, overruns);
}

/* ---- the part ----------------------------------------------------------- */

/*
 * Without CAP_NET_ADMIN: a child as uid/gid 65534, in a network namespace
 * of its own (the family is netnsok: the module's state for it is made
 * for the child and freed after it); its results are counted here.
 */
static void as_user(uint64_t seed, unsigned long count, double seconds)
{
	int fd[2], counts[2] = { 0, 0 }, status;
	pid_t pid;

	fflush(stdout);
	if (pipe(fd) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		struct nl nl;

		close(fd[0]);
		n_passed = n_failed = 0;
		if (unshare(CLONE_NEWNET) < 0 || setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0) {
			report(0, "nlfuzz: a new network namespace, as uid 65534", "%s",
			       strerror(errno));
		} else {
			nl_open(&nl, 0);
			policy_user(&nl);
			mnl_socket_close(nl.sk);
			fuzz(seed, count, seconds, 0);
		}
		fflush(stdout);
		counts[0] = n_passed;
		counts[1] = n_failed;
		_exit(write(fd[1], counts, sizeof(counts)) == sizeof(counts) ? 0 : 1);
	}
	close(fd[1]);
	if (read(fd[0], counts, sizeof(counts)) != sizeof(counts))
		counts[0] = counts[1] = 0;
	close(fd[0]);
	n_passed += counts[0];
	n_failed += counts[1];
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	report(WIFEXITED(status) && !WEXITSTATUS(status), "nlfuzz: the unprivileged child ran",
	       "wait status %#x", status);
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

void test_nlfuzz(void)
{
	uint64_t seed = env_ul("ZC_NLFUZZ_SEED", (unsigned long)time(NULL));
	unsigned long count = env_ul("ZC_NLFUZZ_COUNT", 20000);
	double seconds = (double)env_ul("ZC_NLFUZZ_SECONDS", 60);
	unsigned long mine = count - count / 4;
	struct mnl_socket *listener;
	struct load load;
	struct answer a;
	struct nl nl;
	int id, err;

	note("nlfuzz seed %llu (the unprivileged child's: seed + 1)", (unsigned long long)seed);
	nl_open(&nl, 0);
	id = resolve_family(&nl);
	report(id > 0, "nlfuzz: the genetlink controller knows family \"" ZCOPY_GENL_NAME "\"",
	       "%s", strerror(errno));
	if (id <= 0) {
		mnl_socket_close(nl.sk);
		return;
	}
	family_id = (uint16_t)id;
	note("nlfuzz: family \"%s\" is %u", ZCOPY_GENL_NAME, family_id);

	policy_root(&nl);
	as_user(seed + 1, count - mine, seconds / 4);
	listener = listener_open();
	load_start(&load);
	fuzz(seed, mine, seconds - seconds / 4, 1);
	load_stop(&load);
	listener_drain(listener);

	/* Leave the settings at their defaults, the counters reset and readable. */
	err = config_set(&nl, ZCOPY_EVENTS_RATE_DEFAULT, ZCOPY_EVENTS_BURST_DEFAULT);
	report(!err && !strcmp(config_now(&nl), "1000/1000"),
	       "nlfuzz: after the fuzzing, CONFIG_SET back to 1000/1000", "%s, then %s",
	       errname(err), config_now(&nl));
	err = simple(&nl, ZCOPY_CMD_STATS_RESET, &a);
	report(!err, "nlfuzz: after the fuzzing, STATS_RESET: ACK 0", "%s %s", errname(err), a.bad);
	err = simple(&nl, ZCOPY_CMD_STATS_GET, &a);
	report(!err && a.replies == 1 && a.counters >= ZCOPY_A_STATS_MAX - ZCOPY_A_STATS_PAD - 1,
	       "nlfuzz: after the fuzzing, STATS_GET parses", "%s, %u replies, %u counters %s",
	       errname(err), a.replies, a.counters, a.bad);
	mnl_socket_close(nl.sk);
}
