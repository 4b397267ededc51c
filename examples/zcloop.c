/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcloop - an event loop that never waits for the disk: ZCOPY_SEND_NODISKIO.
 *
 *   zcloop [-p PORT] [-w WORKERS] [-r READAHEAD] ROOT
 *
 * What it shows: the pattern FreeBSD's SF_NODISKIO made possible, on Linux.
 * One thread runs an epoll loop over every connection. It answers each
 * request ("GET /NAME HTTP/1.x", then the headers) with one zc_sendv() of
 * the header and the file, with ZCOPY_SEND_NODISKIO and ZCOPY_SEND_DONTWAIT:
 * the call sends what the page cache holds and never waits, neither for
 * the disk nor for the socket. Then:
 *  - stop ZCOPY_STOP_SOCKET (EAGAIN, or a short send): wait for EPOLLOUT
 *    and go on, in the loop, as any non-blocking server;
 *  - stop ZCOPY_STOP_DISK (EBUSY, or a short send): the rest needs the
 *    disk. The loop hands only that remainder to a small pool of worker
 *    threads, which send it with the blocking call (the readahead the
 *    NODISKIO call started is already on its way), and goes on serving
 *    everyone else. Hot files never leave the loop: no thread hand-off per
 *    request, as a pool for every request (nginx's "aio threads") pays.
 *
 * Deliberately small: GET only, one response per connection (then close),
 * names without "/" or "..", no error pages but 404. Files read through
 * ->splice_read (procfs, FUSE, NFS...) get EOPNOTSUPP from NODISKIO: those
 * go to the pool whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zcopy.h>

struct conn {
	int sock, fd;
	char req[2048];
	size_t req_len;
	char hdr[256];
	struct zcopy_seg segs[2], *cur;
	unsigned int nr;
};

/* The pool's queue: connections whose remainder needs the disk. */
static struct conn **queue;
static size_t q_head, q_tail, q_cap = 1024;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static const char *root;
static uint64_t ra_hint;

static void conn_free(struct conn *c)
{
	close(c->sock);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* A worker: the blocking call, for what the loop could not send at once. */
static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct conn *c;

		pthread_mutex_lock(&q_lock);
		while (q_head == q_tail)
			pthread_cond_wait(&q_cond, &q_lock);
		c = queue[q_head++ % q_cap];
		pthread_mutex_unlock(&q_lock);

		fcntl(c->sock, F_SETFL, fcntl(c->sock, F_GETFL) & ~O_NONBLOCK);
		while (c->nr) {
			ssize_t n = zc_sendv(c->sock, c->cur, c->nr, ZCOPY_SEND_NOSIGNAL, NULL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || zc_sendv_advance(&c->cur, &c->nr, n))
				break;
		}
		conn_free(c);
	}
	return NULL;
}

static void to_pool(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->sock, NULL);
	pthread_mutex_lock(&q_lock);
	if (q_tail - q_head == q_cap) { /* full: refuse, rather than block the loop */
		pthread_mutex_unlock(&q_lock);
		conn_free(c);
		return;
	}
	queue[q_tail++ % q_cap] = c;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

/* Send in the loop what can go now; 1: done, 0: keep the connection. */
static int pump(int ep, struct conn *c)
{
	while (c->nr) {
		struct zc_stats st = { .readahead = ra_hint };
		ssize_t n = zc_sendv(c->sock, c->cur, c->nr,
				     ZCOPY_SEND_NOSIGNAL | ZCOPY_SEND_DONTWAIT |
					     ZCOPY_SEND_NODISKIO | ZC_SEND_EXT,
				     &st);

		if (n > 0 && zc_sendv_advance(&c->cur, &c->nr, n))
			return 1;
		if (n < 0 && errno == EINTR)
			continue;
		if (st.stop == ZCOPY_STOP_DISK || (n < 0 && errno == EOPNOTSUPP)) {
			to_pool(ep, c); /* the cold remainder: blocking, elsewhere */
			return 0;
		}
		if (st.stop == ZCOPY_STOP_SOCKET) {
			struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

			epoll_ctl(ep, EPOLL_CTL_MOD, c->sock, &ev);
			return 0;
		}
		if (n <= 0)
			return 1; /* an error, or the file ended early */
	}
	return 1;
}

/* A whole request head arrived: open the file, make the response. */
static int respond(int ep, struct conn *c)
{
	char name[256];
	struct stat st;
	int dirfd, len;

	if (sscanf(c->req, "GET /%255[^ ] HTTP/1.", name) != 1 || strchr(name, '/') ||
	    strstr(name, ".."))
		return 1;
	dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c->fd = dirfd < 0 ? -1 : openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (dirfd >= 0)
		close(dirfd);
	if (c->fd < 0 || fstat(c->fd, &st) || !S_ISREG(st.st_mode)) {
		static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					 "Connection: close\r\n\r\n";

		c->segs[0] = zc_seg_mem(nf, sizeof(nf) - 1);
		c->nr = 1;
	} else {
		len = snprintf(
			c->hdr, sizeof(c->hdr),
			"HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
			(long long)st.st_size);
		c->segs[0] = zc_seg_mem(c->hdr, len);
		c->segs[1] = zc_seg_file(c->fd, 0, st.st_size);
		c->nr = 2;
	}
	c->cur = c->segs;
	return pump(ep, c);
}

int main(int argc, char **argv)
{
	int port = 8080, workers = 4, one = 1, opt, lfd, ep, i;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN };

	while ((opt = getopt(argc, argv, "p:w:r:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'w')
			workers = atoi(optarg);
		else if (opt == 'r')
			ra_hint = strtoull(optarg, NULL, 0);
		else
			return 2;
	}
	if (optind != argc - 1 || workers < 1) {
		fprintf(stderr, "usage: zcloop [-p PORT] [-w WORKERS] [-r READAHEAD] ROOT\n");
		return 2;
	}
	root = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	queue = calloc(q_cap, sizeof(*queue));
	for (i = 0; i < workers; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, NULL))
			return 1;
	}
	a.sin_port = htons(port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (void *)&a, sizeof(a)) || listen(lfd, 512)) {
		perror("zcloop: listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = NULL; /* the listener */
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);

		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;
			int s;

			if (!c) {
				while ((s = accept4(lfd, NULL, NULL,
						    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event cev = { .events = EPOLLIN };

					c = calloc(1, sizeof(*c));
					c->sock = s;
					c->fd = -1;
					cev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, s, &cev);
				}
				continue;
			}
			if (c->nr) { /* EPOLLOUT: the socket has room again */
				if (pump(ep, c))
					conn_free(c);
				continue;
			}
			r = read(c->sock, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				conn_free(c);
				continue;
			}
			c->req_len += r;
			c->req[c->req_len] = 0;
			if (!strstr(c->req, "\r\n\r\n") && c->req_len < sizeof(c->req) - 1)
				continue;
			if (respond(ep, c))
				conn_free(c);
		}
	}
}
