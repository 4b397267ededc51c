/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zctest - the guest test suite of zcopy, run inside the QEMU guest.
 *
 * Every test asserts on bytes received by a real peer socket, on return
 * values and on errno; wherever sendfile(2) defines the behaviour, the same
 * operation is also run through sendfile(2) and both must agree.
 *
 *   zctest [DIR]                   run the suite on files created in DIR
 *   zctest sink [-6] PORT OUTFILE  accept one TCP connection, save it
 *   zctest selftest                the transfer tests with every receiver
 *                                  corrupting byte 100: exits 0 only if
 *                                  they fail, proving they can
 *   zctest faults slab|page [DIR]  transfers under failslab or
 *                                  fail_page_alloc fault injection
 *                                  (debug kernels; run.sh sets the
 *                                  injector up); DIR: ext4, for files
 *                                  the page cache does not hold
 *   zctest nocap PROG ARGS...      run PROG without CAP_NET_ADMIN
 *   zctest unload MODE DIR [ARG]   what run.sh unloads the module around
 *                                  (t_unload.c)
 *
 * The parts: t_xfer.c (transfers, accounting, proof of reference),
 * t_bad.c (bad inputs, ABI), t_unpriv.c (the data path as uid 65534,
 * and the device restricted to a group), t_sinks.c (socket behaviour), t_sources.c
 * (file systems, copy path, readahead, truncation), t_tls.c (kTLS),
 * t_diff.c (the differential test against sendfile(2)), t_fsmatrix.c
 * (every file system against sendfile(2); files appended, truncated,
 * poisoned or failing under a transfer; record sockets), t_faults.c
 * (allocation failures), t_sendv.c (ZCOPY_IOC_SENDV against writev(2)
 * and sendfile(2), its bad inputs, ZCOPY_SEND_MORE), t_stats.c (the
 * generic netlink family: counters per namespace, events, settings),
 * t_nlfuzz.c (the family's policy, and a fuzzer of it), t_fuzz.c (a
 * fuzzer of the ioctls and read(2)), t_stress.c (many users at once,
 * and faults among them), t_notify.c
 * (completion notices, ZCOPY_SEND_NOTIFY), t_nodiskio.c
 * (ZCOPY_SEND_NODISKIO and the readahead hint on a throttled disk),
 * t_preload.c (the library's descriptor reused by the program, and
 * libzcopy-preload.so against sendfile(2)).
 *
 * Environment (set by run.sh): ZC_PEER_NETNS (a network namespace file)
 * with ZC_PEER_ADDR (an IPv4 address in it over veth) and ZC_NOSG_ADDR /
 * ZC_NOSG_FROM (the two ends of a second veth pair with scatter-gather
 * off); ZC_EXT4_DIR, ZC_EXT4_DEV, ZC_EXT4_STAT, ZC_HUGE_DIR for
 * t_sources.c; ZC_TMPFS_DIR, ZC_XFS_DIR, ZC_CGROUP_DIR, ZC_CONFIGFS_DIR
 * and ZC_FUSE_DIR too for t_fsmatrix.c; ZC_DISK_DIR for t_nodiskio.c.
 * Without them those tests fail; they are not skipped.
 *
 * Prints "ok - NAME" or "not ok - NAME: why" per test and ends with
 * "zctest: N passed, N failed"; exits 1 on any failure.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* ---- sink: a plain receiver for the CLI tests ------------------------- */

int sink_main(int argc, char **argv)
{
	int six = argc > 2 && !strcmp(argv[2], "-6");
	const char *port = argv[2 + six], *out;
	struct sockaddr_storage ss;
	int lfd, c, fd, one = 1;
	char buf[65536];
	ssize_t n;

	if (argc != 4 + six) {
		fprintf(stderr, "usage: zctest sink [-6] PORT OUTFILE\n");
		return 2;
	}
	out = argv[3 + six];
	memset(&ss, 0, sizeof(ss));
	if (six) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(atoi(port));
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(atoi(port));
	}
	lfd = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 ||
	    bind(lfd, (void *)&ss, six ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) <
		    0 ||
	    listen(lfd, 1) < 0) {
		perror("sink: listen");
		return 1;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	/* Tell the caller we are listening: the file exists from here on. */
	c = accept(lfd, NULL, NULL);
	if (fd < 0 || c < 0) {
		perror("sink: accept");
		return 1;
	}
	while ((n = read(c, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return 1;
	return n < 0 || close(fd) < 0;
}

/*
 * nocap: run a program without CAP_NET_ADMIN, for the CLI's EPERM checks.
 * Out of the bounding set, root's exec cannot get it back; busybox has no
 * tool for that, and user namespaces are not on every test kernel.
 */
static int nocap_main(char **argv)
{
	if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) < 0) {
		perror("nocap: PR_CAPBSET_DROP");
		return 1;
	}
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 1;
}

/* Is @name one of the space-separated @parts (all of them if NULL)? */
static int part(const char *parts, const char *name)
{
	size_t n = strlen(name);
	const char *p = parts;

	if (!parts || !*parts)
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == parts || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *netns = getenv("ZC_PEER_NETNS");
	const char *parts;
	char *small;

	if (argc > 1 && !strcmp(argv[1], "sink"))
		return sink_main(argc, argv);
	if (argc > 2 && !strcmp(argv[1], "fuse"))
		return zcfuse_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "unload"))
		return unload_main(argc, argv);
	if (argc > 2 && !strcmp(argv[1], "nocap"))
		return nocap_main(argv);
	if (argc > 1 && !strcmp(argv[1], "selftest")) {
		corrupt_rx = 1;
		test_transfers();
		fprintf(stderr, "selftest: %d of %d transfer tests caught the corruption\n",
			n_failed, n_passed + n_failed);
		return n_failed > 0 && n_failed >= n_passed ? 0 : 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2 && !strcmp(argv[1], "faults")) {
		if (zc_device_fd() < 0)
			die(ZCOPY_DEVICE_PATH);
		test_faults(argv[2], argc > 3 ? argv[3] : NULL);
		printf("zctest faults: %d passed, %d failed\n", n_passed, n_failed);
		return n_failed ? 1 : 0;
	}
	if (argc > 1)
		dir = argv[1];

	veth.addr = getenv("ZC_PEER_ADDR");
	nosg.addr = getenv("ZC_NOSG_ADDR");
	nosg.from = getenv("ZC_NOSG_FROM");
	if (netns && veth.addr && nosg.addr && nosg.from) {
		veth.netns_fd = open(netns, O_RDONLY | O_CLOEXEC);
		if (veth.netns_fd < 0)
			die(netns);
		nosg.netns_fd = veth.netns_fd;
	} else {
		veth.addr = nosg.addr = NULL;
	}
	if (zc_device_fd() < 0)
		die(ZCOPY_DEVICE_PATH);

	/* ZC_PARTS="tls diff ...": only those parts, when chasing a problem. */
	parts = getenv("ZC_PARTS");
	if (part(parts, "transfers"))
		test_transfers();
	if (part(parts, "large"))
		test_large();
	if (part(parts, "accounting"))
		test_accounting();
	/* A copy: make_file()'s result is one of 4 slots the parts reuse. */
	small = strdup(make_file("small", 8 * MiB, 5));
	if (!small)
		die("strdup");
	if (part(parts, "bad"))
		test_bad_inputs(small);
	if (part(parts, "abi"))
		test_abi(small);
	if (part(parts, "unpriv"))
		test_unpriv();
	if (part(parts, "sinks"))
		test_sinks(small);
	unlink(small);
	free(small);
	if (part(parts, "sources"))
		test_sources();
	if (part(parts, "tls"))
		test_tls();
	if (part(parts, "diff"))
		test_differential();
	if (part(parts, "fsmatrix"))
		test_fsmatrix();
	if (part(parts, "sendv"))
		test_sendv();
	if (part(parts, "stats"))
		test_stats();
	if (part(parts, "notify"))
		test_notify();
	if (part(parts, "nodiskio"))
		test_nodiskio();
	/* After the parts that count calls: it makes thousands. */
	if (part(parts, "fuzz"))
		test_fuzz();
	if (part(parts, "stress"))
		test_stress();
	if (part(parts, "preload"))
		test_preload();
	/* Last: it resets the netlink family's counters. */
	if (part(parts, "nlfuzz"))
		test_nlfuzz();

	printf("zctest: %d passed, %d failed\n", n_passed, n_failed);
	return n_failed ? 1 : 0;
}
