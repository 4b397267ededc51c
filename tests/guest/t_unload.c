/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_unload.c - the programs run.sh unloads the module around
 * (`zctest unload MODE DIR ...`):
 *
 *   hold SECONDS   four threads send a 1 MiB file over AF_UNIX pairs, every
 *                  byte checked, until DIR/hold.stop appears or SECONDS
 *                  pass; prints "holding" once the first transfer is done.
 *                  While it runs, /dev/zcopy is open: rmmod must be refused.
 *   lend plain|notify
 *                  fills a TCP connection over loopback whose receiver does
 *                  not read, so that the sender's queue holds skbs that
 *                  reference the file's pages (lent, not sent: the window
 *                  is closed); closes /dev/zcopy; prints "lent"; waits for
 *                  DIR/lend.go; then reads everything and checks each byte.
 *                  plain: the skbs hold pages only, rmmod must be safe;
 *                  notify: they hold notices, rmmod must be refused until
 *                  they are freed.
 *   once [CHUNK]   one 4 MiB transfer over TCP on loopback, checked (the
 *                  load/unload loop's transfer); CHUNK: bytes per call
 *                  (default: as many as a call takes), then the file is
 *                  deleted (the kunit mode's orphaned-page check).
 *
 * Exit status 0 when every byte was right.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char stopfile[300];
static atomic_int bad, done;
static time_t until;
static const char *hold_file;

static void *hold_thread(void *arg)
{
	static __thread unsigned char buf[MiB];

	(void)arg;
	while (access(stopfile, F_OK) && time(NULL) < until) {
		int sv[2], in = open(hold_file, O_RDONLY | O_CLOEXEC);
		size_t got = 0;
		off_t off = 0;

		unix_pair(sv);
		/* 64 KiB at a time, read in between: a pair's buffer holds that. */
		while (got < MiB) {
			ssize_t r = zc_sendfile(sv[0], in, &off, 64 * KiB), n;
			size_t have = 0;

			if (r <= 0) {
				atomic_store(&bad, 1);
				break;
			}
			while (have < (size_t)r &&
			       (n = read(sv[1], buf + got + have, r - have)) > 0)
				have += n;
			got += have;
		}
		if (check_pattern(buf, got, 31, 0) >= 0 || got != MiB)
			atomic_store(&bad, 1);
		atomic_fetch_add(&done, 1);
		close(in);
		close(sv[0]);
		close(sv[1]);
	}
	return NULL;
}

static int hold(const char *secs)
{
	pthread_t th[4];

	until = time(NULL) + atoi(secs);
	hold_file = make_file("hold", MiB, 31);
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, hold_thread, NULL))
			die("pthread_create");
	while (!atomic_load(&done) && !atomic_load(&bad))
		usleep(10000);
	printf("holding\n");
	fflush(stdout);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("hold: %d transfers, %s\n", atomic_load(&done), bad ? "some wrong" : "all right");
	unlink(hold_file);
	return bad;
}

static int lend(const char *mode)
{
	int notify = !strcmp(mode, "notify"), sv[2], in, outq = 0, sndbuf = 4 << 20;
	const char *file = make_file("lend", 4 * MiB, 32);
	unsigned char *buf = malloc(4 * MiB);
	size_t sent = 0, got = 0;
	off_t off = 0;
	char gofile[300];

	snprintf(gofile, sizeof(gofile), "%s/lend.go", dir);
	in = open(file, O_RDONLY | O_CLOEXEC);
	if (in < 0 || !buf)
		die("lend");
	tcp_lo_pair(sv, 4096);
	/* Root: past wmem_max, so the queue can hold the whole file. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	for (;;) {
		ssize_t r = notify ? zc_sendfile_notify(sv[0], in, &off, 4 * MiB - sent,
							ZCOPY_SEND_DONTWAIT, 1 + sent, NULL)
				   : zc_sendfile_flags(sv[0], in, &off, 4 * MiB - sent,
						       ZCOPY_SEND_DONTWAIT);

		if (r <= 0)
			break;
		sent += r;
	}
	usleep(100000); /* what can go has gone; the rest waits for the window */
	ioctl(sv[0], SIOCOUTQ, &outq);
	zc_close();
	printf("lent: %zu bytes sent, %d still in the sender's queue (%s)\n", sent, outq, mode);
	fflush(stdout);
	if (!sent || outq <= 0) {
		printf("lend: nothing held in the send queue\n");
		return 1;
	}
	while (access(gofile, F_OK))
		usleep(20000);
	shutdown(sv[0], SHUT_WR);
	for (;;) {
		ssize_t n = read(sv[1], buf + got, 4 * MiB - got);

		if (n <= 0)
			break;
		got += n;
		if (got == 4 * MiB)
			break;
	}
	printf("lend: %zu of %zu bytes received, %s\n", got, sent,
	       got == sent && check_pattern(buf, got, 32, 0) < 0 ? "all right" : "WRONG");
	close(sv[0]);
	close(sv[1]);
	close(in);
	unlink(file);
	return !(got == sent && check_pattern(buf, got, 32, 0) < 0);
}

static int once(size_t chunk)
{
	const char *file = make_file("once", 4 * MiB, 33);
	struct rx rx;
	int in = open(file, O_RDONLY | O_CLOEXEC);
	int s = rx_start(&rx, &lo4, 4 * MiB, -1), ok;
	off_t off = 0;
	size_t sent = 0;

	while (sent < 4 * MiB) {
		size_t left = 4 * MiB - sent;
		ssize_t r = zc_sendfile(s, in, &off, chunk && chunk < left ? chunk : left);

		if (r <= 0)
			break;
		sent += r;
	}
	rx_finish(&rx, s);
	ok = sent == 4 * MiB && rx.got == sent && check_pattern(rx.buf, sent, 33, 0) < 0;
	if (!ok)
		printf("once: sent %zu, received %zu (%s)\n", sent, rx.got, errname(errno));
	rx_free(&rx);
	close(in);
	unlink(file);
	zc_close();
	return !ok;
}

int unload_main(int argc, char **argv)
{
	/* zctest unload MODE DIR [ARG] */
	if (argc < 4)
		return 2;
	dir = argv[3];
	snprintf(stopfile, sizeof(stopfile), "%s/hold.stop", dir);
	if (!strcmp(argv[2], "hold") && argc > 4)
		return hold(argv[4]);
	if (!strcmp(argv[2], "lend") && argc > 4)
		return lend(argv[4]);
	if (!strcmp(argv[2], "once"))
		return once(argc > 4 ? strtoul(argv[4], NULL, 0) : 0);
	return 2;
}
