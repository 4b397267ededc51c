// SPDX-License-Identifier: GPL-2.0
/*
 * hello.c - a third-party program: it knows libzcopy only through
 * pkg-config (<zcopy.h> and -lzcopy from an installed tree), as a user's
 * program would. tests/pkg/build.sh builds it shared and static against
 * `make install DESTDIR=...`; the guest (run.sh) runs both.
 *
 *   hello --version             print libzcopy's version (needs no module)
 *   hello FILE IPV4-ADDR PORT   send FILE with zc_sendfile(), say how much,
 *                               and the namespace's bytes_zc counter (the
 *                               netlink half, so libmnl too)
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/zcopy_netlink.h>
#include <zcopy.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct zc_counters c;
	long long total = 0;
	off_t off = 0;
	ssize_t n;
	int fd, s;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("%s\n", zc_version());
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: hello --version | hello FILE IPV4-ADDR PORT\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hello: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "hello: %s: not an IPv4 address\n", argv[2]);
		return 2;
	}
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hello: %s:%s: %s\n", argv[2], argv[3], strerror(errno));
		return 1;
	}
	/* sendfile(2)'s loop: a short count is not an error, 0 is the end. */
	while ((n = zc_sendfile(s, fd, &off, 1 << 30)) > 0)
		total += n;
	if (n < 0) {
		fprintf(stderr, "hello: zc_sendfile %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (zc_stats_get(&c) < 0) {
		fprintf(stderr, "hello: zc_stats_get: %s\n", strerror(errno));
		return 1;
	}
	printf("hello: libzcopy %s sent %lld bytes; %s: %llu\n", zc_version(), total,
	       zc_stat_name(ZCOPY_A_STATS_BYTES_ZC),
	       (unsigned long long)c.value[ZCOPY_A_STATS_BYTES_ZC]);
	close(s);
	close(fd);
	return 0;
}
