/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_sendv.c - ZCOPY_IOC_SENDV and ZCOPY_SEND_MORE.
 *
 * SENDV must send exactly what its equivalent sends: each memory segment
 * as writev(2), each file segment as sendfile(2) with an offset, in order,
 * stopping where a file ends early. Generated vectors are sent both ways
 * over two connections and the byte streams compared; then the errno of
 * every kind of bad segment (with sendfile(2)'s own errno as the
 * reference where it defines one), partial sends resumed with
 * zc_sendv_advance(), records, accounting, the zero-copy proof on a file
 * segment inside a vector, and SEND_MORE holding the socket corked.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_segs_out */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#define NFILES 4
static const size_t file_sizes[NFILES] = { 0, 5000, 70000, 1 * MiB + 123 };
static int files[NFILES];

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

/* Memory the memory segments point into: a pattern of its own. */
static unsigned char mem[256 * KiB];

/*
 * The reference: the vector sent as write(2)s and pread-style
 * sendfile(2)s, each to completion, stopping at the first file segment
 * that ends early, as SENDV stops. Returns the bytes sent, -1 on error.
 */
static ssize_t send_reference(int sock, const struct zcopy_seg *segs, unsigned int nr)
{
	size_t total = 0;

	for (unsigned int i = 0; i < nr; i++) {
		size_t done = 0;

		while (done < segs[i].len) {
			ssize_t n;

			if (segs[i].type == ZCOPY_SEG_MEM) {
				n = write(sock, (char *)(uintptr_t)segs[i].addr + done,
					  segs[i].len - done);
			} else {
				off_t off = segs[i].offset + (off_t)done;

				n = sendfile(sock, segs[i].fd, &off, segs[i].len - done);
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (n == 0)
				return (ssize_t)(total + done);
			done += n;
		}
		total += done;
	}
	return (ssize_t)total;
}

/*
 * Send with zc_sendv() to completion on a possibly non-blocking socket:
 * on EAGAIN wait for room, after a short count resume with
 * zc_sendv_advance(). Stops when a call returns 0 (end of a file).
 * Returns the total, -1 on error; *calls counts the calls.
 */
static ssize_t send_zc(int sock, const struct zcopy_seg *segs, unsigned int nr, unsigned int flags,
		       int *calls, struct zc_stats *total)
{
	struct zcopy_seg *copy = malloc(sizeof(*copy) * (nr ? nr : 1)), *v = copy;
	size_t sum = 0;

	memcpy(copy, segs, sizeof(*copy) * nr);
	*total = (struct zc_stats){ 0 };
	while (nr) {
		struct zc_stats st;
		ssize_t n = zc_sendv(sock, v, nr, flags, &st);

		(*calls)++;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = sock, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(copy);
			return -1;
		}
		if (n == 0)
			break;
		total->zc_bytes += st.zc_bytes;
		total->copied_bytes += st.copied_bytes;
		if (st.zc_bytes + st.copied_bytes != (uint64_t)n) {
			free(copy);
			errno = EPROTO;
			return -1;
		}
		sum += n;
		if (zc_sendv_advance(&v, &nr, n)) {
			free(copy);
			return -1;
		}
	}
	free(copy);
	return (ssize_t)sum;
}

static unsigned int gen_vector(struct zcopy_seg *segs, unsigned int max)
{
	unsigned int nr = 1 + rnd(rnd(4) ? 6 : max);

	for (unsigned int i = 0; i < nr; i++) {
		if (rnd(3) == 0) {
			size_t len = rnd(8) ? rnd(600) : rnd(sizeof(mem) / 2);
			size_t at = rnd(sizeof(mem) - len);

			segs[i] = zc_seg_mem(mem + at, rnd(10) ? len : 0);
		} else {
			/* The 1 MiB file one time in six: vectors stay short. */
			unsigned int f = rnd(6) ? 1 + rnd(2) : 3;
			size_t size = file_sizes[f];
			off_t off = rnd(size);
			size_t len = rnd(size - off + 1);

			if (rnd(12) == 0) /* past the end: the call stops there */
				len += 1 + rnd(5000);
			if (rnd(15) == 0)
				f = 0, off = 0, len = rnd(3) ? 0 : 10;
			segs[i] = zc_seg_file(files[f], off, len);
		}
	}
	return nr;
}

/*
 * Generated vectors over one connection per method: the streams must be
 * identical, every vector must send what its reference sends.
 */
static void equivalence(const struct peer *p, int nonblock, int rounds)
{
	struct zcopy_seg segs[48];
	size_t cap = 64 * MiB, want = 0;
	struct rx ra, rb;
	int a, b, calls = 0, mismatch = -1, bad_ret = 0;
	uint64_t zc = 0, copied = 0;
	char name[160];

	a = rx_start(&ra, p, cap, -1);
	b = rx_start(&rb, p, cap, -1);
	if (nonblock)
		fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
	for (int r = 0; r < rounds && want < cap / 2; r++) {
		unsigned int nr = gen_vector(segs, 48);
		struct zc_stats st;
		ssize_t ref = send_reference(b, segs, nr);
		ssize_t got = send_zc(a, segs, nr, 0, &calls, &st);

		if (ref < 0 || got != ref) {
			if (mismatch < 0)
				mismatch = r, bad_ret = (int)(got < 0 ? -errno : got - ref);
			break;
		}
		want += got;
		zc += st.zc_bytes;
		copied += st.copied_bytes;
	}
	rx_finish(&ra, a);
	rx_finish(&rb, b);
	snprintf(name, sizeof(name), "sendv = writev+sendfile: %d vectors over %s%s", rounds,
		 p->name, nonblock ? ", non-blocking, resumed" : "");
	report(mismatch < 0 && ra.got == want && rb.got == want && !memcmp(ra.buf, rb.buf, want),
	       name, "vector %d: return off by %d; %zu/%zu bytes received of %zu", mismatch,
	       bad_ret, ra.got, rb.got, want);
	note("%s: %d calls, %llu zero-copy, %llu copied", name, calls, (unsigned long long)zc,
	     (unsigned long long)copied);
	rx_free(&ra);
	rx_free(&rb);
}

/* ---- bad input --------------------------------------------------------- */

static int raw_sendv(int sock, struct zcopy_seg *segs, unsigned int nr, unsigned int flags)
{
	struct zcopy_sendv a = {
		.size = sizeof(a),
		.flags = flags,
		.out_fd = sock,
		.nr_segs = nr,
		.segs = (uint64_t)(uintptr_t)segs,
	};

	return ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? -errno : (int)a.sent;
}

/* sendfile(2)'s errno for one file range (0 if it sends), the reference. */
static int sendfile_errno(int fd, off_t off, size_t len)
{
	int sv[2], ret;

	unix_pair(sv);
	ret = sendfile(sv[0], fd, &off, len) < 0 ? -errno : 0;
	close(sv[0]);
	close(sv[1]);
	return ret;
}

/* One row: @segs sent ahead of a good header; nothing may arrive. */
static void bad_row(const char *what, struct zcopy_seg *segs, unsigned int nr, unsigned int flags,
		    int want)
{
	char name[200], c;
	int sv[2], got;
	ssize_t leaked;

	unix_pair(sv);
	got = raw_sendv(sv[0], segs, nr, flags);
	leaked = recv(sv[1], &c, 1, MSG_DONTWAIT);
	snprintf(name, sizeof(name), "sendv bad input: %s -> %s, nothing sent", what,
		 errname(-want));
	report(got == want && leaked < 0, name, "got %s, %zd bytes leaked",
	       got < 0 ? errname(-got) : "success", leaked);
	close(sv[0]);
	close(sv[1]);
}

static void bad_inputs(void)
{
	static char hdr[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct zcopy_seg v[3];
	int ro = files[2], wo, dirfd, pfd[2], sv[2], rc;
	char path[300];
	void *none;

	snprintf(path, sizeof(path), "%s/sendv-wo", dir);
	wo = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (wo < 0 || dirfd < 0 || pipe(pfd) || none == MAP_FAILED)
		die("sendv bad-input setup");

#define ROW(what, want, ...)                                                                       \
	do {                                                                                       \
		struct zcopy_seg r_[] = { zc_seg_mem(hdr, sizeof(hdr) - 1), __VA_ARGS__ };         \
		bad_row(what, r_, sizeof(r_) / sizeof(r_[0]), 0, want);                            \
	} while (0)

	ROW("segment type 0", -EINVAL, { .type = 0, .len = 1 });
	ROW("segment type 3", -EINVAL, { .type = 3, .len = 1 });
	v[0] = zc_seg_file(ro, 0, 10);
	v[0].reserved = 1;
	ROW("reserved field of a segment", -EINVAL, v[0]);
	v[0] = zc_seg_mem(hdr, 3);
	v[0].fd = 5;
	ROW("memory segment with an fd", -EINVAL, v[0]);
	ROW("memory segment in PROT_NONE memory", -EFAULT, zc_seg_mem(none, 10));
	ROW("memory segment at a kernel address", -EFAULT,
	    zc_seg_mem((void *)0xffff888000000000UL, 10));
	ROW("length negative as ssize_t", -EINVAL, zc_seg_file(ro, 0, (size_t)1 << 63));
	v[0] = zc_seg_file(ro, 0, SSIZE_MAX / 2 + 1);
	ROW("total over SSIZE_MAX", -EINVAL, v[0], v[0]);
	ROW("file fd -1", sendfile_errno(-1, 0, 10), zc_seg_file(-1, 0, 10));
	ROW("file fd not open", sendfile_errno(1000, 0, 10), zc_seg_file(1000, 0, 10));
	ROW("write-only file", sendfile_errno(wo, 0, 10), zc_seg_file(wo, 0, 10));
	ROW("pipe as file", sendfile_errno(pfd[0], 0, 10), zc_seg_file(pfd[0], 0, 10));
	ROW("directory as file", sendfile_errno(dirfd, 0, 10), zc_seg_file(dirfd, 0, 10));
	ROW("negative offset", sendfile_errno(ro, -1, 10), zc_seg_file(ro, -1, 10));
	ROW("offset + length overflowing", sendfile_errno(ro, LLONG_MAX - 10, 100),
	    zc_seg_file(ro, LLONG_MAX - 10, 100));
	unix_pair(sv);
	ROW("socket as file", sendfile_errno(sv[1], 0, 10), zc_seg_file(sv[1], 0, 10));
	/* The bad segment last: the good ones before it are not sent either. */
	ROW("bad segment after a good file segment", -EBADF, zc_seg_file(ro, 0, 100),
	    zc_seg_file(-1, 0, 1));
#undef ROW

	v[0] = zc_seg_mem(hdr, 5);
	bad_row("unknown flag", v, 1, 0x80000000U, -EINVAL);
	bad_row("ZCOPY_SEND_OFFSET", v, 1, ZCOPY_SEND_OFFSET, -EINVAL);
	bad_row("more than ZCOPY_SENDV_MAX_SEGS segments", v, ZCOPY_SENDV_MAX_SEGS + 1, 0, -EINVAL);
	bad_row("vector at NULL", NULL, 1, 0, -EFAULT);
	bad_row("vector in PROT_NONE memory", none, 1, 0, -EFAULT);

	/* The socket side, and the struct's own growth rules. */
	{
		struct {
			struct zcopy_sendv a;
			uint64_t tail;
		} big = { .a = { .size = sizeof(big),
				 .out_fd = sv[0],
				 .nr_segs = 1,
				 .segs = (uintptr_t)v } };
		struct zcopy_sendv a = { .size = sizeof(a), .out_fd = -1 };
		char c;

		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? errno : 0;
		report(rc == EBADF, "sendv bad input: socket fd -1 -> EBADF", "%s", errname(rc));
		a.out_fd = wo;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? errno : 0;
		report(rc == ENOTSOCK, "sendv bad input: out fd a writable file -> ENOTSOCK", "%s",
		       errname(rc));
		a.out_fd = ro;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? errno : 0;
		report(rc == EBADF, "sendv bad input: out fd not open for writing -> EBADF", "%s",
		       errname(rc));
		a.out_fd = sv[0];
		a.cookie = 7;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? errno : 0;
		report(rc == EINVAL, "sendv bad input: cookie without NOTIFY -> EINVAL", "%s",
		       errname(rc));
		a.cookie = 0;
		a.pad = 1;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? errno : 0;
		report(rc == EINVAL, "sendv bad input: pad -> EINVAL", "%s", errname(rc));
		a.pad = 0;
		a.size = ZCOPY_SENDV_SIZE_VER0 - 8;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? errno : 0;
		report(rc == EINVAL, "sendv bad input: size below VER0 -> EINVAL", "%s",
		       errname(rc));
		a.size = 8192;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a) < 0 ? errno : 0;
		report(rc == E2BIG, "sendv bad input: size over a page -> E2BIG", "%s",
		       errname(rc));
		big.tail = 1;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &big) < 0 ? errno : 0;
		report(rc == E2BIG, "sendv: a longer struct with an unknown field set -> E2BIG",
		       "%s", errname(rc));
		big.tail = 0;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &big) < 0 ? -errno : (int)big.a.sent;
		report(rc == 5 && recv(sv[1], path, sizeof(path), 0) == 5 &&
			       recv(sv[1], &c, 1, MSG_DONTWAIT) < 0,
		       "sendv: a longer struct with zeros past VER0 works", "ret %d", rc);
		a.size = sizeof(a);
		a.nr_segs = 0;
		rc = ioctl(zc_device_fd(), ZCOPY_IOC_SENDV, &a);
		report(rc == 0 && a.sent == 0, "sendv: an empty vector sends nothing, returns 0",
		       "ret %d", rc);
	}
	close(sv[0]);
	close(sv[1]);
	close(wo);
	unlink(path);
	close(dirfd);
	close(pfd[0]);
	close(pfd[1]);
	munmap(none, PAGE);
}

/* ---- semantics ----------------------------------------------------------- */

/* The last thing in a vector reaching end of file stops the call there. */
static void eof_and_limits(void)
{
	static const char h[] = "header:", t[] = ":trailer";
	struct zcopy_seg v[3] = { zc_seg_mem(h, 7), zc_seg_file(files[1], 4000, 2000),
				  zc_seg_mem(t, 8) };
	struct zcopy_seg *p = v;
	unsigned int nr = 3;
	unsigned char buf[2000];
	int sv[2];
	ssize_t n, m, r;
	char path[300];
	int big;

	unix_pair(sv);
	n = zc_sendv(sv[0], v, 3, 0, NULL);
	zc_sendv_advance(&p, &nr, n);
	m = zc_sendv(sv[0], p, nr, 0, NULL);
	r = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	report(n == 7 + 1000 && m == 0 && r == 1007 && !memcmp(buf, h, 7) &&
		       check_pattern(buf + 7, 1000, 1, 4000) < 0,
	       "sendv: a file segment ending early stops the call; resuming returns 0",
	       "first %zd, then %zd, received %zd", n, m, r);
	close(sv[0]);
	close(sv[1]);

	/* Over MAX_RW_COUNT: cut, as writev(2) cuts, not refused. */
	snprintf(path, sizeof(path), "%s/sendv-sparse", dir);
	big = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (big < 0 || ftruncate(big, 3L << 30))
		die("sparse file");
	unix_pair(sv);
	v[0] = zc_seg_file(big, 0, 2UL << 30);
	v[1] = zc_seg_file(big, 0, 2UL << 30);
	n = zc_sendv(sv[0], v, 2, ZCOPY_SEND_DONTWAIT, NULL);
	report(n > 0 && n < 0x7ffff000, "sendv: a 4 GiB vector is cut, not refused (non-blocking)",
	       "returned %zd (%s)", n, n < 0 ? errname(errno) : "");
	close(sv[0]);
	close(sv[1]);
	close(big);
	unlink(path);
}

/* Records: UDP gets one datagram, SEQPACKET one record per segment. */
static void records(void)
{
	static const char h[] = "0123456789";
	struct zcopy_seg v[3] = { zc_seg_mem(h, 10), zc_seg_file(files[1], 100, 1000),
				  zc_seg_mem(h, 5) };
	unsigned char buf[4096];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t al = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0), sv[2];
	ssize_t n, r, r1, r2, r3;

	if (rx < 0 || tx < 0 || bind(rx, (void *)&a, sizeof(a)) ||
	    getsockname(rx, (void *)&a, &al) || connect(tx, (void *)&a, sizeof(a)))
		die("udp");
	n = zc_sendv(tx, v, 3, 0, NULL);
	r = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
	report(n == 1015 && r == 1015 && !memcmp(buf, h, 10) &&
		       check_pattern(buf + 10, 1000, 1, 100) < 0 && !memcmp(buf + 1010, h, 5),
	       "sendv over UDP: the vector is one datagram", "sent %zd, datagram of %zd", n, r);

	/* ZCOPY_SEND_MORE on UDP: two calls, one datagram (UDP's cork). */
	n = zc_sendv(tx, v, 1, ZCOPY_SEND_MORE, NULL);
	r1 = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
	n += zc_sendfile_flags(tx, files[1], &(off_t){ 100 }, 1000, 0);
	r = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
	report(n == 1010 && r1 < 0 && r == 1010 && !memcmp(buf, h, 10) &&
		       check_pattern(buf + 10, 1000, 1, 100) < 0,
	       "ZCOPY_SEND_MORE over UDP: a header call and a file call make one datagram",
	       "sent %zd, %zd early, then a datagram of %zd", n, r1, r);
	close(rx);
	close(tx);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		die("seqpacket");
	n = zc_sendv(sv[0], v, 3, 0, NULL);
	r1 = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	r2 = recv(sv[1], buf + 10, sizeof(buf) - 10, MSG_DONTWAIT);
	r3 = recv(sv[1], buf + 1010, sizeof(buf) - 1010, MSG_DONTWAIT);
	report(n == 1015 && r1 == 10 && r2 == 1000 && r3 == 5 &&
		       check_pattern(buf + 10, 1000, 1, 100) < 0,
	       "sendv over SEQPACKET: one record per segment, as write(2) and sendfile(2)",
	       "sent %zd, records %zd %zd %zd", n, r1, r2, r3);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Accounting, and the proof: a file segment between a header and a
 * trailer goes by reference, so a rewrite of the file before the peer
 * reads shows in what it receives; the header and trailer count as copied.
 */
static void proof(const struct peer *p)
{
	const size_t len = 64 * KiB;
	static const char h[] = "HEADER", t[] = "TRAILER";
	unsigned char *buf = malloc(len);
	char path[300], name[200];
	struct zc_stats st = { 0 };
	struct rx rx;
	int gate[2], fd, sock, calls = 0;
	size_t news = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/sendv-rewrite", dir);
	memset(buf, 'A', len);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pwrite(fd, buf, len, 0) != (ssize_t)len || pipe(gate))
		die("sendv rewrite setup");
	sock = rx_start(&rx, p, len + 13, gate[0]);
	{
		struct zcopy_seg v[3] = { zc_seg_mem(h, 6), zc_seg_file(fd, 0, len),
					  zc_seg_mem(t, 7) };

		n = send_zc(sock, v, 3, 0, &calls, &st);
	}
	memset(buf, 'B', len);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len || write(gate[1], "g", 1) != 1)
		die("sendv rewrite");
	rx_finish(&rx, sock);
	for (size_t i = 6; i < rx.got && i < 6 + len; i++)
		news += rx.buf[i] == 'B';
	snprintf(name, sizeof(name),
		 "sendv over %s: file segment %s, header and trailer copied and intact", p->name,
		 p->zc ? "by reference (peer sees the rewrite)" : "copied (peer sees old bytes)");
	report(n == (ssize_t)len + 13 && rx.got == len + 13 && !memcmp(rx.buf, h, 6) &&
		       !memcmp(rx.buf + 6 + len, t, 7) &&
		       st.copied_bytes + st.zc_bytes == (uint64_t)n &&
		       (p->zc ? news == len && st.zc_bytes == len && st.copied_bytes == 13
			      : news == 0 && st.zc_bytes == 0),
	       name, "sent %zd, got %zu, %zu new, %llu zero-copy, %llu copied", n, rx.got, news,
	       (unsigned long long)st.zc_bytes, (unsigned long long)st.copied_bytes);
	rx_free(&rx);
	free(buf);
	close(fd);
	close(gate[0]);
	close(gate[1]);
	unlink(path);
}

/*
 * ZCOPY_SEND_MORE keeps TCP corked: a short response sent with it stays
 * in the socket (loopback's MSS is 64 KiB, so it is a partial segment)
 * until a send without it; without the flag it leaves at once. "Stays" is
 * checked for 50 ms only: with nothing in flight, TCP arms its probe timer
 * (at least TCP_RTO_MIN, 200 ms) and that sends what is held, as it ends
 * TCP_CORK's hold.
 */
/* Bytes received on @fd, up to @want, waiting at most @ms for each read. */
static size_t recv_upto(int fd, size_t want, int ms)
{
	size_t got = 0;
	char buf[4096];

	while (got < want) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		size_t room = want - got < sizeof(buf) ? want - got : sizeof(buf);
		ssize_t n;

		if (poll(&pfd, 1, ms) <= 0)
			break;
		n = recv(fd, buf, room, MSG_DONTWAIT);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

static void send_more(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	static const char t[] = "end";

	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 4) ||
	    getsockname(l, (void *)&a, &al))
		die("send_more listen");
	for (int mode = 0; mode < 3; mode++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), s;
		struct zcopy_seg v[2] = { zc_seg_mem("hdr", 3), zc_seg_file(files[1], 0, 1000) };
		const char *what[] = { "zc_sendfile", "zc_sendv", "zc_sendv without SEND_MORE" };
		off_t off = 0;
		ssize_t n;
		size_t early, all;
		char name[160];

		if (c < 0 || connect(c, (void *)&a, sizeof(a)) < 0 ||
		    (s = accept(l, NULL, NULL)) < 0)
			die("send_more connect");
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (mode == 0)
			n = zc_sendfile_flags(c, files[1], &off, 1000, ZCOPY_SEND_MORE);
		else
			n = zc_sendv(c, v, 2, mode == 1 ? ZCOPY_SEND_MORE : 0, NULL);
		early = recv_upto(s, 2000, 50);
		if (mode == 2) {
			snprintf(name, sizeof(name), "%s: the response leaves at once", what[mode]);
			report(n == 1003 && early == 1003, name, "n %zd, %zu bytes arrived", n,
			       early);
		} else {
			n += send(c, t, 3, 0);
			all = recv_upto(s, 2000, 2000);
			snprintf(name, sizeof(name),
				 "%s with ZCOPY_SEND_MORE: held corked until a send without it",
				 what[mode]);
			report(!early && all == (size_t)n && n == (mode == 0 ? 1003 : 1006), name,
			       "%zu bytes arrived early, %zu after the next send, n %zd", early,
			       all, n);
		}
		close(c);
		close(s);
	}
	close(l);
}

/* Segments this TCP socket has sent (data and pure ACKs), from TCP_INFO. */
static unsigned int segs_out(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		die("TCP_INFO");
	return ti.tcpi_segs_out;
}

/*
 * Coalesced on the wire: with TCP_NODELAY, a header, a file range and a
 * trailer sent by one zc_sendv() leave as one TCP segment (loopback's MSS
 * is 64 KiB), where send() + sendfile(2) + send() make three. The
 * receiver sends no data, so the sender's segment count moves only by
 * what it sends.
 */
static void coalesced(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	static const char h[200] = "HTTP/1.1 200 OK\r\n", t[] = "\r\n0\r\n\r\n";
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, s, one = 1;
	struct zcopy_seg v[3] = { zc_seg_mem(h, sizeof(h)), zc_seg_file(files[1], 0, 1000),
				  zc_seg_mem(t, 7) };
	unsigned int before, zc_segs, ref_segs;
	off_t off = 0;
	ssize_t n, m;
	size_t got;

	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &al))
		die("coalesced listen");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&a, sizeof(a)) || (s = accept(l, NULL, NULL)) < 0)
		die("coalesced connect");
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	before = segs_out(c);
	n = zc_sendv(c, v, 3, 0, NULL);
	got = recv_upto(s, 1207, 2000);
	zc_segs = segs_out(c) - before;

	before = segs_out(c);
	m = send(c, h, sizeof(h), 0);
	m += sendfile(c, files[1], &off, 1000);
	m += send(c, t, 7, 0);
	got += recv_upto(s, 1207, 2000);
	ref_segs = segs_out(c) - before;

	report(n == 1207 && m == 1207 && got == 2 * 1207 && zc_segs == 1 && ref_segs == 3,
	       "sendv: header, file and trailer leave in one TCP segment (send+sendfile+send: 3)",
	       "zc_sendv %zd bytes in %u segments, reference %zd in %u, received %zu", n, zc_segs,
	       m, ref_segs, got);
	close(c);
	close(s);
	close(l);
}

void test_sendv(void)
{
	char name[64];

	for (unsigned int i = 0; i < sizeof(mem); i++)
		mem[i] = (unsigned char)(i * 31 + 7);
	for (int i = 0; i < NFILES; i++) {
		char *path;

		snprintf(name, sizeof(name), "sendv-%d", i);
		path = make_file(name, file_sizes[i], 1);
		files[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (files[i] < 0)
			die(path);
		unlink(path);
	}
	equivalence(&lo4, 0, 150);
	equivalence(&lo4, 1, 100);
	equivalence(&unix_peer, 0, 100);
	equivalence(&unix_peer, 1, 100);
	bad_inputs();
	eof_and_limits();
	records();
	coalesced();
	proof(&lo4);
	proof(&unix_peer);
	proof(&veth);
	proof(&nosg);
	send_more();
	for (int i = 0; i < NFILES; i++)
		close(files[i]);
}
