/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libzcopy-preload.so: sendfile(2) for unmodified programs, through zcopy.
 *
 *	LD_PRELOAD=libzcopy-preload.so lighttpd -D -f lighttpd.conf
 *	zcopy run [--stats] -- lighttpd -D -f lighttpd.conf     (the same)
 *
 * Interposes sendfile() and sendfile64(). zc_sendfile() has sendfile's
 * contract (return value, errno, offset and file position), so a call
 * goes to the module as it is; the program cannot tell, but by speed.
 * What the module cannot do goes to the real sendfile(2), unchanged:
 *
 *  - ENOTSOCK: the out fd is not a socket (sendfile(2) writes to any
 *    file). The module checks the in fd first, exactly as sendfile(2)
 *    does, so this errno means nothing was read or sent. Asking the
 *    module is cheaper than an fstat(2) per call to find out first; an
 *    LSM or fanotify permission watcher then sees the read check twice.
 *  - /dev/zcopy cannot be opened (ENOENT: the module is not loaded):
 *    said once on stderr (ZCOPY_PRELOAD_QUIET=1 keeps quiet), and from
 *    then on every call is the real sendfile(2), with no further try:
 *    load the module before starting the server.
 *  - errnos sendfile(2) never gives, from a module that cannot take this
 *    call: ENOTTY and E2BIG (an older module), or from reopening the
 *    device (ENOENT, ENODEV, ENXIO, EMFILE, ENFILE; see zc_ioctl() in
 *    zcopy.c). The module returns an error only when it sent nothing.
 *
 * Every other error is sendfile(2)'s own (EAGAIN, EPIPE, EBADF, EINVAL,
 * ...) and is returned as it is: a retry could send bytes twice.
 *
 * Threads and processes: the state is atomics and a descriptor opened
 * O_CLOEXEC, nothing locked. A forked child shares the parent's open
 * /dev/zcopy (the same open file, as any inherited descriptor) and
 * starts its counts from zero; an exec'd program loads this library
 * again if LD_PRELOAD is still in its environment, and runs on plain
 * sendfile(2) if the program cleared it, which is safe.
 *
 * ZCOPY_PRELOAD_STATS=FILE: at exit, each process appends one line of
 * counts to FILE (zcopy run --stats reads them). ZCOPY_PRELOAD_DISABLE=1:
 * every call goes to the real sendfile(2) (counted as fallbacks), to
 * measure the interposer against its absence.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "zcopy.h"

/*
 * sendfile() is the symbol of the platform's own off_t: on a 32-bit
 * platform a 32-bit one, so this file must be built without
 * _FILE_OFFSET_BITS=64 there (sendfile64() takes the 64-bit offsets).
 */
#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64 && !defined(__LP64__)
#error "build libzcopy-preload.so without _FILE_OFFSET_BITS=64 on 32-bit platforms"
#endif

/*
 * Declared here, not by <sys/sendfile.h>: with _FILE_OFFSET_BITS=64 on a
 * 32-bit build the header renames sendfile to sendfile64, and these two
 * must be the two symbols a program can call.
 */
ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count);

typedef ssize_t (*sendfile_fn)(int, int, off_t *, size_t);
typedef ssize_t (*sendfile64_fn)(int, int, off64_t *, size_t);

/* 0: not tried yet; 1: /dev/zcopy opens; -1: it does not, or disabled. */
static atomic_int usable;
static atomic_bool said;
static int quiet;
static char stats_path[4096];

/* Per process: reset in a forked child, so nothing is counted twice. */
static atomic_ullong n_calls, n_bytes, n_zc, n_copied, n_errors, n_fb_calls, n_fb_bytes;

static void say_once(int err)
{
	struct stat st;
	char msg[256];
	int len;

	if (quiet || atomic_exchange(&said, 1))
		return;
	/*
	 * A daemon may have closed stderr and got fd 2 back for a client:
	 * a line there would be in someone's response.
	 */
	if (fstat(STDERR_FILENO, &st) < 0 || S_ISSOCK(st.st_mode))
		return;
	len = snprintf(msg, sizeof(msg),
		       "zcopy-preload: %s: %s (is the zcopy module loaded?); using sendfile(2)\n",
		       ZCOPY_DEVICE_PATH, strerror(err));
	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0)
		return;
}

static ssize_t real_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	static _Atomic(sendfile_fn) fn;
	sendfile_fn f = atomic_load_explicit(&fn, memory_order_relaxed);
	ssize_t n;

	if (!f) {
		/* dlsym() gives the same pointer to every thread: no race. */
		f = (sendfile_fn)dlsym(RTLD_NEXT, "sendfile");
		atomic_store_explicit(&fn, f, memory_order_relaxed);
	}
	n = f ? f(out_fd, in_fd, offset, count)
	      : syscall(SYS_sendfile, out_fd, in_fd, offset, count);
	atomic_fetch_add_explicit(&n_fb_calls, 1, memory_order_relaxed);
	if (n > 0)
		atomic_fetch_add_explicit(&n_fb_bytes, (unsigned long long)n, memory_order_relaxed);
	return n;
}

/* The device could not be opened: for good, or (out of fds) this time. */
static int device_missing(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 0;
	default:
		atomic_store(&usable, -1);
		say_once(err);
		return 1;
	}
}

/* An errno the module gives when it cannot take the call, never sendfile(2). */
static int not_for_zcopy(int err)
{
	switch (err) {
	case ENOTSOCK:
	case ENOTTY:
	case E2BIG:
	case ENOSYS:
	case ENOENT:
	case ENODEV:
	case ENXIO:
	case EMFILE:
	case ENFILE:
		return 1;
	default:
		return 0;
	}
}

static ssize_t zc_or_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	struct zc_stats st;
	int state = atomic_load_explicit(&usable, memory_order_relaxed);
	ssize_t n;

	if (state < 0)
		return real_sendfile(out_fd, in_fd, offset, count);
	if (!state) {
		if (zc_device_fd() < 0) {
			device_missing(errno);
			return real_sendfile(out_fd, in_fd, offset, count);
		}
		atomic_store_explicit(&usable, 1, memory_order_relaxed);
	}
	n = zc_sendfile_ex(out_fd, in_fd, offset, count, 0, &st);
	if (n < 0 && not_for_zcopy(errno)) {
		if (errno != ENOTSOCK && errno != ENOTTY && errno != E2BIG && errno != ENOSYS)
			device_missing(errno);
		return real_sendfile(out_fd, in_fd, offset, count);
	}
	atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
	if (n < 0) {
		atomic_fetch_add_explicit(&n_errors, 1, memory_order_relaxed);
		return n;
	}
	atomic_fetch_add_explicit(&n_bytes, (unsigned long long)n, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_zc, st.zc_bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_copied, st.copied_bytes, memory_order_relaxed);
	return n;
}

__attribute__((visibility("default"))) ssize_t sendfile(int out_fd, int in_fd, off_t *offset,
							size_t count)
{
	return zc_or_sendfile(out_fd, in_fd, offset, count);
}

__attribute__((visibility("default"))) ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset,
							  size_t count)
{
	static _Atomic(sendfile64_fn) fn;
	sendfile64_fn f;

	/* 64-bit off_t (every 64-bit build): sendfile64 is sendfile. */
	if (sizeof(off_t) == sizeof(off64_t))
		return zc_or_sendfile(out_fd, in_fd, (off_t *)offset, count);
	/*
	 * A 32-bit off_t: zc_sendfile() takes the program's off_t, which
	 * this call's offsets may not fit; the real one, uncounted.
	 */
	f = atomic_load_explicit(&fn, memory_order_relaxed);
	if (!f) {
		f = (sendfile64_fn)dlsym(RTLD_NEXT, "sendfile64");
		atomic_store_explicit(&fn, f, memory_order_relaxed);
	}
	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(out_fd, in_fd, offset, count);
}

static void child_after_fork(void)
{
	atomic_store(&n_calls, 0);
	atomic_store(&n_bytes, 0);
	atomic_store(&n_zc, 0);
	atomic_store(&n_copied, 0);
	atomic_store(&n_errors, 0);
	atomic_store(&n_fb_calls, 0);
	atomic_store(&n_fb_bytes, 0);
}

static int env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

__attribute__((constructor)) static void preload_init(void)
{
	/* secure_getenv(): a set-uid program must not write where told. */
	const char *path = secure_getenv("ZCOPY_PRELOAD_STATS");

	quiet = env_on("ZCOPY_PRELOAD_QUIET");
	if (env_on("ZCOPY_PRELOAD_DISABLE"))
		atomic_store(&usable, -1);
	if (path && strlen(path) < sizeof(stats_path))
		strcpy(stats_path, path);
	pthread_atfork(NULL, NULL, child_after_fork);
}

/*
 * At exit(): one line per process, appended in one write(2), so the lines
 * of a server's processes do not mix. A process that dies by a signal or
 * _exit() writes nothing.
 */
__attribute__((destructor)) static void preload_fini(void)
{
	char line[512];
	int fd, len;

	if (!stats_path[0])
		return;
	len = snprintf(line, sizeof(line),
		       "pid %d calls %llu bytes %llu zc %llu copied %llu errors %llu "
		       "fallback_calls %llu fallback_bytes %llu\n",
		       (int)getpid(), atomic_load(&n_calls), atomic_load(&n_bytes),
		       atomic_load(&n_zc), atomic_load(&n_copied), atomic_load(&n_errors),
		       atomic_load(&n_fb_calls), atomic_load(&n_fb_bytes));
	fd = open(stats_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (len > 0 && write(fd, line, (size_t)len) < 0)
		len = 0;
	close(fd);
}
