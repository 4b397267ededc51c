/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcopy - command-line front end of libzcopy.
 *
 *   zcopy send [--offset N] [--count N] FILE HOST:PORT
 *
 * Connects to HOST:PORT over TCP (IPv4, IPv6 as [addr]:port, or a name)
 * and sends FILE, or a range of it, through /dev/zcopy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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
	"Usage: zcopy send [--offset N] [--count N] [--quiet] FILE HOST:PORT\n"
	"       zcopy --help | --version\n"
	"\n"
	"Send FILE (or COUNT bytes of it from OFFSET) to a TCP peer through\n"
	"/dev/zcopy: the file's page-cache pages go to the socket by reference,\n"
	"with no copy of the data by the CPU.\n"
	"\n"
	"  HOST:PORT     an IPv4 address, [IPv6 address] or host name, and a port\n"
	"  --offset N    start N bytes into the file (default 0)\n"
	"  --count N     send N bytes (default: to end of file); a file that\n"
	"                ends first is an error, as is an offset past its end\n"
	"  --quiet       print nothing on success\n"
	"  N takes a K, M or G suffix (powers of 1024).\n"
	"\n"
	"Exit status: 0 sent, 1 failed, 2 usage error.\n"
	"Needs the zcopy module: /dev/zcopy.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "zcopy: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'zcopy --help'.\n");
	return EXIT_USAGE;
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
		fprintf(stderr, "zcopy: connect to %s port %s: %s\n", host, port, strerror(saved));
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

static int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = { { "offset", required_argument, NULL, 'o' },
					      { "count", required_argument, NULL, 'c' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	uint64_t offset = 0, count = 0, size = 0, sent = 0, zc = 0;
	int have_count = 0, quiet = 0, opt, known, closed, in = -1, sock = -1, ret = 1;
	const char *file;
	char *host, *port;
	struct stat st;
	off_t off;
	double t0, dt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:c:qh", opts, NULL)) != -1) {
		switch (opt) {
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
			return usage_error("%s", "bad option");
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

	t0 = now();
	off = (off_t)offset;
	while (sent < count) {
		struct zc_stats zs;
		size_t want = count - sent < CALL_MAX ? (size_t)(count - sent) : CALL_MAX;
		ssize_t n = zc_sendfile_ex(sock, in, &off, want, ZCOPY_SEND_NOSIGNAL, &zs);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "zcopy: send after %" PRIu64 " bytes: %s\n", sent,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break; /* end of file */
		sent += (uint64_t)n;
		zc += zs.zc_bytes;
	}
	dt = now() - t0;
	closed = shutdown(sock, SHUT_WR);
	if (close(sock) < 0)
		closed = -1;
	sock = -1;
	if (closed < 0) {
		fprintf(stderr, "zcopy: closing the connection: %s\n", strerror(errno));
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
	if (!quiet)
		fprintf(stderr,
			"zcopy: sent %" PRIu64 " bytes in %.3f s (%.1f MiB/s), %" PRIu64
			" by reference (zero-copy), %" PRIu64 " copied\n",
			sent, dt, dt > 0 ? sent / dt / (1 << 20) : 0.0, zc, sent - zc);
	ret = 0;
out:
	if (sock >= 0)
		close(sock);
	if (in >= 0)
		close(in);
	return ret;
}

int main(int argc, char **argv)
{
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
	return usage_error("unknown command '%s'", argv[1]);
}
