/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common.h - what the parts of zctest share: reporting, deterministic file
 * contents, peers to send to (loopback, veth, a copy-only route, AF_UNIX),
 * a receiving thread, and the two methods under comparison (zcopy and
 * sendfile(2)).
 */
#ifndef ZCTEST_COMMON_H
#define ZCTEST_COMMON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "zcopy.h"

#define KiB  1024UL
#define MiB  (1024UL * 1024UL)
#define PAGE 4096UL

/* ---- reporting ---------------------------------------------------------- */

extern int n_passed, n_failed;
extern int corrupt_rx;	/* self-test: receivers flip byte 100 of what they get */
extern const char *dir; /* where test files are created (tmpfs) */

void report(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *what) __attribute__((noreturn));
const char *errname(int err);
/* The number a sysfs or procfs file starts with, or -1. */
long read_long(const char *path);

/* ---- the kernel's fault injectors (debug kernels; run.sh sets them up) -- */

/* Their budgets of failures left, counting down as they fail allocations. */
#define FAILSLAB_TIMES	"/sys/kernel/debug/failslab/times"
#define FAIL_PAGE_TIMES "/sys/kernel/debug/fail_page_alloc/times"
/* Mark (1) or unmark (0) the calling thread for them; errno kept; 0 or -1. */
int make_it_fail(int on);

/* ---- file contents: a pure function of (seed, offset) ------------------ */

void pattern(uint64_t seed, uint64_t start, unsigned char *buf, size_t len);
/* Create DIR/NAME (or @in_dir/NAME) of @size pattern bytes; returns a path. */
char *make_file_in(const char *in_dir, const char *name, size_t size, uint64_t seed);
char *make_file(const char *name, size_t size, uint64_t seed);
/* Index of the first byte of @got that differs from the pattern, or -1. */
long check_pattern(const unsigned char *got, size_t len, uint64_t seed, uint64_t start);

/* ---- peers ------------------------------------------------------------ */

struct peer {
	const char *name;
	int family;	  /* AF_INET, AF_INET6, AF_UNIX (a socketpair) */
	const char *addr; /* listening address (IP families) */
	const char *from; /* our address on that link, for TCP_MD5SIG */
	int netns_fd;	  /* -1: this namespace */
	int md5;	  /* sign TCP with MD5: disables GSO, hence SG */
	int zc;		  /* 1 if zcopy must report zero-copy on this path */
};

extern struct peer lo4, lo6, unix_peer, veth, nosg;

/* splitmix64: the next number of the sequence *@state seeds (the fuzzers' and stress's). */
uint64_t splitmix64(uint64_t *state);

/* A connected stream pair of AF_UNIX sockets. */
void unix_pair(int sv[2]);
/* A connected TCP pair over loopback; @rcvbuf, if not 0, the receiver's SO_RCVBUF. */
void tcp_lo_pair(int sv[2], int rcvbuf);

/* The receiving end: accepts one connection and reads it to EOF. */
struct rx {
	int lfd;  /* listening socket, or -1 (AF_UNIX pair) */
	int conn; /* AF_UNIX: the receiving end */
	int gate; /* >= 0: read one byte from it before reading */
	unsigned char *buf;
	size_t cap;
	size_t got; /* all bytes received, even past cap */
	pthread_t thread;
};

/* Start a receiver on @p; returns the connected sending socket. */
int rx_start(struct rx *rx, const struct peer *p, size_t cap, int gate);
/* Close the sending side and wait for the receiver to see EOF. */
void rx_finish(struct rx *rx, int sock);
void rx_free(struct rx *rx);

/* ---- the methods -------------------------------------------------------- */

/* @st is filled by zcopy (zero-copy/copied split); sendfile leaves it zero. */
typedef ssize_t (*send_fn)(int out, int in, off_t *off, size_t count, struct zc_stats *st);

struct method {
	const char *name;
	send_fn fn;
	int is_zcopy;
};

extern const struct method m_zcopy, m_sendfile;
extern const struct method *const methods[2];

/* ---- the parts -------------------------------------------------------- */

void test_transfers(void);
void test_large(void);
void test_accounting(void);
void test_bad_inputs(const char *file);
void test_unpriv(void);
void test_abi(const char *file);
void test_sinks(const char *file);
void test_sources(void);
void test_differential(void);
void test_fsmatrix(void);
void test_tls(void);
void test_faults(const char *which, const char *ext4_dir);
void test_sendv(void);
void test_stats(void);
void test_nlfuzz(void);
void test_fuzz(void);
void test_stress(void);
void test_notify(void);
void test_nodiskio(void);
void test_preload(void);
int sink_main(int argc, char **argv);
int unload_main(int argc, char **argv);
int zcfuse_main(int argc, char **argv);

#endif /* ZCTEST_COMMON_H */
