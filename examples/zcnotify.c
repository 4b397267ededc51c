/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcnotify - rewrite a file range the moment the kernel is done with it.
 *
 * A log-structured store recycles a segment as soon as what it sent from
 * it has left; with sendfile(2) it cannot know when that is. This program
 * sends a file in chunks over TCP with zc_sendfile_notify(), one cookie
 * per chunk, and waits in one epoll loop for the socket and for the
 * notices (zc_device_fd()). Each notice says a chunk's pages are no
 * longer referenced by any skb: the program then overwrites that chunk
 * in the file at once. A receiver (a child process, which reads slowly)
 * checks that every byte it got is the chunk's old content: no rewrite
 * reached the wire.
 *
 *   zcnotify [FILE]    (default: a 4 MiB file in /tmp)
 *
 * Exit status 0 when the receiver got exactly the old bytes and every
 * chunk's notice arrived once; 1 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zcopy.h>

#define CHUNK	(256 * 1024)
#define NCHUNKS 16

/* The byte at @pos of generation @gen of the file. */
static unsigned char byte_at(uint64_t pos, int gen)
{
	return (unsigned char)(pos * 31 + (pos >> 9) + gen * 101);
}

static void fill(unsigned char *buf, uint64_t pos, size_t len, int gen)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = byte_at(pos + i, gen);
}

/* The receiver: reads slowly, checks every byte is generation 0. */
static int receive(int fd)
{
	static unsigned char buf[64 * 1024];
	uint64_t pos = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != byte_at(pos + i, 0)) {
				fprintf(stderr, "zcnotify: byte %llu is not the old one\n",
					(unsigned long long)(pos + i));
				return 1;
			}
		pos += n;
		usleep(2000); /* a slow reader: the notices wait for its window */
	}
	if (pos != (uint64_t)CHUNK * NCHUNKS) {
		fprintf(stderr, "zcnotify: received %llu bytes\n", (unsigned long long)pos);
		return 1;
	}
	printf("zcnotify: receiver got %llu bytes, all of them the old ones\n",
	       (unsigned long long)pos);
	fflush(stdout); /* the child leaves by _exit() */
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/zcnotify.dat";
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	static unsigned char buf[CHUNK];
	int seen[NCHUNKS] = { 0 }, done = 0, next = 0, status;
	int fd, l, s, rx, ep;
	struct epoll_event ev;
	pid_t child;

	/* The file, generation 0. */
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < NCHUNKS; i++) {
		fill(buf, (uint64_t)i * CHUNK, CHUNK, 0);
		if (pwrite(fd, buf, CHUNK, (off_t)i * CHUNK) != CHUNK) {
			perror("pwrite");
			return 1;
		}
	}

	/* A loopback connection to a slow receiver. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, alen) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &alen)) {
		perror("listen");
		return 1;
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, alen)) {
		perror("connect");
		return 1;
	}
	rx = accept(l, NULL, NULL);
	child = fork();
	if (child == 0) {
		close(s);
		_exit(receive(rx));
	}
	close(rx);
	close(l);

	/* One loop for the socket (room to send) and the notices. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || zc_device_fd() < 0) {
		perror("epoll, /dev/zcopy");
		return 1;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = zc_device_fd() };
	epoll_ctl(ep, EPOLL_CTL_ADD, zc_device_fd(), &ev);
	while (done < NCHUNKS) {
		struct zcopy_notice n[8];
		ssize_t got;

		if (next < NCHUNKS) {
			off_t off = (off_t)next * CHUNK;
			ssize_t r = zc_sendfile_notify(s, fd, &off, CHUNK, ZCOPY_SEND_NOSIGNAL,
						       (uint64_t)next, NULL);

			if (r != CHUNK) {
				fprintf(stderr, "zcnotify: send of chunk %d: %zd (%s)\n", next, r,
					strerror(errno));
				return 1;
			}
			next++;
			continue;
		}
		if (epoll_wait(ep, &ev, 1, 10000) <= 0) {
			fprintf(stderr, "zcnotify: no notice for 10 s\n");
			return 1;
		}
		while ((got = zc_notices_read(n, 8)) > 0) {
			for (ssize_t i = 0; i < got; i++) {
				uint64_t c = n[i].cookie;

				if (c >= NCHUNKS || seen[c]++) {
					fprintf(stderr, "zcnotify: unexpected notice %llu\n",
						(unsigned long long)c);
					return 1;
				}
				/* Free: overwrite the chunk with generation 1. */
				fill(buf, c * CHUNK, CHUNK, 1);
				if (pwrite(fd, buf, CHUNK, (off_t)(c * CHUNK)) != CHUNK) {
					perror("pwrite");
					return 1;
				}
				done++;
				printf("zcnotify: chunk %llu released (%s), rewritten\n",
				       (unsigned long long)c,
				       n[i].flags & ZCOPY_NOTICE_COPIED ? "copied on delivery"
									: "zero-copy");
			}
		}
	}
	close(s);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		return 1;
	printf("zcnotify: %d notices, one per chunk; every chunk rewritten as soon as it was "
	       "released\n",
	       NCHUNKS);
	close(fd);
	if (argc < 2)
		unlink(path);
	return 0;
}
