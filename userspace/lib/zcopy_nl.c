/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libzcopy: the "zcopy" generic netlink family (<linux/zcopy_netlink.h>),
 * spoken through libmnl: counters, settings and the events group.
 *
 * Every call opens a netlink socket of its own and resolves the family by
 * name, so there is no shared state to lock and a module reloaded since
 * the last call (a new family id) is found again. A request always asks
 * for an ACK: its end is then the ACK (or the error) whatever the
 * command, and a do-request's reply needs no special case.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/zcopy_netlink.h>

#include "zcopy.h"

#define ZC_API __attribute__((visibility("default")))

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/*
 * A receive buffer for one request's replies. The largest is a stats
 * reply with every errno counted: about 4 KiB; a datagram larger than the
 * buffer would be cut (ENOSPC from libmnl), so leave ample room.
 */
#define NL_BUF_SIZE 32768

/* A request: headers and at most two u32 attributes, or a family name. */
#define NL_REQ_SIZE 256

/* The events socket's receive buffer: some 8000 events of ~130 bytes. */
#define MONITOR_RCVBUF (1 << 20)

struct zc_nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	uint32_t events_grp; /* 0: not resolved */
};

struct zc_monitor {
	struct zc_nl nl;
	_Alignas(struct nlmsghdr) char buf[NL_BUF_SIZE];
};

/* ---- the socket and a request ----------------------------------------- */

static int nl_socket(struct zc_nl *nl)
{
	int one = 1;

	nl->sock = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!nl->sock)
		return -1;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(nl->sock);
		errno = err;
		return -1;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	/* Any start will do: the portid is ours alone; time makes it vary. */
	nl->seq = (unsigned int)time(NULL);
	/*
	 * Extended ACKs: the kernel then says which attribute it refused.
	 * Kernels before 4.12 lack the option; errnos are enough there.
	 */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	return 0;
}

static void nl_close(struct zc_nl *nl)
{
	int err = errno;

	mnl_socket_close(nl->sock);
	errno = err; /* a close does not change what the call returns */
}

/* Start a request for @cmd of @family in @buf; NLM_F_ACK ends every reply. */
static struct nlmsghdr *nl_msg(struct zc_nl *nl, void *buf, uint16_t family, uint8_t cmd,
			       uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/*
 * Send @nlh and run @cb on each reply message until the ACK. mnl_cb_run()
 * checks that a reply carries our sequence number and port id, and turns
 * an NLMSG_ERROR into -1 with its errno.
 */
static int nl_talk(struct zc_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq = nlh->nlmsg_seq;
	char *buf;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	buf = malloc(NL_BUF_SIZE);
	if (!buf)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl->sock, buf, NL_BUF_SIZE);
		ret = n < 0 ? MNL_CB_ERROR : mnl_cb_run(buf, n, seq, nl->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	free(buf);
	return ret < 0 ? -1 : 0;
}

/* The genetlink header of @nlh, or NULL (errno EPROTO) if it has none. */
static const struct genlmsghdr *genl_hdr(const struct nlmsghdr *nlh)
{
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct genlmsghdr)) {
		errno = EPROTO;
		return NULL;
	}
	return mnl_nlmsg_get_payload(nlh);
}

/* mnl_attr_validate() failed: the reply is malformed, whatever it said. */
static int bad_attr(void)
{
	errno = EPROTO;
	return MNL_CB_ERROR;
}

/* ---- resolving the family: the genetlink controller ------------------- */

struct family_info {
	uint16_t id;
	uint32_t events_grp;
};

/* One entry of CTRL_ATTR_MCAST_GROUPS: { NAME, ID }. */
static int mcgrp_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	switch (type) {
	case CTRL_ATTR_MCAST_GRP_NAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return bad_attr();
		break;
	case CTRL_ATTR_MCAST_GRP_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return bad_attr();
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int mcgrps_cb(const struct nlattr *grp, void *data)
{
	struct family_info *fi = data;
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { NULL };

	if (mnl_attr_validate(grp, MNL_TYPE_NESTED) < 0 ||
	    mnl_attr_parse_nested(grp, mcgrp_attr_cb, tb) < 0)
		return bad_attr();
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]), ZCOPY_MCGRP_EVENTS))
		fi->events_grp = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	struct family_info *fi = data;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return bad_attr();
		fi->id = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return bad_attr();
		return mnl_attr_parse_nested(attr, mcgrps_cb, fi);
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	if (!genl_hdr(nlh))
		return MNL_CB_ERROR;
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
}

/*
 * Ask the controller for the family's id and its events group. The
 * controller answers ENOENT when no family has the name: the module is
 * not loaded, as for open("/dev/zcopy").
 */
static int nl_resolve(struct zc_nl *nl)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct family_info fi = { 0 };
	struct nlmsghdr *nlh = nl_msg(nl, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, ZCOPY_GENL_NAME);
	if (nl_talk(nl, nlh, family_cb, &fi) < 0)
		return -1;
	if (!fi.id) {
		errno = EPROTO;
		return -1;
	}
	nl->family = fi.id;
	nl->events_grp = fi.events_grp;
	return 0;
}

/* A socket with the family resolved; closed again on failure. */
static int nl_open(struct zc_nl *nl)
{
	if (nl_socket(nl) < 0)
		return -1;
	if (nl_resolve(nl) < 0) {
		nl_close(nl);
		return -1;
	}
	return 0;
}

/* Open, send a request of @cmd with no attributes, run @cb, close. */
static int zc_do(uint8_t cmd, mnl_cb_t cb, void *data)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct zc_nl nl;
	int ret;

	if (nl_open(&nl) < 0)
		return -1;
	ret = nl_talk(&nl, nl_msg(&nl, buf, nl.family, cmd, ZCOPY_GENL_VERSION), cb, data);
	nl_close(&nl);
	return ret;
}

/* Parse a reply's attributes with @cb; it must be of command @cmd. */
static int zc_reply(const struct nlmsghdr *nlh, uint8_t cmd, mnl_attr_cb_t cb, void *data)
{
	const struct genlmsghdr *genl = genl_hdr(nlh);

	if (!genl)
		return MNL_CB_ERROR;
	if (genl->cmd != cmd)
		return bad_attr();
	return mnl_attr_parse(nlh, sizeof(*genl), cb, data);
}

/* ---- counters --------------------------------------------------------- */

static const char *const stat_names[] = {
	[ZCOPY_A_STATS_CALLS_SENDFILE] = "calls_sendfile",
	[ZCOPY_A_STATS_CALLS_SENDV] = "calls_sendv",
	[ZCOPY_A_STATS_CALLS_FAILED] = "calls_failed",
	[ZCOPY_A_STATS_BYTES_SENT] = "bytes_sent",
	[ZCOPY_A_STATS_BYTES_ZC] = "bytes_zc",
	[ZCOPY_A_STATS_BYTES_COPIED_MEMORY] = "bytes_copied_memory",
	[ZCOPY_A_STATS_BYTES_COPIED_NO_CACHE] = "bytes_copied_no_cache",
	[ZCOPY_A_STATS_BYTES_COPIED_ULP] = "bytes_copied_ulp",
	[ZCOPY_A_STATS_BYTES_COPIED_SOCKET] = "bytes_copied_socket",
	[ZCOPY_A_STATS_PAGES_CACHED] = "pages_cached",
	[ZCOPY_A_STATS_PAGES_READ] = "pages_read",
	[ZCOPY_A_STATS_READAHEAD_SYNC] = "readahead_sync",
	[ZCOPY_A_STATS_READAHEAD_ASYNC] = "readahead_async",
	[ZCOPY_A_STATS_IN_FLIGHT] = "in_flight",
	[ZCOPY_A_STATS_EVENTS_SENT] = "events_sent",
	[ZCOPY_A_STATS_EVENTS_DROPPED] = "events_dropped",
	[ZCOPY_A_STATS_ERRORS_OTHER] = "errors_other",
};

ZC_API const char *zc_stat_name(unsigned int attr)
{
	return attr < sizeof(stat_names) / sizeof(stat_names[0]) ? stat_names[attr] : NULL;
}

static int error_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	switch (type) {
	case ZCOPY_A_ERROR_ERRNO:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return bad_attr();
		break;
	case ZCOPY_A_ERROR_COUNT:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return bad_attr();
		break;
	default:
		return MNL_CB_OK; /* PAD, or newer than this library */
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

/* One ZCOPY_A_STATS_ERROR entry: both of its attributes are required. */
static int stats_error(const struct nlattr *attr, struct zc_counters *c)
{
	const struct nlattr *tb[ZCOPY_A_ERROR_MAX + 1] = { NULL };
	uint32_t err;
	uint64_t count;

	if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0 ||
	    mnl_attr_parse_nested(attr, error_attr_cb, tb) < 0 || !tb[ZCOPY_A_ERROR_ERRNO] ||
	    !tb[ZCOPY_A_ERROR_COUNT])
		return bad_attr();
	err = mnl_attr_get_u32(tb[ZCOPY_A_ERROR_ERRNO]);
	count = mnl_attr_get_u64(tb[ZCOPY_A_ERROR_COUNT]);
	if (err <= ZC_ERRNO_MAX) {
		c->errors[err] += count;
	} else {
		c->value[ZCOPY_A_STATS_ERRORS_OTHER] += count;
		c->have |= 1ULL << ZCOPY_A_STATS_ERRORS_OTHER;
	}
	return MNL_CB_OK;
}

static int stats_attr_cb(const struct nlattr *attr, void *data)
{
	struct zc_counters *c = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type == ZCOPY_A_STATS_ERROR)
		return stats_error(attr, c);
	if (type == ZCOPY_A_STATS_UNSPEC || type == ZCOPY_A_STATS_PAD || type >= ZC_COUNTERS_MAX)
		return MNL_CB_OK;
	/*
	 * Every counter is a u64. One this library does not know is taken
	 * as a counter only if it has a u64's size, so that a newer
	 * attribute of another kind is skipped rather than misread.
	 */
	if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0) {
		if (type <= ZCOPY_A_STATS_MAX)
			return bad_attr();
		return MNL_CB_OK;
	}
	/* += : errnos above ZC_ERRNO_MAX add to ERRORS_OTHER too. */
	c->value[type] += mnl_attr_get_u64(attr);
	c->have |= 1ULL << type;
	return MNL_CB_OK;
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	return zc_reply(nlh, ZCOPY_CMD_STATS_GET, stats_attr_cb, data);
}

ZC_API int zc_stats_get(struct zc_counters *c)
{
	memset(c, 0, sizeof(*c));
	return zc_do(ZCOPY_CMD_STATS_GET, stats_cb, c);
}

ZC_API int zc_stats_reset(void)
{
	return zc_do(ZCOPY_CMD_STATS_RESET, NULL, NULL);
}

/* ---- settings --------------------------------------------------------- */

static int config_attr_cb(const struct nlattr *attr, void *data)
{
	struct zc_config *cfg = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type != ZCOPY_A_CONFIG_EVENTS_RATE && type != ZCOPY_A_CONFIG_EVENTS_BURST)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return bad_attr();
	if (type == ZCOPY_A_CONFIG_EVENTS_RATE)
		cfg->events_rate = mnl_attr_get_u32(attr);
	else
		cfg->events_burst = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int config_cb(const struct nlmsghdr *nlh, void *data)
{
	return zc_reply(nlh, ZCOPY_CMD_CONFIG_GET, config_attr_cb, data);
}

ZC_API int zc_config_get(struct zc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	return zc_do(ZCOPY_CMD_CONFIG_GET, config_cb, cfg);
}

ZC_API int zc_config_set(const struct zc_config *cfg)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct zc_nl nl;
	int ret;

	if (nl_open(&nl) < 0)
		return -1;
	nlh = nl_msg(&nl, buf, nl.family, ZCOPY_CMD_CONFIG_SET, ZCOPY_GENL_VERSION);
	/* An absent attribute leaves the setting as it is. */
	if (cfg->events_rate)
		mnl_attr_put_u32(nlh, ZCOPY_A_CONFIG_EVENTS_RATE, cfg->events_rate);
	if (cfg->events_burst)
		mnl_attr_put_u32(nlh, ZCOPY_A_CONFIG_EVENTS_BURST, cfg->events_burst);
	ret = nl_talk(&nl, nlh, NULL, NULL);
	nl_close(&nl);
	return ret;
}

/* ---- events ----------------------------------------------------------- */

/* The type each event attribute must have; 0: not one this library knows. */
static const enum mnl_attr_data_type event_types[] = {
	[ZCOPY_A_EVENT_IOCTL] = MNL_TYPE_U32,	     [ZCOPY_A_EVENT_PID] = MNL_TYPE_U32,
	[ZCOPY_A_EVENT_TID] = MNL_TYPE_U32,	     [ZCOPY_A_EVENT_COMM] = MNL_TYPE_NUL_STRING,
	[ZCOPY_A_EVENT_FLAGS] = MNL_TYPE_U32,	     [ZCOPY_A_EVENT_REQUESTED] = MNL_TYPE_U64,
	[ZCOPY_A_EVENT_SENT] = MNL_TYPE_U64,	     [ZCOPY_A_EVENT_ZC_BYTES] = MNL_TYPE_U64,
	[ZCOPY_A_EVENT_COPIED_BYTES] = MNL_TYPE_U64, [ZCOPY_A_EVENT_DURATION_NS] = MNL_TYPE_U64,
	[ZCOPY_A_EVENT_ERRNO] = MNL_TYPE_U32,	     [ZCOPY_A_EVENT_DROPPED] = MNL_TYPE_U32,
};

static void event_set(struct zc_event *ev, const struct nlattr *attr)
{
	switch (mnl_attr_get_type(attr)) {
	case ZCOPY_A_EVENT_IOCTL:
		ev->ioctl_nr = mnl_attr_get_u32(attr);
		break;
	case ZCOPY_A_EVENT_PID:
		ev->pid = mnl_attr_get_u32(attr);
		break;
	case ZCOPY_A_EVENT_TID:
		ev->tid = mnl_attr_get_u32(attr);
		break;
	case ZCOPY_A_EVENT_COMM:
		/* TASK_COMM_LEN is 16 today; a longer name is cut, not lost. */
		strncpy(ev->comm, mnl_attr_get_str(attr), sizeof(ev->comm) - 1);
		break;
	case ZCOPY_A_EVENT_FLAGS:
		ev->flags = mnl_attr_get_u32(attr);
		break;
	case ZCOPY_A_EVENT_REQUESTED:
		ev->requested = mnl_attr_get_u64(attr);
		break;
	case ZCOPY_A_EVENT_SENT:
		ev->sent = mnl_attr_get_u64(attr);
		break;
	case ZCOPY_A_EVENT_ZC_BYTES:
		ev->zc_bytes = mnl_attr_get_u64(attr);
		break;
	case ZCOPY_A_EVENT_COPIED_BYTES:
		ev->copied_bytes = mnl_attr_get_u64(attr);
		break;
	case ZCOPY_A_EVENT_DURATION_NS:
		ev->duration_ns = mnl_attr_get_u64(attr);
		break;
	case ZCOPY_A_EVENT_ERRNO:
		ev->err = mnl_attr_get_u32(attr);
		break;
	case ZCOPY_A_EVENT_DROPPED:
		ev->dropped = mnl_attr_get_u32(attr);
		break;
	}
}

static int event_attr_cb(const struct nlattr *attr, void *data)
{
	uint16_t type = mnl_attr_get_type(attr);
	enum mnl_attr_data_type want;

	if (type >= sizeof(event_types) / sizeof(event_types[0]))
		return MNL_CB_OK; /* newer than this library */
	want = event_types[type];
	if (want == MNL_TYPE_UNSPEC)
		return MNL_CB_OK; /* UNSPEC, PAD */
	if (mnl_attr_validate(attr, want) < 0)
		return bad_attr();
	event_set(data, attr);
	return MNL_CB_OK;
}

struct monitor_ctx {
	uint16_t family;
	int (*cb)(const struct zc_event *ev, void *arg);
	void *arg;
	int events;
	int cb_ret; /* the caller's callback's non-zero return, which stops */
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct monitor_ctx *ctx = data;
	const struct genlmsghdr *genl;
	struct zc_event ev = { 0 };

	/* Only events of ours; anything else on the socket is skipped. */
	if (nlh->nlmsg_type != ctx->family)
		return MNL_CB_OK;
	genl = genl_hdr(nlh);
	if (!genl)
		return MNL_CB_ERROR;
	if (genl->cmd != ZCOPY_CMD_EVENT)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*genl), event_attr_cb, &ev) < 0)
		return MNL_CB_ERROR;
	ctx->events++;
	ctx->cb_ret = ctx->cb(&ev, ctx->arg);
	return ctx->cb_ret ? MNL_CB_STOP : MNL_CB_OK;
}

/* Grow the receive buffer, so a burst of events does not overflow it. */
static void monitor_rcvbuf(struct zc_nl *nl)
{
	int fd = mnl_socket_get_fd(nl->sock), size = MONITOR_RCVBUF;

	/*
	 * SO_RCVBUF is capped by net.core.rmem_max (208 KiB by default);
	 * SO_RCVBUFFORCE is not, but needs CAP_NET_ADMIN, which joining the
	 * group takes anyway. Either failing leaves a smaller buffer, and
	 * an overflow is reported as ENOBUFS: not an error here.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

ZC_API struct zc_monitor *zc_monitor_open(void)
{
	struct zc_monitor *m = malloc(sizeof(*m));
	int err;

	if (!m)
		return NULL;
	if (nl_open(&m->nl) < 0)
		goto fail_free;
	if (!m->nl.events_grp) {
		errno = ENOENT; /* a module without the group */
		goto fail_close;
	}
	/* The group is joined by id; EPERM here without CAP_NET_ADMIN. */
	if (mnl_socket_setsockopt(m->nl.sock, NETLINK_ADD_MEMBERSHIP, &m->nl.events_grp,
				  sizeof(m->nl.events_grp)) < 0)
		goto fail_close;
	monitor_rcvbuf(&m->nl);
	/*
	 * The module looks for listeners at most once per clock tick (1 to
	 * 10 ms), so that calls pay nothing while nobody listens: wait two
	 * ticks at the slowest, and every call that begins after this
	 * returns is seen.
	 */
	nanosleep(&(struct timespec){ .tv_nsec = 25 * 1000 * 1000 }, NULL);
	return m;

fail_close:
	nl_close(&m->nl);
fail_free:
	err = errno;
	free(m);
	errno = err;
	return NULL;
}

ZC_API int zc_monitor_fd(const struct zc_monitor *m)
{
	return mnl_socket_get_fd(m->nl.sock);
}

ZC_API int zc_monitor_read(struct zc_monitor *m, int (*cb)(const struct zc_event *ev, void *arg),
			   void *arg)
{
	struct monitor_ctx ctx = { .family = m->nl.family, .cb = cb, .arg = arg };
	ssize_t n;
	int ret;

	/*
	 * One datagram; ENOBUFS if the kernel dropped some for want of
	 * room: the socket stays joined, and the next read goes on.
	 */
	n = mnl_socket_recvfrom(m->nl.sock, m->buf, sizeof(m->buf));
	/* Sequence 0 and port id 0: notifications, not replies to check. */
	ret = n < 0 ? MNL_CB_ERROR : mnl_cb_run(m->buf, n, 0, 0, event_cb, &ctx);
	if (ret < 0)
		return -1;
	return ctx.cb_ret ? ctx.cb_ret : ctx.events;
}

ZC_API void zc_monitor_close(struct zc_monitor *m)
{
	if (!m)
		return;
	nl_close(&m->nl);
	free(m);
}
