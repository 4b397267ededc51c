/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_sinks.c - the socket side: SIGPIPE, non-blocking sockets and poll(),
 * SO_SNDTIMEO, signals while blocked (UDP datagrams: t_diff.c). Each case runs
 * through zcopy and sendfile(2) on identical setups; they must agree.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t sigpipes, alarms;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void test_sigpipe(const char *file)
{
	struct sigaction sa = { .sa_handler = on_sigpipe }, old;
	int sv[2], fd = open(file, O_RDONLY);
	ssize_t r;
	int before;

	sigaction(SIGPIPE, &sa, &old);
	unix_pair(sv);
	close(sv[1]);

	before = sigpipes;
	r = zc_sendfile(sv[0], fd, NULL, 100);
	report(r == -1 && errno == EPIPE && sigpipes == before + 1,
	       "closed peer: EPIPE and SIGPIPE, as sendfile", "returned %zd errno %s, %d SIGPIPE",
	       r, errname(errno), sigpipes - before);
	before = sigpipes;
	r = sendfile(sv[0], fd, NULL, 100);
	report(r == -1 && errno == EPIPE && sigpipes == before + 1,
	       "closed peer: sendfile(2) agrees (EPIPE and SIGPIPE)",
	       "returned %zd errno %s, %d SIGPIPE", r, errname(errno), sigpipes - before);
	before = sigpipes;
	r = zc_sendfile_flags(sv[0], fd, NULL, 100, ZCOPY_SEND_NOSIGNAL);
	report(r == -1 && errno == EPIPE && sigpipes == before,
	       "closed peer with ZCOPY_SEND_NOSIGNAL: EPIPE, no SIGPIPE",
	       "returned %zd errno %s, %d SIGPIPE", r, errname(errno), sigpipes - before);
	close(sv[0]);
	close(fd);
	sigaction(SIGPIPE, &old, NULL);
}

enum how { DONTWAIT_FLAG, NONBLOCK_ZC, NONBLOCK_SF };

/*
 * A peer that never reads: the send buffer fills, then a non-blocking
 * send reports partial progress and finally EAGAIN, as sendfile(2) does.
 */
static void nonblock_case(const char *name, const char *file, enum how how)
{
	int sv[2], fd = open(file, O_RDONLY);
	size_t total = 0;
	int calls = 0, progress = 0;
	ssize_t r;

	unix_pair(sv);
	if (how != DONTWAIT_FLAG)
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		if (how == DONTWAIT_FLAG)
			r = zc_sendfile_flags(sv[0], fd, NULL, 4 * MiB, ZCOPY_SEND_DONTWAIT);
		else if (how == NONBLOCK_ZC)
			r = zc_sendfile(sv[0], fd, NULL, 4 * MiB);
		else
			r = sendfile(sv[0], fd, NULL, 4 * MiB);
		if (r <= 0 || ++calls > 10000)
			break;
		progress++;
		total += r;
	}
	report(r == -1 && errno == EAGAIN && progress > 0 && total < 4 * MiB &&
		       lseek(fd, 0, SEEK_CUR) == (off_t)total,
	       name, "last call %zd errno %s after %d calls, %zu bytes, pos %lld", r,
	       errname(errno), progress, total, (long long)lseek(fd, 0, SEEK_CUR));
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

/*
 * Non-blocking until EAGAIN, then poll() for POLLOUT while the peer
 * drains, and carry on: the whole file must arrive, every byte right.
 */
static void poll_case(const struct method *m)
{
	const size_t size = 4 * MiB + 5;
	char *path = make_file("poll", size, 31);
	int fd = open(path, O_RDONLY), sock, eagains = 0, polls_ok = 1;
	size_t sent = 0;
	char name[120];
	struct rx rx;
	long bad;

	sock = rx_start(&rx, &lo4, size, -1);
	fcntl(sock, F_SETFL, O_NONBLOCK);
	while (sent < size) {
		ssize_t n = m->fn(sock, fd, NULL, size - sent, NULL);

		if (n > 0) {
			sent += n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = sock, .events = POLLOUT };

			eagains++;
			if (poll(&p, 1, 10000) != 1 || !(p.revents & POLLOUT)) {
				polls_ok = 0;
				break;
			}
		} else {
			break;
		}
	}
	rx_finish(&rx, sock);
	bad = rx.got == size ? check_pattern(rx.buf, size, 31, 0) : -1;
	snprintf(name, sizeof(name), "non-blocking with poll(): %s sends all 4 MiB+5 intact",
		 m->name);
	report(sent == size && rx.got == size && bad < 0 && polls_ok, name,
	       "sent %zu, received %zu, first bad byte %ld, %d EAGAIN, poll ok %d", sent, rx.got,
	       bad, eagains, polls_ok);
	note("non-blocking %s: %d EAGAIN before 4 MiB+5 were sent", m->name, eagains);
	rx_free(&rx);
	close(fd);
	unlink(path);
}

/*
 * A blocking socket whose peer does not read: SO_SNDTIMEO ends the wait.
 * The first call returns what fit; the next, with no room, fails EAGAIN.
 */
static void sndtimeo_case(const struct method *m, const char *file, ssize_t out[2], int err[2])
{
	struct timeval tv = { .tv_usec = 200000 };
	int sv[2], fd = open(file, O_RDONLY);

	unix_pair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < 2; i++) {
		errno = 0;
		out[i] = m->fn(sv[0], fd, NULL, 4 * MiB, NULL);
		err[i] = errno;
	}
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

/*
 * A blocking send interrupted by a signal (handler without SA_RESTART):
 * the first call returns the bytes that fit before it blocked, the next
 * one, blocked from the start, fails with EINTR.
 */
static void signal_case(const struct method *m, const char *file, ssize_t out[2], int err[2])
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value = { .tv_usec = 150000 } };
	int sv[2], fd = open(file, O_RDONLY);

	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART */
	unix_pair(sv);
	for (int i = 0; i < 2; i++) {
		setitimer(ITIMER_REAL, &it, NULL);
		errno = 0;
		out[i] = m->fn(sv[0], fd, NULL, 4 * MiB, NULL);
		err[i] = errno;
	}
	sigaction(SIGALRM, &old, NULL);
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

struct drain {
	int fd;
	size_t got;
};

static void *drain_later(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t n;

	usleep(400000);
	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		d->got += n;
	return NULL;
}

/*
 * SA_RESTART: a call blocked from the start (full socket, nothing sent)
 * and interrupted by a signal is restarted by the kernel, as sendfile(2)
 * is; it completes once a late reader drains the socket. With @at, from
 * that offset through a pointer (the library's ZCOPY_SEND_OFFSET_PTR): the
 * restarted ioctl reads its argument again, which must still hold the
 * pointer, and the offset must end past the bytes sent (over TCP).
 */
static void restart_case(const struct method *m, const char *file, off_t at)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART }, old;
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	int sv[2], fd = open(file, O_RDONLY), before = alarms;
	struct drain d;
	char junk[4096] = { 0 }, name[120];
	pthread_t t;
	off_t off = at;
	ssize_t r;

	/* TCP: AF_UNIX's sendpage may append to a queued skb without waiting. */
	if (at >= 0)
		tcp_lo_pair(sv, 0);
	else
		unix_pair(sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	/* Full, and still full once loopback's ACKs have freed what they free. */
	for (int i = 0; i < 3; i++) {
		while (write(sv[0], junk, sizeof(junk)) > 0)
			;
		usleep(20000);
	}
	fcntl(sv[0], F_SETFL, 0);
	d.fd = sv[1];
	d.got = 0;
	sigaction(SIGALRM, &sa, &old);
	pthread_create(&t, NULL, drain_later, &d);
	setitimer(ITIMER_REAL, &it, NULL);
	r = m->fn(sv[0], fd, at >= 0 ? &off : NULL, 65536, NULL);
	close(sv[0]);
	pthread_join(t, NULL);
	sigaction(SIGALRM, &old, NULL);
	snprintf(name, sizeof(name),
		 "SA_RESTART: %s blocked from the start is restarted and completes%s", m->name,
		 at >= 0 ? " (offset pointer)" : "");
	report(r == 65536 && alarms == before + 1 && (at < 0 || off == at + 65536), name,
	       "returned %zd (%s), %d signal(s), offset %lld", r, errname(errno), alarms - before,
	       (long long)off);
	close(sv[1]);
	close(fd);
}

static void blocked_pair(const char *what,
			 void (*fn)(const struct method *, const char *, ssize_t[2], int[2]),
			 const char *file)
{
	ssize_t z[2], s[2];
	int ez[2], es[2];
	char name[160];

	fn(&m_zcopy, file, z, ez);
	fn(&m_sendfile, file, s, es);
	snprintf(name, sizeof(name), "%s: partial count, then -1 %s, as sendfile", what,
		 fn == sndtimeo_case ? "EAGAIN" : "EINTR");
	report(z[0] > 0 && z[0] < (ssize_t)(4 * MiB) && z[1] == -1 &&
		       ez[1] == (fn == sndtimeo_case ? EAGAIN : EINTR) && s[0] > 0 && s[1] == -1 &&
		       es[1] == ez[1],
	       name, "zcopy %zd then %zd %s; sendfile %zd then %zd %s", z[0], z[1], errname(ez[1]),
	       s[0], s[1], errname(es[1]));
}

void test_sinks(const char *file)
{
	test_sigpipe(file);
	nonblock_case("ZCOPY_SEND_DONTWAIT on a full socket: progress, then EAGAIN", file,
		      DONTWAIT_FLAG);
	nonblock_case("O_NONBLOCK socket full: progress, then EAGAIN", file, NONBLOCK_ZC);
	nonblock_case("O_NONBLOCK socket full: sendfile(2) agrees", file, NONBLOCK_SF);
	poll_case(&m_zcopy);
	poll_case(&m_sendfile);
	blocked_pair("SO_SNDTIMEO on a full blocking socket", sndtimeo_case, file);
	blocked_pair("a signal while blocked on a full socket", signal_case, file);
	restart_case(&m_zcopy, file, -1);
	restart_case(&m_sendfile, file, -1);
	restart_case(&m_zcopy, file, 12345);
	restart_case(&m_sendfile, file, 12345);
}
