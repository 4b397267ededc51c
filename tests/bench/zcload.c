/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcload - the load of make bench's "cold file" row: hot requests over
 * keep-alive connections, and one cold fetch beside them.
 *
 *   zcload [-p PORT] [-c CONNS] [-n FILES] [-w WARMUP] [-d SECONDS]
 *          [-k COLD] [-l LABEL] [-t]
 *
 * CONNS (8) keep-alive HTTP/1.1 connections to 127.0.0.1:PORT, driven by
 * one epoll thread, each asking for hot0.bin .. hot{FILES-1}.bin (64) in
 * turn, the next request as soon as a response is in (a closed loop, as
 * clients that wait for each answer). They run WARMUP seconds (1)
 * unmeasured, then SECONDS (10) measured: every hot request that starts
 * in that window counts, with its latency from the request's write to the
 * response's last byte (those still in flight at the window's end are
 * waited for, so a server that stalls shows the whole stall). With -k,
 * another thread fetches /COLD once, over its own connection, asking for
 * it as the window opens. Prints one line:
 *
 *   zcload LABEL COLD REQUESTS RPS P50_US P99_US MAX_US COLD_MIB ERRORS
 *
 * COLD is "cold" or "none"; COLD_MIB the cold fetch's MiB received in the
 * window (it must still be running at its end to load the whole window).
 * Exits non-zero on any error (a bad response, a refused connection).
 *
 * -t: the hot responses' bodies are dropped unread (recv(2) with
 * MSG_TRUNC, which TCP discards without copying), so that with large
 * files the clients' copy does not hide the server's cost (the server
 * row of make bench).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct hconn {
	int sock;
	uint64_t start;	  /* this request's write; 0: none in flight */
	size_t got, want; /* response bytes in, and the total (0: head not parsed) */
	char head[1024];
};

static int port = 8080, nfiles = 64, trunc_body;
static volatile int stopping;
static uint64_t cold_win_start, cold_win_end, cold_bytes_win;
static int cold_err;
static char cold_req[512];

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (void *)&a, sizeof(a))) {
		perror("zcload: connect");
		exit(1);
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return s;
}

static int write_all(int s, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(s, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* The cold client: one GET, read to the end (or until told to stop). */
static void *cold_main(void *arg)
{
	static char buf[256 * 1024];
	int s = *(int *)arg;
	struct timespec at = { cold_win_start / 1000000000u, cold_win_start % 1000000000u };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
	if (write_all(s, cold_req, strlen(cold_req))) {
		cold_err = 1;
		return NULL;
	}
	for (;;) {
		ssize_t n = read(s, buf, sizeof(buf));
		uint64_t t = now_ns();

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && !stopping)
				cold_err = 1;
			break;
		}
		if (t >= cold_win_start && t < cold_win_end)
			cold_bytes_win += n;
	}
	return NULL;
}

static int send_req(struct hconn *c, unsigned int k)
{
	char req[128];
	int len = snprintf(req, sizeof(req), "GET /hot%u.bin HTTP/1.1\r\nHost: zc\r\n\r\n",
			   k % nfiles);

	c->got = c->want = 0;
	c->start = now_ns();
	return write_all(c->sock, req, len);
}

/* Response bytes in; 1: the response is complete, -1: a bad one. */
static int recv_resp(struct hconn *c)
{
	char buf[16384];
	ssize_t n;
	char *end, *cl;

	if (trunc_body && c->want) {
		size_t left = c->want - c->got;

		n = recv(c->sock, NULL, left < (1u << 30) ? left : (1u << 30), MSG_TRUNC);
	} else {
		n = read(c->sock, buf, sizeof(buf));
	}
	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -1;
	if (!c->want) { /* still in the head: keep its first bytes */
		size_t keep = c->got < sizeof(c->head) - 1 ? sizeof(c->head) - 1 - c->got : 0;

		memcpy(c->head + c->got, buf, (size_t)n < keep ? (size_t)n : keep);
		c->head[c->got + ((size_t)n < keep ? (size_t)n : keep)] = 0;
		end = strstr(c->head, "\r\n\r\n");
		if (end) {
			cl = strstr(c->head, "Content-Length: ");
			if (strncmp(c->head, "HTTP/1.1 200 ", 13) || !cl || cl > end)
				return -1;
			c->want = end + 4 - c->head + strtoull(cl + 16, NULL, 10);
		} else if (c->got + n >= sizeof(c->head) - 1) {
			return -1;
		}
	}
	c->got += n;
	if (c->want && c->got > c->want)
		return -1; /* more than asked for */
	return c->want && c->got == c->want;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int conns = 8, opt, ep, errors = 0, cold_sock = -1, i;
	double warm = 1, secs = 10;
	const char *cold = NULL, *label = "-";
	uint64_t t0, ws, we, *lat, n_lat = 0, cap = 1 << 16;
	unsigned int next = 0;
	struct hconn *hc;
	pthread_t ct;

	while ((opt = getopt(argc, argv, "p:c:n:w:d:k:l:t")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'c')
			conns = atoi(optarg);
		else if (opt == 'n')
			nfiles = atoi(optarg);
		else if (opt == 'w')
			warm = atof(optarg);
		else if (opt == 'd')
			secs = atof(optarg);
		else if (opt == 'k')
			cold = optarg;
		else if (opt == 'l')
			label = optarg;
		else if (opt == 't')
			trunc_body = 1;
		else
			conns = 0;
	}
	if (optind != argc || conns < 1 || nfiles < 1 || secs <= 0 || warm < 0) {
		fprintf(stderr, "usage: zcload [-p PORT] [-c CONNS] [-n FILES] [-w WARMUP]"
				" [-d SECONDS] [-k COLD] [-l LABEL] [-t]\n");
		return 2;
	}
	lat = malloc(cap * sizeof(*lat));
	hc = calloc(conns, sizeof(*hc));
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < conns; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &hc[i] };

		hc[i].sock = dial();
		epoll_ctl(ep, EPOLL_CTL_ADD, hc[i].sock, &ev);
	}
	t0 = now_ns();
	ws = t0 + (uint64_t)(warm * 1e9);
	we = ws + (uint64_t)(secs * 1e9);
	cold_win_start = ws;
	cold_win_end = we;
	if (cold) {
		snprintf(cold_req, sizeof(cold_req),
			 "GET /%s HTTP/1.1\r\nHost: zc\r\nConnection: close\r\n\r\n", cold);
		cold_sock = dial();
		if (pthread_create(&ct, NULL, cold_main, &cold_sock)) {
			perror("zcload: cold client");
			return 1;
		}
	}
	for (i = 0; i < conns; i++)
		if (send_req(&hc[i], next++))
			errors++;
	for (;;) {
		struct epoll_event evs[16];
		uint64_t t = now_ns();
		int n, inflight = 0;

		for (i = 0; i < conns; i++)
			inflight += hc[i].start != 0;
		if (t >= we && !inflight)
			break;
		if (t >= we + 60000000000ull) { /* a minute past the window: give up */
			fprintf(stderr, "zcload: %d requests never answered\n", inflight);
			errors += inflight;
			break;
		}
		n = epoll_wait(ep, evs, 16, 100);
		t = now_ns();
		for (i = 0; i < n; i++) {
			struct hconn *c = evs[i].data.ptr;
			int r = c->start ? recv_resp(c) : -1;

			if (r == 0)
				continue;
			if (r < 0) {
				fprintf(stderr, "zcload: a bad or closed hot response\n");
				errors++;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->sock, NULL);
				c->start = 0;
				continue;
			}
			if (c->start >= ws && c->start < we) {
				if (n_lat == cap)
					lat = realloc(lat, (cap *= 2) * sizeof(*lat));
				lat[n_lat++] = t - c->start;
			}
			c->start = 0;
			if (t < we && send_req(c, next++))
				errors++;
		}
	}
	if (cold) {
		stopping = 1;
		shutdown(cold_sock, SHUT_RDWR);
		pthread_join(ct, NULL);
		errors += cold_err;
	}
	qsort(lat, n_lat, sizeof(*lat), cmp_u64);
	if (!n_lat)
		errors++;
	printf("zcload %s %s %llu %.0f %.0f %.0f %.0f %.2f %d\n", label, cold ? "cold" : "none",
	       (unsigned long long)n_lat, n_lat / secs, n_lat ? lat[(n_lat - 1) / 2] / 1e3 : 0,
	       n_lat ? lat[(n_lat * 99 + 99) / 100 - 1] / 1e3 : 0, n_lat ? lat[n_lat - 1] / 1e3 : 0,
	       cold_bytes_win / 1048576.0, errors);
	return errors != 0;
}
