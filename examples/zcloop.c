/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcloop - an event loop that never waits for the disk: ZCOPY_SEND_NODISKIO.
 *
 *   zcloop [-p PORT] [-w WORKERS] [-r READAHEAD] [-m nodiskio|sendfile|pool] ROOT
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
 * -m picks how the loop sends, for the benchmark (make bench, "cold file")
 * to compare the three ways with one program:
 *  nodiskio  the above (the default);
 *  sendfile  sendfile(2) in the loop, as most event-loop servers: a file
 *            that is not cached blocks the loop, and every client, on disk;
 *  pool      every request goes to the workers (nginx's "aio threads"),
 *            which send it with the same blocking zc_sendv(): nothing
 *            blocks the loop, but each request pays a thread hand-off.
 *
 * Deliberately small: GET only, keep-alive (until the client closes or
 * asks "Connection: close"), no pipelining, names without "/" or "..", no
 * error pages but 404. Files read through ->splice_read (procfs, FUSE,
 * NFS...) get EOPNOTSUPP from NODISKIO: those go to the pool whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zcopy.h>

struct conn {
	int sock, fd, keep;
	char req[2048];
	size_t req_len;
	char hdr[256];
	struct zcopy_seg segs[2], *cur;
	unsigned int nr;
};

enum { M_NODISKIO, M_SENDFILE, M_POOL };

/* The pool's queue: connections whose remainder needs the disk. */
static struct conn **queue;
static size_t q_head, q_tail, q_cap = 1024;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static const char *root;
static uint64_t ra_hint;
static int ep, mode = M_NODISKIO;

static void conn_free(struct conn *c)
{
	close(c->sock);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/*
 * A response went out whole: close the connection, or keep it and wait
 * for the next request (@op: EPOLL_CTL_MOD in the loop, EPOLL_CTL_ADD from
 * a worker, which got the connection out of the epoll set).
 */
static void conn_done(struct conn *c, int op)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (!c->keep) {
		conn_free(c);
		return;
	}
	close(c->fd);
	c->fd = -1;
	c->req_len = 0;
	c->nr = 0;
	/* After this the loop owns it again: touch nothing more. */
	if (epoll_ctl(ep, op, c->sock, &ev))
		conn_free(c);
}

/* A worker: the blocking call, for what the loop could not send at once. */
static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct conn *c;
		int fl;

		pthread_mutex_lock(&q_lock);
		while (q_head == q_tail)
			pthread_cond_wait(&q_cond, &q_lock);
		c = queue[q_head++ % q_cap];
		pthread_mutex_unlock(&q_lock);

		fl = fcntl(c->sock, F_GETFL);
		fcntl(c->sock, F_SETFL, fl & ~O_NONBLOCK);
		while (c->nr) {
			ssize_t n = zc_sendv(c->sock, c->cur, c->nr, ZCOPY_SEND_NOSIGNAL, NULL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || zc_sendv_advance(&c->cur, &c->nr, n))
				break;
		}
		fcntl(c->sock, F_SETFL, fl);
		if (c->nr)
			conn_free(c); /* an error, or the file ended early */
		else
			conn_done(c, EPOLL_CTL_ADD);
	}
	return NULL;
}

static void to_pool(struct conn *c)
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

/* -m sendfile: the first segment, with send(2) or sendfile(2). */
static ssize_t send_classic(struct conn *c)
{
	struct zcopy_seg *s = c->cur;
	off_t off = s->offset;

	if (s->type == ZCOPY_SEG_MEM)
		return send(c->sock, (const void *)(uintptr_t)s->addr, s->len,
			    MSG_NOSIGNAL | (c->nr > 1 ? MSG_MORE : 0));
	return sendfile(c->sock, s->fd, &off, s->len); /* blocks here on disk */
}

/* Send in the loop what can go now; 1: done, 0: pending, -1: failed. */
static int pump(struct conn *c)
{
	while (c->nr) {
		struct zc_stats st = { .readahead = ra_hint };
		ssize_t n;

		if (mode == M_SENDFILE) {
			n = send_classic(c);
			st.stop = n < 0 && errno == EAGAIN ? ZCOPY_STOP_SOCKET : 0;
		} else {
			n = zc_sendv(c->sock, c->cur, c->nr,
				     ZCOPY_SEND_NOSIGNAL | ZCOPY_SEND_DONTWAIT |
					     ZCOPY_SEND_NODISKIO | ZC_SEND_EXT,
				     &st);
		}
		if (n > 0 && zc_sendv_advance(&c->cur, &c->nr, n))
			return 1;
		if (n < 0 && errno == EINTR)
			continue;
		if (st.stop == ZCOPY_STOP_DISK || (n < 0 && errno == EOPNOTSUPP)) {
			to_pool(c); /* the cold remainder: blocking, elsewhere */
			return 0;
		}
		if (st.stop == ZCOPY_STOP_SOCKET) {
			struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

			epoll_ctl(ep, EPOLL_CTL_MOD, c->sock, &ev);
			return 0;
		}
		if (n <= 0)
			return -1; /* an error, or the file ended early */
	}
	return 1;
}

/* After pump(): a finished response lets the connection go on. */
static void pumped(struct conn *c, int r)
{
	if (r > 0)
		conn_done(c, EPOLL_CTL_MOD);
	else if (r < 0)
		conn_free(c);
}

/* A whole request head arrived: open the file, make the response. */
static int respond(struct conn *c)
{
	char name[256];
	struct stat st;
	int dirfd, len;

	if (sscanf(c->req, "GET /%255[^ ] HTTP/1.", name) != 1 || strchr(name, '/') ||
	    strstr(name, ".."))
		return -1;
	c->keep = !strstr(c->req, "HTTP/1.0") && !strstr(c->req, "Connection: close");
	dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c->fd = dirfd < 0 ? -1 : openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (dirfd >= 0)
		close(dirfd);
	if (c->fd < 0 || fstat(c->fd, &st) || !S_ISREG(st.st_mode)) {
		static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					 "Connection: close\r\n\r\n";

		c->keep = 0;
		c->segs[0] = zc_seg_mem(nf, sizeof(nf) - 1);
		c->nr = 1;
	} else {
		len = snprintf(c->hdr, sizeof(c->hdr),
			       "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nConnection: %s\r\n\r\n",
			       (long long)st.st_size, c->keep ? "keep-alive" : "close");
		c->segs[0] = zc_seg_mem(c->hdr, len);
		c->segs[1] = zc_seg_file(c->fd, 0, st.st_size);
		c->nr = 2;
	}
	c->cur = c->segs;
	if (mode == M_POOL) { /* every response: a hand-off to a worker */
		to_pool(c);
		return 0;
	}
	return pump(c);
}

int main(int argc, char **argv)
{
	int port = 8080, workers = 4, one = 1, opt, lfd, i;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN };

	while ((opt = getopt(argc, argv, "p:w:r:m:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'w')
			workers = atoi(optarg);
		else if (opt == 'r')
			ra_hint = strtoull(optarg, NULL, 0);
		else if (opt == 'm' && !strcmp(optarg, "nodiskio"))
			mode = M_NODISKIO;
		else if (opt == 'm' && !strcmp(optarg, "sendfile"))
			mode = M_SENDFILE;
		else if (opt == 'm' && !strcmp(optarg, "pool"))
			mode = M_POOL;
		else
			workers = 0; /* the usage below */
	}
	if (optind != argc - 1 || workers < 1) {
		fprintf(stderr, "usage: zcloop [-p PORT] [-w WORKERS] [-r READAHEAD]"
				" [-m nodiskio|sendfile|pool] ROOT\n");
		return 2;
	}
	root = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	queue = calloc(q_cap, sizeof(*queue));
	ep = epoll_create1(EPOLL_CLOEXEC);
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

					setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					c = calloc(1, sizeof(*c));
					c->sock = s;
					c->fd = -1;
					cev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, s, &cev);
				}
				continue;
			}
			if (c->nr) { /* EPOLLOUT: the socket has room again */
				pumped(c, pump(c));
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
			pumped(c, respond(c));
		}
	}
}
