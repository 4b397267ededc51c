// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * t_unpriv.c - the data path as an unprivileged user (part "unpriv").
 *
 * What it shows: that /dev/zcopy gives a user without any capability
 * exactly what sendfile(2) gives them, no more: bytes of a file they hold
 * open for reading, to a socket they hold open for writing. Permission is
 * the descriptor's, as for sendfile(2): a descriptor root opened and passed
 * down sends, the same file opened by name does not open. Bad descriptors
 * and kernel pointers get sendfile(2)'s errnos. And the restriction
 * SECURITY.md recommends (device mode 0660 and a group) works as written:
 * outside the group open() fails EACCES, in the group the calls work, and
 * a descriptor opened before stays usable (permission is checked at open,
 * as for any device).
 *
 * Each case runs in a forked child that drops to uid and gid 65534 (no
 * capabilities left: setuid() from root to another uid clears them). The
 * child reports its own results and hands its counts back through a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define NOBODY	   65534
#define DEV_GROUP  4242 /* the group of the restricted device */
#define KERNEL_PTR ((void *)0xffffffff81000000UL)

/* What the parent opened for the children, as root. */
struct fixture {
	const char *open_path; /* 0644: anyone may open it */
	const char *root_path; /* 0600, root's: only root may open it */
	size_t size;
	uint64_t seed;
	int root_ro; /* root_path, opened O_RDONLY by root */
	int root_wo; /* root_path, opened O_WRONLY by root */
};

/*
 * Send @size bytes of @in from offset 0 to a TCP receiver on lo, with
 * zc_sendfile() or (@real) sendfile(2). Returns 1 if the call sent it all
 * in one go and the receiver got exactly the pattern, else 0 with *@why.
 */
static int send_checked(int in, size_t size, uint64_t seed, int real, char *why, size_t whylen)
{
	off_t off = 0;
	struct rx rx;
	ssize_t n;
	long bad;
	int sock, err;

	sock = rx_start(&rx, &lo4, size + 1, -1);
	n = real ? sendfile(sock, in, &off, size) : zc_sendfile(sock, in, &off, size);
	err = errno;
	rx_finish(&rx, sock);
	bad = rx.got == size ? check_pattern(rx.buf, size, seed, 0) : -1;
	rx_free(&rx);
	if (n != (ssize_t)size || off != (off_t)size) {
		snprintf(why, whylen, "%s returned %zd (%s), offset %lld",
			 real ? "sendfile" : "zc_sendfile", n, n < 0 ? errname(err) : "-",
			 (long long)off);
		return 0;
	}
	if (rx.got != size || bad >= 0) {
		snprintf(why, whylen, "received %zu of %zu bytes, first bad byte %ld", rx.got, size,
			 bad);
		return 0;
	}
	return 1;
}

/* A bad call through zc_sendfile() and sendfile(2): both -1 with @want. */
static void both_fail(const char *name, int in, off_t *off, size_t count, int want)
{
	ssize_t r1, r2;
	int e1, e2, sv[2];

	tcp_lo_pair(sv, 0);
	errno = 0;
	r1 = zc_sendfile(sv[0], in, off, count);
	e1 = errno;
	errno = 0;
	r2 = sendfile(sv[0], in, off, count);
	e2 = errno;
	close(sv[0]);
	close(sv[1]);
	report(r1 == -1 && e1 == want && r2 == -1 && e2 == want, name,
	       "zc_sendfile %zd %s, sendfile %zd %s, want -1 %s", r1, errname(e1), r2, errname(e2),
	       errname(want));
}

/* The device at 0666: what uid 65534 can and cannot do. */
static void as_nobody(const struct fixture *f)
{
	struct zcopy_seg seg = zc_seg_mem(KERNEL_PTR, 4096);
	char why[160];
	ssize_t r;
	int in, ok, sv[2];

	/* Its own descriptor of the device, not the one root's process opened. */
	zc_close();
	errno = 0;
	ok = zc_device_fd() >= 0;
	report(ok, "unpriv: uid 65534 opens /dev/zcopy (mode 0666)", "%s", errname(errno));

	in = open(f->open_path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(f->open_path);
	ok = send_checked(in, f->size, f->seed, 0, why, sizeof(why)) &&
	     send_checked(in, f->size, f->seed, 1, why, sizeof(why));
	report(ok, "unpriv: uid 65534 sends a file it opened, whole, as sendfile(2) does", "%s",
	       why);
	close(in);

	errno = 0;
	in = open(f->root_path, O_RDONLY | O_CLOEXEC);
	report(in < 0 && errno == EACCES, "unpriv: uid 65534 cannot open root's 0600 file",
	       "open returned %d (%s)", in, errname(errno));
	if (in >= 0)
		close(in);
	ok = send_checked(f->root_ro, f->size, f->seed, 0, why, sizeof(why)) &&
	     send_checked(f->root_ro, f->size, f->seed, 1, why, sizeof(why));
	report(ok,
	       "unpriv: a read descriptor of that file root passed down sends, as sendfile(2): the "
	       "descriptor is the permission",
	       "%s", why);

	both_fail("unpriv: root's write-only descriptor of it: EBADF, as sendfile(2)", f->root_wo,
		  NULL, 4096, EBADF);
	both_fail("unpriv: an offset pointer to kernel memory: EFAULT, as sendfile(2)", f->root_ro,
		  KERNEL_PTR, 4096, EFAULT);

	tcp_lo_pair(sv, 0);
	errno = 0;
	r = zc_sendv(sv[0], &seg, 1, 0, NULL);
	report(r == -1 && errno == EFAULT,
	       "unpriv: a memory segment at a kernel address: EFAULT, nothing sent",
	       "zc_sendv returned %zd (%s)", r, errname(errno));
	close(sv[0]);
	close(sv[1]);
}

/* The device at 0660, group DEV_GROUP: uid 65534 outside the group. */
static void outside_group(const struct fixture *f)
{
	char why[160];
	int in, ok, dev;

	in = open(f->open_path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(f->open_path);
	/* The library still holds the descriptor root's process opened. */
	ok = send_checked(in, f->size, f->seed, 0, why, sizeof(why));
	report(ok,
	       "unpriv: outside the device's group, a /dev/zcopy descriptor opened before still "
	       "sends (permission is checked at open)",
	       "%s", why);
	zc_close();
	errno = 0;
	dev = open(ZCOPY_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	report(dev < 0 && errno == EACCES,
	       "unpriv: outside the device's group (mode 0660), open(/dev/zcopy) fails EACCES",
	       "open returned %d (%s)", dev, errname(errno));
	if (dev >= 0)
		close(dev);
	ok = !send_checked(in, f->size, f->seed, 0, why, sizeof(why)) && strstr(why, "EACCES");
	report(ok, "unpriv: outside the device's group, zc_sendfile fails EACCES, nothing sent",
	       "%s", ok ? "" : why);
	ok = send_checked(in, f->size, f->seed, 1, why, sizeof(why));
	report(ok, "unpriv: outside the device's group, sendfile(2) still works (the fallback)",
	       "%s", why);
	close(in);
}

/* The device at 0660, group DEV_GROUP: uid 65534 in the group. */
static void in_group(const struct fixture *f)
{
	char why[160];
	int in, ok;

	zc_close();
	in = open(f->open_path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(f->open_path);
	ok = send_checked(in, f->size, f->seed, 0, why, sizeof(why));
	report(ok, "unpriv: in the device's group (mode 0660), uid 65534 opens it and sends", "%s",
	       why);
	close(in);
}

/*
 * Run @fn in a child as uid and gid 65534, with @group as its only
 * supplementary group (none if 0); add the child's counts to ours.
 */
static void run_as_nobody(void (*fn)(const struct fixture *), const struct fixture *f, gid_t group)
{
	int counts[2] = { -1, -1 }, pfd[2], status;
	pid_t pid;

	if (pipe(pfd))
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(pfd[0]);
		n_passed = n_failed = 0;
		if (setgroups(group ? 1 : 0, &group) || setgid(NOBODY) || setuid(NOBODY) ||
		    geteuid() != NOBODY) {
			perror("unpriv: dropping to uid 65534");
			_exit(1);
		}
		fn(f);
		counts[0] = n_passed;
		counts[1] = n_failed;
		fflush(stdout);
		if (write(pfd[1], counts, sizeof(counts)) != sizeof(counts))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], counts, sizeof(counts)) != sizeof(counts))
		counts[0] = -1;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (counts[0] < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		report(0, "unpriv: the child as uid 65534 ran to its end", "status %#x", status);
		return;
	}
	n_passed += counts[0];
	n_failed += counts[1];
}

/* The device's mode and group, as the udev rule of SECURITY.md sets them. */
static void restrict_device(mode_t mode, gid_t gid)
{
	if (chown(ZCOPY_DEVICE_PATH, 0, gid) || chmod(ZCOPY_DEVICE_PATH, mode))
		die("chown/chmod " ZCOPY_DEVICE_PATH);
}

void test_unpriv(void)
{
	struct fixture f = { .size = 3 * MiB + 777, .seed = 65 };
	struct stat st;

	if (stat(ZCOPY_DEVICE_PATH, &st))
		die(ZCOPY_DEVICE_PATH);
	f.open_path = strdup(make_file("unpriv-open", f.size, f.seed));
	f.root_path = strdup(make_file("unpriv-root", f.size, f.seed));
	if (!f.open_path || !f.root_path || chmod(f.open_path, 0644) || chmod(f.root_path, 0600))
		die("chmod");
	f.root_ro = open(f.root_path, O_RDONLY | O_CLOEXEC);
	f.root_wo = open(f.root_path, O_WRONLY | O_CLOEXEC);
	if (f.root_ro < 0 || f.root_wo < 0)
		die(f.root_path);
	/* The library's descriptor, opened by root: inherited by the children. */
	if (zc_device_fd() < 0)
		die(ZCOPY_DEVICE_PATH);

	restrict_device(0666, 0);
	run_as_nobody(as_nobody, &f, 0);
	restrict_device(0660, DEV_GROUP);
	run_as_nobody(outside_group, &f, 0);
	run_as_nobody(in_group, &f, DEV_GROUP);
	restrict_device(st.st_mode & 07777, st.st_gid);

	close(f.root_ro);
	close(f.root_wo);
	unlink(f.open_path);
	unlink(f.root_path);
	free((char *)f.open_path);
	free((char *)f.root_path);
}
