// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * t_preload.c - zctest part "preload": what `zcopy run` rests on.
 *
 * The library's cached /dev/zcopy descriptor when the program closes it
 * or puts its own file or socket on that number (zc_ioctl() in zcopy.c):
 * sends still work, and the program's descriptor is left as it was.
 *
 * libzcopy-preload.so, loaded with dlopen() so that its sendfile() can be
 * called beside the real one: the same bytes, return values, offsets and
 * errnos as sendfile(2); a non-socket goes to the real sendfile(2); the
 * counts it writes at exit, per process across fork().
 */
#include "common.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (256 * KiB + 123)

/* Send all of @in to a loopback receiver with @fn; 1 if the bytes arrived. */
static int send_check(ssize_t (*fn)(int, int, off_t *, size_t), int in, const char *name)
{
	struct rx rx;
	int sock = rx_start(&rx, &lo4, SIZE + 1, -1);
	off_t off = 0;
	ssize_t n = 0;
	long bad;
	int ok;

	while (off < (off_t)SIZE) {
		n = fn(sock, in, &off, SIZE - off);
		if (n <= 0)
			break;
	}
	rx_finish(&rx, sock);
	bad = check_pattern(rx.buf, rx.got, 11, 0);
	ok = off == (off_t)SIZE && rx.got == SIZE && bad < 0;
	report(ok, name, "offset %lld, last return %zd (%s), received %zu, first bad byte %ld",
	       (long long)off, n, n < 0 ? errname(errno) : "-", rx.got, bad);
	rx_free(&rx);
	return ok;
}

static ssize_t lib_sendfile(int out, int in, off_t *off, size_t count)
{
	return zc_sendfile(out, in, off, count);
}

static int is_zcopy_dev(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(ZCOPY_DEVICE_PATH, &b) == 0 && S_ISCHR(a.st_mode) &&
	       a.st_rdev == b.st_rdev;
}

static void test_cached_fd(int in)
{
	struct stat before, after;
	char buf[128];
	int dev, f, sv[2];
	off_t pos;
	ssize_t n;

	/* Closed behind the library's back: EBADF, reopened. */
	dev = zc_device_fd();
	close(dev);
	send_check(lib_sendfile, in, "library fd closed by the program: zc_sendfile() still sends");
	report(is_zcopy_dev(zc_device_fd()), "  ... and the library has /dev/zcopy open again",
	       "zc_device_fd() %d", zc_device_fd());

	/* The program's file on that number: ENOTTY, forgotten, not closed. */
	dev = zc_device_fd();
	f = open(make_file("preload-victim", 100, 12), O_RDWR | O_CLOEXEC);
	if (f < 0 || dup2(f, dev) != dev)
		die("dup2 file");
	close(f);
	if (fstat(dev, &before) < 0 || lseek(dev, 7, SEEK_SET) != 7)
		die("victim");
	send_check(lib_sendfile, in,
		   "a file dup2()ed over the library fd: zc_sendfile() still sends");
	pos = lseek(dev, 0, SEEK_CUR);
	n = pread(dev, buf, sizeof(buf), 0);
	if (fstat(dev, &after) < 0)
		after.st_ino = 0;
	report(after.st_ino == before.st_ino && pos == 7 && n == 100 &&
		       check_pattern((unsigned char *)buf, 100, 12, 0) < 0,
	       "  ... the program's file is still open there, position and bytes untouched",
	       "ino %llu/%llu, position %lld, pread %zd", (unsigned long long)after.st_ino,
	       (unsigned long long)before.st_ino, (long long)pos, n);
	report(zc_device_fd() != dev && is_zcopy_dev(zc_device_fd()),
	       "  ... and the library opened /dev/zcopy on another number", "%d (was %d)",
	       zc_device_fd(), dev);
	/* zc_close() must not close what is not the device any more. */
	zc_close();
	report(fcntl(dev, F_GETFD) >= 0, "  ... zc_close() leaves the program's fd open", "%s",
	       errname(errno));
	close(dev);

	/* The program's socket on that number: nothing sent or read on it. */
	dev = zc_device_fd();
	unix_pair(sv);
	if (dup2(sv[0], dev) != dev)
		die("dup2 socket");
	close(sv[0]);
	send_check(lib_sendfile, in,
		   "a socket dup2()ed over the library fd: zc_sendfile() still sends");
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	n = write(dev, "x", 1);
	report(n == 1 && read(sv[1], buf, sizeof(buf)) == 1 && buf[0] == 'x',
	       "  ... the program's socket got nothing from the library, and still works",
	       "write %zd", n);
	close(dev);
	close(sv[1]);

	/* An error of the call's own: returned, the descriptor kept. */
	dev = zc_device_fd();
	n = zc_sendfile(dev, -1, NULL, 10);
	report(n == -1 && errno == EBADF && zc_device_fd() == dev,
	       "a bad in_fd: EBADF, the library fd checked and kept", "%zd %s, fd %d (was %d)", n,
	       errname(errno), zc_device_fd(), dev);
}

typedef ssize_t (*sendfile_fn)(int, int, off_t *, size_t);

static sendfile_fn pre_sendfile, pre_sendfile64;

static ssize_t via_preload(int out, int in, off_t *off, size_t count)
{
	return pre_sendfile(out, in, off, count);
}

static ssize_t via_preload64(int out, int in, off_t *off, size_t count)
{
	return pre_sendfile64(out, in, off, count);
}

/* Sum of field @key over the lines of @path with pid @pid (0: any). */
static long long stat_field(const char *path, int pid, const char *key)
{
	char line[512], *p;
	long long sum = -1;
	FILE *f = fopen(path, "r");
	int lp;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "pid %d", &lp) != 1 || (pid && lp != pid))
			continue;
		p = strstr(line, key);
		if (p && p[strlen(key)] == ' ')
			sum = (sum < 0 ? 0 : sum) + atoll(p + strlen(key) + 1);
	}
	fclose(f);
	return sum;
}

static void test_interposer(int in)
{
	char stats[256], out_path[256];
	struct rx rx;
	off_t off, pos;
	ssize_t n, m;
	int sock, out, st, sv[2];
	unsigned char *buf;
	void *h;
	pid_t pid;

	snprintf(stats, sizeof(stats), "%s/preload.stats", dir);
	unlink(stats);
	setenv("ZCOPY_PRELOAD_STATS", stats, 1);
	h = dlopen("libzcopy-preload.so", RTLD_NOW | RTLD_LOCAL);
	unsetenv("ZCOPY_PRELOAD_STATS");
	report(h != NULL, "dlopen libzcopy-preload.so", "%s", dlerror());
	if (!h)
		return;
	pre_sendfile = (sendfile_fn)dlsym(h, "sendfile");
	pre_sendfile64 = (sendfile_fn)dlsym(h, "sendfile64");
	report(pre_sendfile && pre_sendfile64 && !dlsym(h, "zc_sendfile"),
	       "the interposer exports sendfile and sendfile64, not libzcopy's symbols", "-");
	if (!pre_sendfile || !pre_sendfile64)
		return;

	send_check(via_preload, in,
		   "interposed sendfile() to TCP: the file's bytes, offset advanced");
	send_check(via_preload64, in, "interposed sendfile64() to TCP: the same");

	/* Offset NULL: the file position is read and advanced. */
	sock = rx_start(&rx, &lo4, SIZE + 1, -1);
	lseek(in, 4096, SEEK_SET);
	n = pre_sendfile(sock, in, NULL, 1000);
	pos = lseek(in, 0, SEEK_CUR);
	rx_finish(&rx, sock);
	report(n == 1000 && pos == 5096 && rx.got == 1000 &&
		       check_pattern(rx.buf, 1000, 11, 4096) < 0,
	       "interposed sendfile() with a NULL offset: from and past the file position",
	       "%zd, position %lld, received %zu", n, (long long)pos, rx.got);
	rx_free(&rx);
	lseek(in, 0, SEEK_SET);

	/* Not a socket: the real sendfile(2) writes the file. */
	snprintf(out_path, sizeof(out_path), "%s/preload.out", dir);
	out = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	off = 100;
	n = pre_sendfile(out, in, &off, 5000);
	buf = malloc(5000);
	m = pread(out, buf, 5000, 0);
	report(n == 5000 && off == 5100 && m == 5000 && check_pattern(buf, 5000, 11, 100) < 0,
	       "interposed sendfile() to a regular file: the real sendfile(2) wrote it",
	       "%zd (%s), offset %lld, file has %zd", n, n < 0 ? errname(errno) : "-",
	       (long long)off, m);
	free(buf);
	close(out);
	unlink(out_path);

	/* sendfile(2)'s own errors, as they are. */
	sock = rx_start(&rx, &lo4, 16, -1);
	off = 0;
	errno = 0;
	n = pre_sendfile(sock, -1, &off, 10);
	report(n == -1 && errno == EBADF, "interposed sendfile() with a bad in_fd: EBADF", "%zd %s",
	       n, errname(errno));
	off = -1;
	n = pre_sendfile(sock, in, &off, 10);
	report(n == -1 && errno == EINVAL && off == -1,
	       "interposed sendfile() with a negative offset: EINVAL", "%zd %s", n, errname(errno));
	rx_finish(&rx, sock);
	rx_free(&rx);
	/* A full non-blocking socket: EAGAIN, and the offset says what went. */
	unix_pair(sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	st = 16384;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &st, sizeof(st));
	off = 0;
	while ((n = pre_sendfile(sv[0], in, &off, SIZE - off)) > 0 && off < (off_t)SIZE)
		;
	report(n == -1 && errno == EAGAIN && off > 0 && off < (off_t)SIZE,
	       "interposed sendfile() on a full non-blocking socket: EAGAIN after a short count",
	       "%zd %s, offset %lld", n, errname(errno), (long long)off);
	close(sv[0]);
	close(sv[1]);

	/* fork(): the child counts its own calls only. */
	pid = fork();
	if (pid == 0) {
		sock = rx_start(&rx, &lo4, SIZE + 1, -1);
		off = 0;
		n = pre_sendfile(sock, in, &off, 4096);
		rx_finish(&rx, sock);
		exit(n == 4096 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	report(WIFEXITED(st) && WEXITSTATUS(st) == 0 && stat_field(stats, pid, "calls") == 1 &&
		       stat_field(stats, pid, "bytes") == 4096 &&
		       stat_field(stats, pid, "fallback_calls") == 0,
	       "a forked child sends through the interposer and counts its own call only",
	       "status %d, calls %lld, bytes %lld", st, stat_field(stats, pid, "calls"),
	       stat_field(stats, pid, "bytes"));

	/* dlclose(): the destructor writes this process's counts. */
	dlclose(h);
	report(stat_field(stats, getpid(), "bytes") == (long long)(2 * SIZE + 1000) + off &&
		       stat_field(stats, getpid(), "zc") > 0 &&
		       stat_field(stats, getpid(), "fallback_calls") == 1 &&
		       stat_field(stats, getpid(), "fallback_bytes") == 5000 &&
		       stat_field(stats, getpid(), "errors") == 3,
	       "the interposer's counts: bytes through zcopy, one fallback of 5000, 3 errors",
	       "bytes %lld (want %lld), zc %lld, fallback %lld/%lld, errors %lld",
	       stat_field(stats, getpid(), "bytes"), (long long)(2 * SIZE + 1000 + off),
	       stat_field(stats, getpid(), "zc"), stat_field(stats, getpid(), "fallback_calls"),
	       stat_field(stats, getpid(), "fallback_bytes"),
	       stat_field(stats, getpid(), "errors"));
	unlink(stats);
}

void test_preload(void)
{
	char *path = make_file("preload", SIZE, 11);
	int in = open(path, O_RDONLY | O_CLOEXEC);

	if (in < 0)
		die(path);
	test_cached_fd(in);
	test_interposer(in);
	close(in);
	unlink(path);
}
