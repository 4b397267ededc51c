/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t_tls.c - a kTLS socket as the sink: zero-copy HTTPS file serving is a
 * real use. Both ends of a loopback TCP connection switch to kernel TLS
 * (TCP_ULP "tls", AES-GCM-128, one fixed test key): the sender encrypts
 * in the kernel, the receiver decrypts, and the plaintext the receiver
 * reads must be the file. kTLS encrypts into records of its own, so every
 * byte is a copy, and zcopy must say so.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static int ktls(int fd, int dir)
{
	struct tls12_crypto_info_aes_gcm_128 ci = {
		.info = { .version = TLS_1_2_VERSION, .cipher_type = TLS_CIPHER_AES_GCM_128 },
	};

	memcpy(ci.key, "zcopy-test-key!!", TLS_CIPHER_AES_GCM_128_KEY_SIZE);
	memcpy(ci.iv, "nonce-iv", TLS_CIPHER_AES_GCM_128_IV_SIZE);
	memcpy(ci.salt, "salt", TLS_CIPHER_AES_GCM_128_SALT_SIZE);
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -1;
	return setsockopt(fd, SOL_TLS, dir, &ci, sizeof(ci));
}

struct tls_rx {
	int lfd;
	unsigned char *buf;
	size_t cap, got;
	int err;
	int ready; /* TLS_RX set up (or failed): written with __atomic */
};

static void *tls_rx_main(void *arg)
{
	struct tls_rx *rx = arg;
	int c = accept(rx->lfd, NULL, NULL);
	ssize_t n;

	if (c < 0 || ktls(c, TLS_RX)) {
		rx->err = errno;
		__atomic_store_n(&rx->ready, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&rx->ready, 1, __ATOMIC_RELEASE);
	while (rx->got < rx->cap && (n = read(c, rx->buf + rx->got, rx->cap - rx->got)) > 0)
		rx->got += n;
	close(c);
	return NULL;
}

static void tls_case(const struct method *m, const char *path, uint64_t seed, off_t start,
		     size_t count)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tls_rx rx = { .cap = count };
	socklen_t len = sizeof(a);
	uint64_t zc = 0, copied = 0;
	int in = open(path, O_RDONLY), s, setup;
	size_t sent = 0;
	off_t off = start;
	char name[120];
	pthread_t t;
	long bad;

	rx.buf = malloc(count);
	rx.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(rx.lfd, (void *)&a, sizeof(a)) || listen(rx.lfd, 1) ||
	    getsockname(rx.lfd, (void *)&a, &len))
		die("tls listen");
	pthread_create(&t, NULL, tls_rx_main, &rx);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (void *)&a, sizeof(a)))
		die("tls connect");
	setup = ktls(s, TLS_TX);
	snprintf(name, sizeof(name), "kTLS: %s sends %zu bytes from %lld, peer decrypts the file",
		 m->name, count, (long long)start);
	if (setup) {
		report(0, name, "TLS_TX setup failed: %s", errname(errno));
		shutdown(s, SHUT_RDWR);
	}
	while (!setup && sent < count) {
		struct zc_stats st;
		ssize_t n = m->fn(s, in, &off, count - sent, &st);

		if (n <= 0)
			break;
		sent += n;
		zc += st.zc_bytes;
		copied += st.copied_bytes;
	}
	close(s);
	pthread_join(t, NULL);
	close(rx.lfd);
	close(in);
	if (setup)
		goto out;
	bad = rx.got == count ? check_pattern(rx.buf, count, seed, start) : -2;
	report(sent == count && rx.got == count && bad == -1 &&
		       (!m->is_zcopy || (copied == count && zc == 0)),
	       name, "sent %zu, peer decrypted %zu (%s), first bad %ld, zc %llu copied %llu", sent,
	       rx.got, errname(rx.err), bad, (unsigned long long)zc, (unsigned long long)copied);
out:
	free(rx.buf);
}

/*
 * A response over kTLS in one zc_sendv(): header, file range, trailer.
 * kTLS makes records of its own, so everything is copied (encrypted) and
 * counted so; the peer must decrypt exactly header + range + trailer.
 */
static void tls_sendv_case(const char *path, uint64_t seed, off_t start, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static char hdr[200], trl[] = "\r\n0\r\n\r\n";
	size_t tl = sizeof(trl) - 1, total = sizeof(hdr) + len + tl, sent = 0;
	struct tls_rx rx = { .cap = total };
	socklen_t alen = sizeof(a);
	struct zc_stats st, sum = { 0 };
	int in = open(path, O_RDONLY), s, setup;
	struct zcopy_seg v[3], *p = v;
	unsigned int nr = 3;
	char name[120];
	pthread_t t;
	long bad;

	memset(hdr, 'H', sizeof(hdr));
	v[0] = zc_seg_mem(hdr, sizeof(hdr));
	v[1] = zc_seg_file(in, start, len);
	v[2] = zc_seg_mem(trl, tl);
	rx.buf = malloc(total);
	rx.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (in < 0 || bind(rx.lfd, (void *)&a, sizeof(a)) || listen(rx.lfd, 1) ||
	    getsockname(rx.lfd, (void *)&a, &alen))
		die("tls listen");
	pthread_create(&t, NULL, tls_rx_main, &rx);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (void *)&a, sizeof(a)))
		die("tls connect");
	setup = ktls(s, TLS_TX);
	/*
	 * A response this small is sent and the socket closed before the
	 * receiver may have set up TLS_RX, which a closed connection refuses
	 * (ENOTCONN): wait for it (5 s at most).
	 */
	for (int i = 0; i < 5000 && !__atomic_load_n(&rx.ready, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	while (!setup && nr) {
		ssize_t n = zc_sendv(s, p, nr, 0, &st);

		if (n <= 0)
			break;
		sent += n;
		sum.zc_bytes += st.zc_bytes;
		sum.copied_bytes += st.copied_bytes;
		zc_sendv_advance(&p, &nr, n);
	}
	if (setup)
		shutdown(s, SHUT_RDWR);
	close(s);
	pthread_join(t, NULL);
	close(rx.lfd);
	close(in);
	bad = rx.got == total ? check_pattern(rx.buf + sizeof(hdr), len, seed, start) : -2;
	snprintf(name, sizeof(name),
		 "kTLS: zc_sendv header + %zu file bytes from %lld + trailer, peer decrypts it",
		 len, (long long)start);
	report(!setup && sent == total && rx.got == total && bad == -1 && rx.buf[0] == 'H' &&
		       rx.buf[sizeof(hdr) - 1] == 'H' &&
		       !memcmp(rx.buf + sizeof(hdr) + len, trl, tl) && sum.copied_bytes == total &&
		       sum.zc_bytes == 0,
	       name, "sent %zu, peer decrypted %zu (%s), first bad %ld, zc %llu copied %llu", sent,
	       rx.got, errname(rx.err), bad, (unsigned long long)sum.zc_bytes,
	       (unsigned long long)sum.copied_bytes);
	free(rx.buf);
}

void test_tls(void)
{
	char *path = make_file("tls", 3 * MiB, 91);

	for (int m = 0; m < 2; m++) {
		tls_case(methods[m], path, 91, 0, 3 * MiB);
		tls_case(methods[m], path, 91, 4097, MiB + 5);
	}
	tls_sendv_case(path, 91, 0, 300);
	tls_sendv_case(path, 91, 4097, MiB + 5);
	unlink(path);
}
