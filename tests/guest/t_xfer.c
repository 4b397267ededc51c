/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_xfer.c - transfers: every received byte checked against the file, the
 * offset and file position afterwards, and zcopy's zero-copy accounting;
 * and the proof that bytes leave by reference (rewrite after send).
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct xfer {
	size_t file_size;
	int use_offset; /* pass an offset pointer (else: file position) */
	off_t start;
	size_t count;
};

/*
 * Send @x through @m to @p, calling the method until it has sent
 * x->count bytes or reports end of file, as a real program does. Check
 * the received bytes, the offset or file position afterwards, that an
 * offset transfer left the file position alone, and for zcopy that the
 * bytes were accounted as zero-copy (or copied) as the path requires.
 */
static void run_xfer(const char *tname, const struct method *m, const struct peer *p,
		     const char *path, uint64_t seed, const struct xfer *x)
{
	off_t end = x->start + (off_t)x->count;
	size_t expect = 0, sent = 0;
	const off_t sentinel = 3;
	uint64_t zc = 0, copied = 0;
	char name[160];
	struct rx rx;
	off_t off = x->start, pos;
	int in, sock, calls = 0;
	long bad;

	if (end > (off_t)x->file_size)
		end = (off_t)x->file_size;
	if (end > x->start)
		expect = (size_t)(end - x->start);
	snprintf(name, sizeof(name), "%s %s/%s", tname, m->name, p->name);

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(path);
	lseek(in, x->use_offset ? sentinel : x->start, SEEK_SET);
	sock = rx_start(&rx, p, expect + 1, -1);

	for (;;) {
		struct zc_stats st;
		ssize_t n = m->fn(sock, in, x->use_offset ? &off : NULL, x->count - sent, &st);

		calls++;
		if (n < 0) {
			report(0, name, "call %d failed after %zu bytes: %s", calls, sent,
			       errname(errno));
			rx_finish(&rx, sock);
			goto out;
		}
		sent += n;
		zc += st.zc_bytes;
		copied += st.copied_bytes;
		if (n == 0 || sent >= x->count)
			break;
	}
	rx_finish(&rx, sock);

	pos = lseek(in, 0, SEEK_CUR);
	bad = rx.got == expect ? check_pattern(rx.buf, expect, seed, x->start) : -1;
	if (sent != expect)
		report(0, name, "sent %zu bytes, expected %zu", sent, expect);
	else if (rx.got != expect)
		report(0, name, "peer received %zu bytes, expected %zu", rx.got, expect);
	else if (bad >= 0)
		report(0, name, "byte %ld of %zu differs", bad, expect);
	else if (x->use_offset && off != x->start + (off_t)expect)
		report(0, name, "offset is %lld, expected %lld", (long long)off,
		       (long long)(x->start + expect));
	else if (x->use_offset && pos != sentinel)
		report(0, name, "file position moved to %lld", (long long)pos);
	else if (!x->use_offset && pos != x->start + (off_t)expect)
		report(0, name, "file position is %lld, expected %lld", (long long)pos,
		       (long long)(x->start + expect));
	else if (m->is_zcopy && zc + copied != sent)
		report(0, name, "zero-copy %llu + copied %llu != sent %zu", (unsigned long long)zc,
		       (unsigned long long)copied, sent);
	else if (m->is_zcopy && (p->zc ? zc : copied) != sent)
		report(0, name, "expected all %zu bytes %s, got %llu zero-copy, %llu copied", sent,
		       p->zc ? "zero-copy" : "copied", (unsigned long long)zc,
		       (unsigned long long)copied);
	else
		report(1, name, NULL);
out:
	rx_free(&rx);
	close(in);
}

void test_transfers(void)
{
	static const struct {
		const char *name;
		struct xfer x;
	} cases[] = {
		{ "empty file", { 0, 1, 0, 100 } },
		{ "1 byte", { 1, 1, 0, 1 } },
		{ "page-1", { PAGE - 1, 1, 0, PAGE - 1 } },
		{ "page", { PAGE, 1, 0, PAGE } },
		{ "page+1", { PAGE + 1, 1, 0, PAGE + 1 } },
		{ "unaligned start 1", { 100000, 1, 1, 99999 } },
		{ "across a page from 4095", { 100000, 1, PAGE - 1, 5000 } },
		{ "unaligned start 4097", { 100000, 0, PAGE + 1, 50000 } },
		{ "count past EOF", { MiB + 3, 1, 12345, 4 * MiB } },
		{ "count 0", { 100000, 1, 500, 0 } },
		{ "offset at EOF", { 100000, 1, 100000, 10 } },
		{ "offset past EOF", { 100000, 1, 200000, 10 } },
		{ "file position 100+1000", { 100000, 0, 100, 1000 } },
		{ "file position at EOF", { 100000, 0, 100000, 1000 } },
		{ "1 MiB batch edges", { MiB, 1, 3, MiB - 7 } },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *path = make_file("xfer", cases[c].x.file_size, 1000 + c);

		for (size_t m = 0; m < 2; m++) {
			run_xfer(cases[c].name, methods[m], &lo4, path, 1000 + c, &cases[c].x);
			if (c < 5 || c == 14) {
				run_xfer(cases[c].name, methods[m], &lo6, path, 1000 + c,
					 &cases[c].x);
				run_xfer(cases[c].name, methods[m], &unix_peer, path, 1000 + c,
					 &cases[c].x);
			}
		}
		unlink(path);
	}
}

void test_large(void)
{
	const size_t size = 64 * MiB + 1;
	char *path = make_file("large", size, 77);
	struct xfer whole = { size, 0, 0, size };
	struct xfer tail = { size, 1, 3 * MiB + 5, size };

	for (size_t m = 0; m < 2; m++) {
		run_xfer("64 MiB+1", methods[m], &lo4, path, 77, &whole);
		run_xfer("64 MiB+1", methods[m], &unix_peer, path, 77, &whole);
		if (veth.netns_fd < 0) {
			report(0, "64 MiB+1 over veth", "ZC_PEER_NETNS/ZC_PEER_ADDR not set");
			continue;
		}
		run_xfer("64 MiB+1", methods[m], &veth, path, 77, &whole);
		run_xfer("61 MiB unaligned", methods[m], &veth, path, 77, &tail);
		run_xfer("8 MiB+1 copied", methods[m], &nosg, path, 77,
			 &(struct xfer){ size, 1, 1, 8 * MiB + 1 });
	}
	unlink(path);
}

/*
 * Send 64 KiB of 'A' to a peer that does not read yet, then overwrite
 * the file range with 'B', then let the peer read. Pages sent by
 * reference are still the page cache's pages, so the peer reads 'B'; a
 * copy taken at send time reads 'A'. On loopback, veth and AF_UNIX the
 * fragments travel to the receive queue without a copy, which makes this
 * visible. Returns how many of the received bytes were new (-1: the
 * transfer itself failed); fills @st for zcopy.
 */
static ssize_t rewrite_after_send(const struct method *m, const struct peer *p,
				  struct zc_stats *total)
{
	const size_t len = 64 * KiB;
	char path[300];
	unsigned char *buf = malloc(len);
	struct rx rx;
	int gate[2], fd, sock;
	size_t news = 0, sent = 0;

	*total = (struct zc_stats){ 0 };
	snprintf(path, sizeof(path), "%s/rewrite", dir);
	memset(buf, 'A', len);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pwrite(fd, buf, len, 0) != (ssize_t)len || pipe(gate))
		die("rewrite setup");
	sock = rx_start(&rx, p, len, gate[0]);
	while (sent < len) {
		struct zc_stats st = { 0 };
		ssize_t n = m ? m->fn(sock, fd, NULL, len - sent, &st)
			      : write(sock, buf + sent, len - sent);
		if (n <= 0)
			break;
		sent += n;
		total->zc_bytes += st.zc_bytes;
		total->copied_bytes += st.copied_bytes;
	}
	memset(buf, 'B', len);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len)
		die("rewrite");
	if (write(gate[1], "g", 1) != 1)
		die("gate");
	rx_finish(&rx, sock);
	for (size_t i = 0; i < rx.got && i < len; i++)
		news += rx.buf[i] == 'B';
	rx_free(&rx);
	free(buf);
	close(fd);
	close(gate[0]);
	close(gate[1]);
	unlink(path);
	return sent == len && rx.got == len ? (ssize_t)news : -1;
}

/*
 * The accounting must tell the truth: on each path, zcopy's zero-copy
 * count and what the peer sees after a rewrite must agree.
 */
void test_accounting(void)
{
	const struct peer *peers[] = { &lo4, &lo6, &unix_peer, &veth, &nosg };
	struct zc_stats st;
	char name[160];
	ssize_t news;

	news = rewrite_after_send(NULL, &lo4, &st);
	report(news == 0, "rewrite-after-send control: write(2) copies, peer sees old bytes",
	       "%zd of 65536 bytes were new", news);

	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		const struct peer *p = peers[i];

		if (p->family != AF_UNIX && !p->addr) {
			snprintf(name, sizeof(name), "rewrite-after-send over %s", p->name);
			report(0, name, "peer not configured");
			continue;
		}
		news = rewrite_after_send(&m_zcopy, p, &st);
		snprintf(name, sizeof(name), "rewrite-after-send over %s: %s", p->name,
			 p->zc ? "sent by reference, peer sees new bytes, all counted zero-copy"
			       : "copied, peer sees old bytes, all counted copied");
		if (p->zc)
			report(news == 65536 && st.zc_bytes == 65536 && st.copied_bytes == 0, name,
			       "%zd new bytes, %llu zero-copy, %llu copied", news,
			       (unsigned long long)st.zc_bytes,
			       (unsigned long long)st.copied_bytes);
		else
			report(news == 0 && st.zc_bytes == 0 && st.copied_bytes == 65536, name,
			       "%zd new bytes, %llu zero-copy, %llu copied", news,
			       (unsigned long long)st.zc_bytes,
			       (unsigned long long)st.copied_bytes);
		news = rewrite_after_send(&m_sendfile, p, &st);
		note("rewrite-after-send over %s: sendfile(2) peer saw %zd of 65536 new bytes",
		     p->name, news);
	}
}
