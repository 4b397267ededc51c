/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zcfuse.c - a read-only FUSE file system of the suite's own, speaking the
 * kernel's protocol on /dev/fuse directly (no libfuse in the guest):
 *
 *   zctest fuse MOUNTPOINT
 *
 * Why: the suite needs a file system whose data comes from a process,
 * where sendfile(2) reaches the bytes through the file system's own
 * ->splice_read and zcopy through FUSE_READ-filled page-cache pages; in
 * both flavours FUSE has, cached (FOPEN_KEEP_CACHE) and direct-io
 * (FOPEN_DIRECT_IO); and with a read error at a known offset, to show
 * that a transfer stopping on it still pushes the bytes before it.
 *
 * Every file's bytes are pattern(seed, offset) (common.c), made once in
 * memory at start, so a test can check each byte it receives:
 *
 *   cached.bin      3 MiB + 12345, seed 71, page cache kept across opens
 *   direct.bin      1 MiB + 777,   seed 72, direct-io: every read comes here
 *   eio.bin         1 MiB,         seed 73, direct-io, EIO from EIO_AT on
 *   eio-cached.bin  1 MiB,         seed 73, cached, EIO from EIO_AT on
 *   empty.bin       0 bytes
 *   small.txt       "hello\n"
 *
 * Readiness: the process mounts, then forks; the child serves, the parent
 * waits until a statfs(2) of the mount point is answered by the child (it
 * answers FUSE_INIT first) and exits 0. So when `zctest fuse DIR` returns
 * 0 the mount works; on failure it detaches the mount and exits 1. The
 * child serves, single-threaded, until the file system is unmounted
 * (read() gives ENODEV) or FUSE_DESTROY; its stdin and stdout are
 * /dev/null so that a caller reading them does not wait for it, and its
 * errors go to stderr.
 */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define FUSE_MAGIC 0x65735546 /* FUSE_SUPER_MAGIC, f_type of statfs(2) */
#define MAX_WRITE  (128 * KiB)
#define EIO_AT	   (65536 + 4096)
#define TTL	   3600 /* s: nothing here ever changes */

struct zfile {
	const char *name;
	uint64_t size, seed;
	uint32_t open_flags;
	int eio; /* reads at or past EIO_AT fail */
	const unsigned char *data;
};

static struct zfile files[] = {
	{ "cached.bin", 3 * MiB + 12345, 71, FOPEN_KEEP_CACHE, 0, NULL },
	{ "direct.bin", 1 * MiB + 777, 72, FOPEN_DIRECT_IO, 0, NULL },
	{ "eio.bin", 1 * MiB, 73, FOPEN_DIRECT_IO, 1, NULL },
	{ "eio-cached.bin", 1 * MiB, 73, FOPEN_KEEP_CACHE, 1, NULL },
	{ "empty.bin", 0, 0, FOPEN_KEEP_CACHE, 0, NULL },
	{ "small.txt", 6, 0, FOPEN_KEEP_CACHE, 0, (const unsigned char *)"hello\n" },
};
#define NFILES	  (sizeof(files) / sizeof(files[0]))
#define FIRST_INO (FUSE_ROOT_ID + 1) /* files[i] is node FIRST_INO + i */

static int fuse_fd;
static uint64_t start_time;

static struct zfile *file_of(uint64_t nodeid)
{
	return nodeid >= FIRST_INO && nodeid < FIRST_INO + NFILES ? &files[nodeid - FIRST_INO]
								  : NULL;
}

static void reply(uint64_t unique, int err, const void *arg, size_t len)
{
	struct fuse_out_header out = { .len = sizeof(out) + len, .error = -err, .unique = unique };
	struct iovec iov[2] = { { &out, sizeof(out) }, { (void *)arg, len } };

	/* ENOENT: the request was interrupted meanwhile, nobody waits for it. */
	if (writev(fuse_fd, iov, len ? 2 : 1) < 0 && errno != ENOENT)
		perror("zcfuse: reply");
}

static int fill_attr(uint64_t nodeid, struct fuse_attr *a)
{
	struct zfile *f = file_of(nodeid);

	memset(a, 0, sizeof(*a));
	if (nodeid == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0555;
		a->nlink = 2;
	} else if (f) {
		a->mode = S_IFREG | 0444;
		a->nlink = 1;
		a->size = f->size;
		a->blocks = (f->size + 511) / 512;
	} else {
		return -ENOENT;
	}
	a->ino = nodeid;
	a->blksize = PAGE;
	a->atime = a->mtime = a->ctime = start_time;
	return 0;
}

static void do_init(uint64_t unique, const struct fuse_init_in *in)
{
	/*
	 * The reply is the whole struct of our headers (7.38: 64 bytes, the
	 * size since 7.23, as on 6.1's 7.37 and 6.12's 7.41): the kernel
	 * takes a reply up to its own struct. FUSE_ASYNC_READ lets
	 * readahead keep several reads in flight. Left out on purpose:
	 * FUSE_PASSTHROUGH and writeback caching (the data must come from
	 * this process through FUSE_READ), FUSE_MAX_PAGES (requests of the
	 * default 32 pages, 128 KiB), READDIRPLUS.
	 */
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION,
		.minor = in->minor < FUSE_KERNEL_MINOR_VERSION ? in->minor
							       : FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = in->max_readahead,
		.flags = in->flags & FUSE_ASYNC_READ,
		.max_write = MAX_WRITE,
		.time_gran = 1,
	};

	if (in->major != FUSE_KERNEL_VERSION) {
		fprintf(stderr, "zcfuse: kernel speaks FUSE %u.%u, we 7.x\n", in->major, in->minor);
		reply(unique, EPROTO, NULL, 0);
		return;
	}
	reply(unique, 0, &out, sizeof(out));
}

static void do_lookup(uint64_t unique, uint64_t parent, const char *name)
{
	struct fuse_entry_out e = { .entry_valid = TTL, .attr_valid = TTL };

	for (size_t i = 0; parent == FUSE_ROOT_ID && i < NFILES; i++) {
		if (strcmp(name, files[i].name))
			continue;
		e.nodeid = FIRST_INO + i;
		fill_attr(e.nodeid, &e.attr);
		reply(unique, 0, &e, sizeof(e));
		return;
	}
	reply(unique, ENOENT, NULL, 0);
}

/*
 * A read that crosses EIO_AT of an eio file. For a read(2) of a direct-io
 * file the reply is short, the bytes below EIO_AT: read(2) returns them,
 * and the next read, starting at EIO_AT, fails. But a short reply to a
 * read that fills the page cache means end of file to the kernel: it
 * shrinks i_size to what came (fuse_short_read()), and the error would
 * never be seen. Such a read fails whole; the kernel then reads the pages
 * one at a time (->read_folio), those below EIO_AT succeed, and the reader
 * gets every byte below EIO_AT, then EIO. Both on 6.1 and 6.12, only a
 * direct-io read carries FUSE_READ_LOCKOWNER (fuse_send_read()); were it
 * missing, a direct read would fail whole: fewer bytes, still EIO. Note
 * that on 6.12 sendfile(2) reads even direct-io files through the page
 * cache (fuse_splice_read() -> filemap_splice_read()).
 */
static void do_read(uint64_t unique, uint64_t nodeid, const struct fuse_read_in *in)
{
	struct zfile *f = file_of(nodeid);
	uint64_t off = in->offset, end = in->offset + in->size;

	if (!f) {
		reply(unique, nodeid == FUSE_ROOT_ID ? EISDIR : EBADF, NULL, 0);
		return;
	}
	if (end > f->size)
		end = f->size;
	if (off > end)
		off = end; /* at or past EOF: no bytes */
	if (f->eio && end > EIO_AT) {
		if (in->offset >= EIO_AT || !(in->read_flags & FUSE_READ_LOCKOWNER)) {
			reply(unique, EIO, NULL, 0);
			return;
		}
		end = EIO_AT;
	}
	reply(unique, 0, f->data + off, end - off);
}

static void do_readdir(uint64_t unique, uint64_t nodeid, const struct fuse_read_in *in)
{
	uint64_t buf[512];
	char *out = (char *)buf;
	size_t len = 0, size = in->size < sizeof(buf) ? in->size : sizeof(buf);

	if (nodeid != FUSE_ROOT_ID) {
		reply(unique, ENOTDIR, NULL, 0);
		return;
	}
	/* Entry i is ".", "..", then the files; its d_off is i + 1. */
	for (uint64_t i = in->offset; i < 2 + NFILES; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : files[i - 2].name;
		size_t namelen = strlen(name);
		size_t reclen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
		struct fuse_dirent *d = (struct fuse_dirent *)(out + len);

		if (len + reclen > size)
			break;
		memset(d, 0, reclen);
		d->ino = i < 2 ? FUSE_ROOT_ID : FIRST_INO + i - 2;
		d->off = i + 1;
		d->namelen = namelen;
		d->type = i < 2 ? DT_DIR : DT_REG;
		memcpy(d->name, name, namelen);
		len += reclen;
	}
	reply(unique, 0, out, len);
}

static void do_open(uint64_t unique, uint64_t nodeid, const struct fuse_open_in *in, int dir)
{
	struct fuse_open_out out = { .fh = nodeid };
	struct zfile *f = file_of(nodeid);

	if (dir ? nodeid != FUSE_ROOT_ID : !f) {
		reply(unique, dir ? ENOTDIR : nodeid == FUSE_ROOT_ID ? EISDIR : ENOENT, NULL, 0);
		return;
	}
	if ((in->flags & O_ACCMODE) != O_RDONLY) {
		reply(unique, EACCES, NULL, 0);
		return;
	}
	out.open_flags = dir ? 0 : f->open_flags;
	reply(unique, 0, &out, sizeof(out));
}

/* Serve until unmounted; 0 then, 1 on an error. */
static int serve(void)
{
	/* The kernel wants room for a FUSE_WRITE of max_write bytes. */
	static uint64_t buf[(MAX_WRITE + 4096) / 8];
	struct fuse_in_header *h = (void *)buf;
	void *arg = h + 1;

	for (;;) {
		ssize_t n = read(fuse_fd, buf, sizeof(buf));

		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOENT))
			continue; /* ENOENT: a request interrupted before we read it */
		if (n < 0 && errno == ENODEV)
			return 0; /* unmounted */
		if (n < (ssize_t)sizeof(*h)) {
			perror("zcfuse: read /dev/fuse");
			return 1;
		}
		switch (h->opcode) {
		case FUSE_INIT:
			do_init(h->unique, arg);
			break;
		case FUSE_DESTROY:
			reply(h->unique, 0, NULL, 0);
			return 0;
		case FUSE_FORGET: /* nodes are never freed: nothing to count */
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT: /* requests are answered at once anyway */
			break;
		case FUSE_LOOKUP:
			do_lookup(h->unique, h->nodeid, arg);
			break;
		case FUSE_GETATTR: {
			struct fuse_attr_out out = { .attr_valid = TTL };
			int err = fill_attr(h->nodeid, &out.attr);

			reply(h->unique, -err, &out, err ? 0 : sizeof(out));
			break;
		}
		case FUSE_OPEN:
		case FUSE_OPENDIR:
			do_open(h->unique, h->nodeid, arg, h->opcode == FUSE_OPENDIR);
			break;
		case FUSE_READ:
			do_read(h->unique, h->nodeid, arg);
			break;
		case FUSE_READDIR:
			do_readdir(h->unique, h->nodeid, arg);
			break;
		case FUSE_RELEASE:
		case FUSE_RELEASEDIR:
		case FUSE_FLUSH:
			reply(h->unique, 0, NULL, 0);
			break;
		case FUSE_ACCESS: {
			const struct fuse_access_in *in = arg;
			int deny = h->nodeid == FUSE_ROOT_ID ? W_OK : W_OK | X_OK;

			reply(h->unique, in->mask & deny ? EACCES : 0, NULL, 0);
			break;
		}
		case FUSE_STATFS: {
			struct fuse_statfs_out out = { .st = {
							       .bsize = PAGE,
							       .frsize = PAGE,
							       .namelen = 255,
							       .files = 1 + NFILES,
						       } };

			for (size_t i = 0; i < NFILES; i++)
				out.st.blocks += (files[i].size + PAGE - 1) / PAGE;
			reply(h->unique, 0, &out, sizeof(out));
			break;
		}
		default: /* GETXATTR and LISTXATTR too: the kernel stops asking */
			reply(h->unique, ENOSYS, NULL, 0);
		}
	}
}

int zcfuse_main(int argc, char **argv)
{
	const char *mnt = argv[2];
	char opts[128];
	struct statfs sfs;
	pid_t child;
	int null, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: zctest fuse MOUNTPOINT\n");
		return 2;
	}
	start_time = time(NULL);
	for (size_t i = 0; i < NFILES; i++) {
		unsigned char *p;

		if (files[i].data)
			continue;
		p = malloc(files[i].size ? files[i].size : 1);
		if (!p) {
			perror("zcfuse: malloc");
			return 1;
		}
		pattern(files[i].seed, 0, p, files[i].size);
		files[i].data = p;
	}
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0) {
		perror("zcfuse: /dev/fuse");
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other",
		 fuse_fd);
	if (mount("zcfuse", mnt, "fuse", MS_RDONLY | MS_NOSUID | MS_NODEV, opts) < 0) {
		fprintf(stderr, "zcfuse: mount %s: %s\n", mnt, strerror(errno));
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("zcfuse: fork");
		umount2(mnt, MNT_DETACH);
		return 1;
	}
	if (child == 0) {
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			close(null);
		}
		setsid();
		if (chdir("/") < 0)
			perror("zcfuse: chdir /");
		return serve();
	}
	/*
	 * Our copy of the device must go: if the child dies, the connection
	 * ends only when the last one closes, and statfs() fails instead of
	 * waiting forever.
	 */
	close(fuse_fd);
	rc = statfs(mnt, &sfs);
	if (rc < 0 || sfs.f_type != FUSE_MAGIC) {
		fprintf(stderr, "zcfuse: %s does not answer: %s\n", mnt,
			rc < 0 ? strerror(errno) : "not a FUSE mount");
		umount2(mnt, MNT_DETACH);
		kill(child, SIGKILL);
		return 1;
	}
	return 0;
}
