/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcopy - command-line front end of libzcopy.
 *
 *   zcopy send [--offset N] [--count N] FILE HOST:PORT
 *   zcopy stats [--json] [--reset]
 *   zcopy monitor [--json] [--count N]
 *   zcopy config [--events-rate N] [--events-burst N]
 *   zcopy run [--stats] -- CMD [ARGS...]
 *
 * send connects to HOST:PORT over TCP (IPv4, IPv6 as [addr]:port, or a
 * name) and sends FILE, or a range of it, through /dev/zcopy. stats,
 * monitor and config speak the module's generic netlink family (through
 * libzcopy) for the counters, events and settings of this network
 * namespace. run starts CMD with libzcopy-preload.so in LD_PRELOAD, so that
 * its sendfile(2) calls go through zcopy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/zcopy_netlink.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zcopy.h"

#ifndef ZCOPY_CLI_VERSION
#define ZCOPY_CLI_VERSION "unknown"
#endif

enum { EXIT_USAGE = 2 };

/* The most bytes one call asks for: sendfile(2)'s cap (MAX_RW_COUNT). */
#define CALL_MAX 0x7ffff000U
/* The largest offset this build's off_t holds. */
#define OFF_MAX (sizeof(off_t) < 8 ? (uint64_t)INT32_MAX : (uint64_t)INT64_MAX)

static const char usage_text[] =
	"Usage: zcopy send [--offset N] [--count N] [--nodiskio] [--readahead N] [--quiet]\n"
	"                  [--json] [--progress | --no-progress] FILE HOST:PORT\n"
	"       zcopy stats [--json] [--reset]\n"
	"       zcopy monitor [--json] [--count N]\n"
	"       zcopy config [--events-rate N] [--events-burst N]\n"
	"       zcopy run [--stats] -- CMD [ARGS...]\n"
	"       zcopy --help | --version\n"
	"\n"
	"send: send FILE (or COUNT bytes of it from OFFSET) to a TCP peer\n"
	"through /dev/zcopy: the file's page-cache pages go to the socket by\n"
	"reference, with no copy of the data by the CPU.\n"
	"  HOST:PORT     an IPv4 address, [IPv6 address] or host name, and a port\n"
	"  --offset N    start N bytes into the file (default 0)\n"
	"  --count N     send N bytes (default: to end of file); a file that\n"
	"                ends first is an error, as is an offset past its end\n"
	"  --nodiskio    never let a call wait for the disk (ZCOPY_SEND_NODISKIO):\n"
	"                each call sends what the page cache holds and starts\n"
	"                readahead for the rest; zcopy then retries every\n"
	"                millisecond, and says how many calls the disk stopped\n"
	"  --readahead N read N bytes ahead past the request when a call has to\n"
	"                read (default 0: the file's own readahead)\n"
	"  --quiet       print nothing on success\n"
	"  --json        print the result as one JSON object on stdout instead\n"
	"  --progress    show bytes, rate and time left on stderr as it goes;\n"
	"                the default when stderr is a terminal and the file is\n"
	"                64 MiB or more (--no-progress: never)\n"
	"  N takes a K, M or G suffix (powers of 1024).\n"
	"\n"
	"stats: print the counters of this network namespace, one per line\n"
	"(as ethtool -S does), then the calls failed per errno.\n"
	"  --json        one JSON object: {\"counters\": {...}, \"errors\": {...}}\n"
	"  --reset       set the counters to zero instead (CAP_NET_ADMIN)\n"
	"\n"
	"monitor: print one line per finished call of this network namespace,\n"
	"until interrupted (CAP_NET_ADMIN).\n"
	"  --json        one JSON object per line\n"
	"  --count N     stop after N events\n"
	"\n"
	"config: print the settings of this network namespace, or change them\n"
	"(CAP_NET_ADMIN).\n"
	"  --events-rate N   events per second, on average (1 to 1000000)\n"
	"  --events-burst N  events at once after a quiet time (1 to 1000000)\n"
	"\n"
	"run: run CMD with its sendfile(2) and sendfile64() calls sent through\n"
	"zcopy (libzcopy-preload.so in LD_PRELOAD): what zcopy cannot send, or\n"
	"everything if the module is not loaded, goes to sendfile(2) as before.\n"
	"The exit status is CMD's (128+N if signal N ended it).\n"
	"  --stats       at exit, print how many calls and bytes went through\n"
	"                zcopy and how many fell back (zcopy stays CMD's parent\n"
	"                and passes it SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2)\n"
	"  ZCOPY_PRELOAD_LIB  the interposer to use (default: ../lib/ next to\n"
	"                this program, else the loader's search path)\n"
	"\n"
	"Exit status: 0 done, 1 failed, 2 usage error.\n"
	"Needs the zcopy module: /dev/zcopy and the \"zcopy\" netlink family.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "zcopy: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'zcopy --help'.\n");
	return EXIT_USAGE;
}

/*
 * An option getopt_long() refused (opterr is 0: one line, ours): unknown,
 * or missing its value. It is the word before optind.
 */
static int bad_option(char **argv)
{
	return usage_error("bad option '%s' (unknown, or missing its value)", argv[optind - 1]);
}

/* Parse a byte count with an optional K/M/G suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Split "host:port", "[v6]:port" into host and port (in place). */
static int split_hostport(char *s, char **host, char **port)
{
	char *colon;

	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close || close[1] != ':' || !close[2])
			return -1;
		*close = '\0';
		*host = s + 1;
		*port = close + 2;
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1] || strchr(s, ':') != colon)
		return -1; /* a bare IPv6 address needs brackets */
	*colon = '\0';
	*host = s;
	*port = colon + 1;
	return 0;
}

static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int err, fd = -1, saved = 0;

	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "zcopy: %s:%s: %s\n", host, port, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "zcopy: %s:%s: %s\n", host, port, strerror(saved));
	return fd;
}

/*
 * The size of the file open as @fd, for the default count: st_size for a
 * regular file, BLKGETSIZE64 for a block device. Returns 1 with *@size
 * set; 0 if unknown, and the file is then sent until a read finds its end:
 * procfs and sysfs give sizes (0, 4096) unrelated to what is read, other
 * files (character devices, an empty regular file) may have no size at
 * all; -1 on error.
 */
static int file_size(int fd, const struct stat *st, uint64_t *size)
{
	struct statfs sfs;

	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -1 : 1;
	if (!S_ISREG(st->st_mode) || st->st_size <= 0)
		return 0;
	if (fstatfs(fd, &sfs) < 0)
		return -1;
	if (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC)
		return 0;
	*size = (uint64_t)st->st_size;
	return 1;
}

/*
 * A file of unknown size gave nothing at @offset: is @offset past its end
 * (1), or at it (0)? There is a byte before it if the file reaches it.
 */
static int past_end(int fd, uint64_t offset)
{
	char c;

	return offset > 0 && pread(fd, &c, 1, (off_t)(offset - 1)) == 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void json_string(const char *s);

/* A size for people: "812.3 MiB". */
static const char *human(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

/*
 * The progress line of zcopy send, redrawn in place (\r) at most four
 * times a second: bytes sent of the total, the rate so far, and the time
 * left at that rate.
 */
static void progress(uint64_t sent, uint64_t total, double t0, double *last, int final)
{
	char a[32], b[32], c[32], eta[32] = "";
	double t = now(), rate;

	if (!final && t - *last < 0.25)
		return;
	*last = t;
	rate = t > t0 ? sent / (t - t0) : 0;
	if (rate > 0 && total > sent) {
		unsigned long long left = (unsigned long long)((total - sent) / rate + 0.5);

		snprintf(eta, sizeof(eta), ", %llu:%02llu left", left / 60, left % 60);
	}
	fprintf(stderr, "\rzcopy: %s of %s (%u%%), %s/s%s\033[K%s", human(sent, a, sizeof(a)),
		human(total, b, sizeof(b)), total ? (unsigned int)(sent * 100 / total) : 100,
		human(rate, c, sizeof(c)), eta, final ? "\n" : "");
}

/* A progress line pays for a call per redraw: calls of 16 MiB then. */
#define PROGRESS_CALL (16U << 20)
/* The default shows progress for files of this size and more. */
#define PROGRESS_MIN (64ULL << 20)

static int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = { { "offset", required_argument, NULL, 'o' },
					      { "count", required_argument, NULL, 'c' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "nodiskio", no_argument, NULL, 'n' },
					      { "readahead", required_argument, NULL, 'r' },
					      { "json", no_argument, NULL, 'j' },
					      { "progress", no_argument, NULL, 'P' },
					      { "no-progress", no_argument, NULL, 'N' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	int json = 0, show = -1; /* show: -1 on a terminal for a large file */
	double last = 0;
	uint64_t offset = 0, count = 0, size = 0, sent = 0, zc = 0, readahead = 0, disk_stops = 0;
	unsigned int flags = ZCOPY_SEND_NOSIGNAL | ZC_SEND_EXT;
	int have_count = 0, quiet = 0, opt, known, closed, in = -1, sock = -1, ret = 1;
	const char *file;
	char *host, *port;
	struct stat st;
	off_t off;
	double t0, dt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:c:qnr:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'P':
			show = 1;
			break;
		case 'N':
			show = 0;
			break;
		case 'n':
			flags |= ZCOPY_SEND_NODISKIO;
			break;
		case 'r':
			if (parse_size(optarg, &readahead))
				return usage_error("bad readahead '%s'", optarg);
			break;
		case 'o':
			if (parse_size(optarg, &offset) || offset > OFF_MAX)
				return usage_error("bad offset '%s'", optarg);
			break;
		case 'c':
			if (parse_size(optarg, &count))
				return usage_error("bad count '%s'", optarg);
			have_count = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv);
		}
	}
	if (argc - optind != 2)
		return usage_error("%s", "send needs FILE and HOST:PORT");
	if (split_hostport(argv[optind + 1], &host, &port))
		return usage_error("'%s' is not HOST:PORT ([ADDR]:PORT for IPv6)",
				   argv[optind + 1]);
	file = argv[optind];

	in = open(file, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0 || (known = file_size(in, &st, &size)) < 0) {
		fprintf(stderr, "zcopy: %s: %s\n", file, strerror(errno));
		goto out;
	}
	if (known && offset > size) {
		fprintf(stderr,
			"zcopy: %s: offset %" PRIu64 " is past the end of the file (%" PRIu64
			" bytes)\n",
			file, offset, size);
		goto out;
	}
	/* Without --count: to the end of the file, where a read finds it. */
	if (!have_count)
		count = known ? size - offset : UINT64_MAX;

	/* Fail before connecting if the module is missing. */
	if (zc_device_fd() < 0) {
		fprintf(stderr, "zcopy: %s: %s (is the zcopy module loaded?)\n", ZCOPY_DEVICE_PATH,
			strerror(errno));
		goto out;
	}
	sock = tcp_connect(host, port);
	if (sock < 0)
		goto out;
	/* Unknown size (procfs, ...): nothing to show progress against. */
	if (show < 0)
		show = !quiet && !json && isatty(STDERR_FILENO) && count >= PROGRESS_MIN;
	if (count == UINT64_MAX)
		show = 0;

	t0 = now();
	off = (off_t)offset;
	while (sent < count) {
		struct zc_stats zs = { .readahead = readahead };
		size_t most = show ? PROGRESS_CALL : CALL_MAX;
		size_t want = count - sent < most ? (size_t)(count - sent) : most;
		ssize_t n = zc_sendfile_ex(sock, in, &off, want, flags, &zs);

		if (zs.stop == ZCOPY_STOP_DISK) {
			/* The readahead the call started is on its way. */
			struct timespec ms = { 0, 1000000 };

			disk_stops++;
			nanosleep(&ms, NULL);
		}
		if (n < 0) {
			if (errno == EINTR || (errno == EBUSY && zs.stop == ZCOPY_STOP_DISK))
				continue;
			if (show)
				fputc('\n', stderr);
			fprintf(stderr, "zcopy: sending %s to %s:%s after %" PRIu64 " bytes: %s\n",
				file, host, port, sent, strerror(errno));
			goto out;
		}
		if (n == 0)
			break; /* end of file */
		sent += (uint64_t)n;
		zc += zs.zc_bytes;
		if (show)
			progress(sent, count, t0, &last, 0);
	}
	if (show)
		progress(sent, count, t0, &last, 1);
	dt = now() - t0;
	closed = shutdown(sock, SHUT_WR);
	if (close(sock) < 0)
		closed = -1;
	sock = -1;
	if (closed < 0) {
		fprintf(stderr, "zcopy: closing the connection to %s:%s: %s\n", host, port,
			strerror(errno));
		goto out;
	}
	if (!known && !sent && past_end(in, offset)) {
		fprintf(stderr, "zcopy: %s: offset %" PRIu64 " is past the end of the file\n", file,
			offset);
		goto out;
	}
	if (have_count && sent < count) {
		fprintf(stderr, "zcopy: %s ended after %" PRIu64 " of %" PRIu64 " bytes\n", file,
			sent, count);
		goto out;
	}
	if (json) {
		printf("{\"file\": ");
		json_string(file);
		printf(", \"host\": ");
		json_string(host);
		printf(", \"port\": ");
		json_string(port);
		printf(", \"offset\": %" PRIu64 ", \"sent\": %" PRIu64 ", \"zc_bytes\": %" PRIu64
		       ", \"copied_bytes\": %" PRIu64
		       ", \"seconds\": %.6f, \"disk_stops\": %" PRIu64 "}\n",
		       offset, sent, zc, sent - zc, dt, disk_stops);
		quiet = 1;
	}
	if (!quiet)
		fprintf(stderr,
			"zcopy: sent %" PRIu64 " bytes in %.3f s (%.1f MiB/s), %" PRIu64
			" by reference (zero-copy), %" PRIu64 " copied\n",
			sent, dt, dt > 0 ? sent / dt / (1 << 20) : 0.0, zc, sent - zc);
	if (!quiet && (flags & ZCOPY_SEND_NODISKIO))
		fprintf(stderr, "zcopy: %" PRIu64 " calls stopped for the disk (nodiskio)\n",
			disk_stops);
	ret = 0;
out:
	if (sock >= 0)
		close(sock);
	if (in >= 0)
		close(in);
	return ret;
}

/* ---- stats, monitor, config: the generic netlink family -------------- */

/* A netlink call failed: say why, with what usually causes it. */
static int nl_failed(const char *what)
{
	const char *hint = "";

	if (errno == ENOENT)
		hint = " (is the zcopy module loaded?)";
	else if (errno == EPERM)
		hint = " (needs CAP_NET_ADMIN)";
	fprintf(stderr, "zcopy: %s: %s%s\n", what, strerror(errno), hint);
	return 1;
}

/* An errno's symbolic name ("EBADF") into @buf, or its number. */
static const char *errno_name(unsigned int err, char *buf, size_t len)
{
	const char *name = NULL;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	name = strerrorname_np((int)err);
#endif
	if (name)
		return name;
	snprintf(buf, len, "%u", err);
	return buf;
}

/* A counter's name; "stat_N" for one newer than this program. */
static const char *stat_name(unsigned int attr, char *buf, size_t len)
{
	const char *name = zc_stat_name(attr);

	if (name)
		return name;
	snprintf(buf, len, "stat_%u", attr);
	return buf;
}

/* A JSON string: names are plain, but a command name can hold anything. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void stats_text(const struct zc_counters *c)
{
	char buf[32];

	printf("zcopy statistics:\n");
	for (unsigned int i = 0; i < ZC_COUNTERS_MAX; i++)
		if (c->have & (1ULL << i))
			printf("     %s: %" PRIu64 "\n", stat_name(i, buf, sizeof(buf)),
			       c->value[i]);
	for (unsigned int e = 0; e <= ZC_ERRNO_MAX; e++)
		if (c->errors[e])
			printf("     errno_%s: %" PRIu64 "\n", errno_name(e, buf, sizeof(buf)),
			       c->errors[e]);
}

static void stats_json(const struct zc_counters *c)
{
	const char *sep = "";
	char buf[32];

	printf("{\"counters\": {");
	for (unsigned int i = 0; i < ZC_COUNTERS_MAX; i++) {
		if (!(c->have & (1ULL << i)))
			continue;
		printf("%s\"%s\": %" PRIu64, sep, stat_name(i, buf, sizeof(buf)), c->value[i]);
		sep = ", ";
	}
	printf("}, \"errors\": {");
	sep = "";
	for (unsigned int e = 0; e <= ZC_ERRNO_MAX; e++) {
		if (!c->errors[e])
			continue;
		printf("%s\"%s\": %" PRIu64, sep, errno_name(e, buf, sizeof(buf)), c->errors[e]);
		sep = ", ";
	}
	printf("}}\n");
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "reset", no_argument, NULL, 'r' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	int json = 0, reset = 0, opt;
	struct zc_counters c;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jrh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'r':
			reset = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv);
		}
	}
	if (optind != argc)
		return usage_error("stats takes no argument ('%s')", argv[optind]);
	if (reset)
		return zc_stats_reset() < 0 ? nl_failed("stats --reset") : 0;
	if (zc_stats_get(&c) < 0)
		return nl_failed("stats");
	if (json)
		stats_json(&c);
	else
		stats_text(&c);
	return 0;
}

/* An event's call by its ioctl's number; one newer than this program as such. */
static const char *call_name(uint32_t ioctl_nr, char *buf, size_t len)
{
	switch (ioctl_nr) {
	case _IOC_NR(ZCOPY_IOC_SENDFILE):
		return "sendfile";
	case _IOC_NR(ZCOPY_IOC_SENDV):
		return "sendv";
	}
	snprintf(buf, len, "ioctl_%u", ioctl_nr);
	return buf;
}

static void event_text(const struct zc_event *ev)
{
	char cbuf[32], ebuf[32];

	printf("%s pid %u tid %u comm %s sent %" PRIu64 "/%" PRIu64 " zc %" PRIu64
	       " copied %" PRIu64 " %.1fus %s",
	       call_name(ev->ioctl_nr, cbuf, sizeof(cbuf)), ev->pid, ev->tid, ev->comm, ev->sent,
	       ev->requested, ev->zc_bytes, ev->copied_bytes, ev->duration_ns / 1e3,
	       ev->err ? errno_name(ev->err, ebuf, sizeof(ebuf)) : "ok");
	if (ev->dropped)
		printf(" (%u events dropped)", ev->dropped);
	putchar('\n');
}

static void event_json(const struct zc_event *ev)
{
	char cbuf[32], ebuf[32];

	printf("{\"call\": \"%s\", \"pid\": %u, \"tid\": %u, \"comm\": ",
	       call_name(ev->ioctl_nr, cbuf, sizeof(cbuf)), ev->pid, ev->tid);
	json_string(ev->comm);
	printf(", \"flags\": %u, \"requested\": %" PRIu64 ", \"sent\": %" PRIu64
	       ", \"zc_bytes\": %" PRIu64 ", \"copied_bytes\": %" PRIu64
	       ", \"duration_ns\": %" PRIu64 ", \"errno\": %u, \"error\": ",
	       ev->flags, ev->requested, ev->sent, ev->zc_bytes, ev->copied_bytes, ev->duration_ns,
	       ev->err);
	if (ev->err)
		printf("\"%s\"", errno_name(ev->err, ebuf, sizeof(ebuf)));
	else
		printf("null");
	printf(", \"dropped\": %u}\n", ev->dropped);
}

struct monitor_out {
	int json;
	int limited; /* --count given: stop after @left more events */
	uint64_t left;
	int done;
};

static int print_event(const struct zc_event *ev, void *arg)
{
	struct monitor_out *out = arg;

	if (out->json)
		event_json(ev);
	else
		event_text(ev);
	if (out->limited && --out->left == 0)
		out->done = 1;
	return out->done; /* non-zero stops zc_monitor_read() */
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * SIGINT and SIGTERM are blocked but while waiting in ppoll(), which
 * unblocks them atomically: a signal then always ends the wait, never
 * slips in between the check of @stop and the wait.
 */
static int catch_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);
	return 0;
}

static int monitor_loop(struct zc_monitor *m, struct monitor_out *out, const sigset_t *waitmask)
{
	struct pollfd pfd = { .fd = zc_monitor_fd(m), .events = POLLIN };

	while (!stop) {
		int n = ppoll(&pfd, 1, NULL, waitmask);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "zcopy: monitor: poll: %s\n", strerror(errno));
			return 1;
		}
		n = zc_monitor_read(m, print_event, out);
		if (out->done)
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			/* The kernel dropped what did not fit; go on. */
			fprintf(stderr, "zcopy: monitor: events lost (receive buffer overflow)\n");
			continue;
		}
		if (n < 0 && errno != EINTR)
			return nl_failed("monitor");
	}
	return 0;
}

static int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "count", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct monitor_out out = { 0 };
	struct zc_monitor *m;
	sigset_t waitmask;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jc:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			out.json = 1;
			break;
		case 'c':
			if (parse_size(optarg, &out.left) || !out.left)
				return usage_error("bad count '%s'", optarg);
			out.limited = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv);
		}
	}
	if (optind != argc)
		return usage_error("monitor takes no argument ('%s')", argv[optind]);
	/* A line as soon as its event comes, also into a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (catch_signals(&waitmask) < 0) {
		fprintf(stderr, "zcopy: monitor: signals: %s\n", strerror(errno));
		return 1;
	}
	m = zc_monitor_open();
	if (!m)
		return nl_failed("monitor");
	ret = monitor_loop(m, &out, &waitmask);
	zc_monitor_close(m);
	return ret;
}

/* A setting: a plain decimal number, 1 to @max. */
static int parse_setting(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = { { "events-rate", required_argument, NULL, 'r' },
					      { "events-burst", required_argument, NULL, 'b' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct zc_config cfg = { 0 };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:b:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (parse_setting(optarg, ZCOPY_EVENTS_RATE_MAX, &cfg.events_rate))
				return usage_error("bad events rate '%s' (1 to 1000000)", optarg);
			break;
		case 'b':
			if (parse_setting(optarg, ZCOPY_EVENTS_BURST_MAX, &cfg.events_burst))
				return usage_error("bad events burst '%s' (1 to 1000000)", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv);
		}
	}
	if (optind != argc)
		return usage_error("config takes no argument ('%s')", argv[optind]);
	/* Zero fields are left as they are: set only what was given. */
	if (cfg.events_rate || cfg.events_burst)
		return zc_config_set(&cfg) < 0 ? nl_failed("config") : 0;
	if (zc_config_get(&cfg) < 0)
		return nl_failed("config");
	printf("events_rate: %" PRIu32 "\nevents_burst: %" PRIu32 "\n", cfg.events_rate,
	       cfg.events_burst);
	return 0;
}

/* ---- run: a program's sendfile(2) through zcopy ------------------------ */

/*
 * The interposer: $ZCOPY_PRELOAD_LIB, else ../lib/libzcopy-preload.so next
 * to this program (the build tree's build/bin and build/lib, or PREFIX/bin
 * and PREFIX/lib), else the bare name, for the loader to find in its
 * search path (where a package installs it).
 */
static const char *preload_lib(char *buf, size_t size)
{
	const char *env = getenv("ZCOPY_PRELOAD_LIB");
	char exe[4096], *slash, *real;
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, size, "%s/../lib/libzcopy-preload.so", exe);
			real = realpath(buf, NULL);
			if (real && strlen(real) < size)
				strcpy(buf, real);
			free(real);
			/* LD_PRELOAD splits at spaces and colons. */
			if (!access(buf, R_OK) && !strpbrk(buf, " :"))
				return buf;
		}
	}
	return "libzcopy-preload.so";
}

static volatile sig_atomic_t run_child;

static void run_forward(int sig)
{
	if (run_child > 0)
		kill(run_child, sig);
}

/* The sums of the lines the interposer appended, one per process. */
struct run_counts {
	unsigned long long procs, calls, bytes, zc, copied, errors, fb_calls, fb_bytes;
};

static int run_read_stats(const char *path, struct run_counts *c)
{
	unsigned long long v[7];
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line,
			   "pid %*d calls %llu bytes %llu zc %llu copied %llu errors %llu "
			   "fallback_calls %llu fallback_bytes %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
			continue;
		c->procs++;
		c->calls += v[0];
		c->bytes += v[1];
		c->zc += v[2];
		c->copied += v[3];
		c->errors += v[4];
		c->fb_calls += v[5];
		c->fb_bytes += v[6];
	}
	fclose(f);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "stats", no_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
	char lib[4200], stats[64], *pre;
	const char *old, *tmp, *libp;
	struct run_counts c = { 0 };
	struct sigaction sa = { .sa_handler = run_forward };
	int opt, want_stats = 0, fd, status;
	size_t i;
	pid_t pid;

	optind = 1;
	/* "+": CMD's own options are CMD's, even without "--". */
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			want_stats = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return bad_option(argv);
		}
	}
	if (optind >= argc)
		return usage_error("%s", "run needs a command");

	libp = preload_lib(lib, sizeof(lib));
	old = getenv("LD_PRELOAD");
	if (old && *old) {
		if (asprintf(&pre, "%s:%s", libp, old) < 0)
			return 1;
	} else {
		pre = (char *)libp;
	}
	if (setenv("LD_PRELOAD", pre, 1) < 0) {
		perror("zcopy: run: setenv");
		return 1;
	}
	if (!want_stats) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "zcopy: run: %s: %s\n", argv[optind], strerror(errno));
		return errno == ENOENT ? 127 : 126;
	}

	tmp = getenv("TMPDIR");
	snprintf(stats, sizeof(stats), "%s/zcopy-run-XXXXXX",
		 tmp && *tmp && strlen(tmp) < sizeof(stats) - 20 ? tmp : "/tmp");
	fd = mkstemp(stats);
	if (fd < 0) {
		fprintf(stderr, "zcopy: run: %s: %s\n", stats, strerror(errno));
		return 1;
	}
	close(fd);
	setenv("ZCOPY_PRELOAD_STATS", stats, 1);
	/* Handlers before fork: a signal in between reaches the child. */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	pid = fork();
	if (pid < 0) {
		perror("zcopy: run: fork");
		unlink(stats);
		return 1;
	}
	if (!pid) {
		sa.sa_handler = SIG_DFL;
		for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
			sigaction(fwd[i], &sa, NULL);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "zcopy: run: %s: %s\n", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	run_child = pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("zcopy: run: waitpid");
			unlink(stats);
			return 1;
		}
	}
	run_read_stats(stats, &c);
	unlink(stats);
	fprintf(stderr,
		"zcopy run: through zcopy: %llu sendfile calls, %llu bytes (%llu by reference, "
		"%llu copied), %llu failed\n"
		"zcopy run: fell back to sendfile(2): %llu calls, %llu bytes\n"
		"zcopy run: processes that reported: %llu\n",
		c.calls, c.bytes, c.zc, c.copied, c.errors, c.fb_calls, c.fb_bytes, c.procs);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	opterr = 0;
	if (argc < 2)
		return usage_error("%s", "no command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("zcopy %s (libzcopy %s)\n", ZCOPY_CLI_VERSION, zc_version());
		return 0;
	}
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(argv[1], "monitor"))
		return cmd_monitor(argc - 1, argv + 1);
	if (!strcmp(argv[1], "config"))
		return cmd_config(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}
