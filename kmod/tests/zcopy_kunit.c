// SPDX-License-Identifier: GPL-2.0
/*
 * zcopy_kunit.c - KUnit tests of zcopy's data path, on real kernel objects.
 *
 * What it shows: how to test a page-cache-to-socket path from inside the
 * kernel. The files are tmpfs files made with shmem_file_setup() (one on
 * a private huge=always tmpfs mount, for large folios), the sockets are
 * TCP over loopback and AF_UNIX stream pairs made with sock_create_kern(),
 * and every test looks at what only the kernel can see: which page each
 * bio_vec names, the folio reference counts before, during and after a
 * send, what the receiving socket got, and what each call returned.
 *
 * The reference counts are the point. zcopy takes one folio reference per
 * bio_vec and the socket takes its own per fragment; once the receiver has
 * read everything and both sockets are closed, every count must be back
 * where it started. A reference not dropped (a leak: the page can never
 * be freed) or dropped twice (a use-after-free waiting to happen) fails
 * here, on any kernel with CONFIG_KUNIT.
 *
 * Built as zcopy_kunit.ko only against kernels with CONFIG_KUNIT (Kbuild):
 * the module compiles the data path's sources into itself (below) instead
 * of asking zcopy.ko to export its internals, so the static helpers are
 * testable too and zcopy.ko's symbol table stays what it ships with.
 * Loading it runs the suites; results appear as KTAP in the kernel log and
 * in /sys/kernel/debug/kunit/<suite>/results, which make check counts.
 */
#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/in.h>
#include <linux/kthread.h>
#include <linux/mount.h>
#include <linux/net.h>
#include <linux/shmem_fs.h>
#include <linux/un.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/sock.h>

/*
 * zcopy.ko, loaded beside this module, owns the tracepoints: here they
 * compile to nothing (NOTRACE), so that two modules do not define the same
 * events. The generic netlink family is compiled in for its policies and
 * never registered (zcopy.ko has registered "zcopy").
 */
#define NOTRACE

#include "../pages.c"
#include "../sendpath.c"
#include "../splice.c"
#include "../xfer.c"
#include "../sendv.c"
#include "../stats.c"
#include "../genl.c"
#include "../notify.c"

/* The byte at file offset @pos of every test file: position-dependent. */
static u8 zt_byte(loff_t pos)
{
	return (u8)(pos * 7 + (pos >> 12) * 13 + 1);
}

/* A tmpfs file of @size bytes of zt_byte() (@mnt: NULL for shm_mnt). */
static struct file *zt_file(struct kunit *test, struct vfsmount *mnt,
			    size_t size)
{
	struct file *file;
	loff_t pos = 0;
	size_t i;
	u8 *buf;

	file = mnt ? shmem_file_setup_with_mnt(mnt, "zcopy-kunit", 0, VM_NORESERVE) :
		     shmem_file_setup("zcopy-kunit", 0, VM_NORESERVE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	/* What open(2) of a regular file grants and a pseudo file lacks. */
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	if (!size)
		return file;

	buf = vmalloc(size);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < size; i++)
		buf[i] = zt_byte(i);
	KUNIT_ASSERT_EQ(test, kernel_write(file, buf, size, &pos), (ssize_t)size);
	vfree(buf);
	return file;
}

/* Does @page hold zt_byte() for file bytes [pos, pos + len) at @off? */
static bool zt_page_holds(struct page *page, size_t off, size_t len, loff_t pos)
{
	u8 *p = kmap_local_page(page);
	bool same = true;
	size_t i;

	for (i = 0; i < len && same; i++)
		same = p[off + i] == zt_byte(pos + i);
	kunmap_local(p);
	return same;
}

/*
 * Folio reference counts, compared exactly. First flush every CPU's LRU
 * batches (each holds a reference on the folios it queues; see
 * zc_lru_add_drain()), so that the counts hold only what the page cache,
 * zcopy and the sockets hold.
 */
static void zt_drain_fn(struct work_struct *work)
{
	zc_lru_add_drain();
}

static void zt_drain_lru(void)
{
	struct work_struct work;
	int cpu;

	INIT_WORK_ONSTACK(&work, zt_drain_fn);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		queue_work_on(cpu, system_wq, &work);
		flush_work(&work);
	}
	cpus_read_unlock();
	destroy_work_on_stack(&work);
}

static int zt_ref(struct folio *folio)
{
	zt_drain_lru();
	return folio_ref_count(folio);
}

/* The folio at @index of @file's page cache, with no reference kept. */
static struct folio *zt_folio(struct file *file, pgoff_t index)
{
	struct folio *folio = zc_filemap_get_folio(file->f_mapping, index);

	if (folio)
		folio_put(folio);
	return folio;
}

static struct zcopy_batch *zt_batch(struct kunit *test, unsigned int max)
{
	struct zcopy_batch *b = kunit_kzalloc(test, struct_size(b, bvec, max), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->max = max;
	return b;
}

/* ---- pages.c: from a file range to bio_vecs ----------------------------- */

/* A range that starts and ends mid-page: one bio_vec per page, cut right. */
static void zt_fill_maps_range_to_pages(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 3 * PAGE_SIZE + 100);
	struct zcopy_batch *b = zt_batch(test, ZCOPY_BATCH_PAGES);
	size_t len = 2 * PAGE_SIZE + 10 - 100;
	int ref[3], i;

	for (i = 0; i < 3; i++)
		ref[i] = zt_ref(zt_folio(file, i));

	KUNIT_ASSERT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 100, len, NULL),
			(ssize_t)len);
	KUNIT_ASSERT_EQ(test, b->nr, 3U);
	KUNIT_EXPECT_EQ(test, b->len, len);
	KUNIT_EXPECT_EQ(test, b->bvec[0].bv_offset, 100U);
	KUNIT_EXPECT_EQ(test, b->bvec[0].bv_len, (unsigned int)PAGE_SIZE - 100);
	KUNIT_EXPECT_EQ(test, b->bvec[1].bv_offset, 0U);
	KUNIT_EXPECT_EQ(test, b->bvec[1].bv_len, (unsigned int)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, b->bvec[2].bv_offset, 0U);
	KUNIT_EXPECT_EQ(test, b->bvec[2].bv_len, 10U);
	for (i = 0; i < 3; i++) {
		struct folio *folio = zt_folio(file, i);

		/* The page cache's own page, not a copy of it ... */
		KUNIT_EXPECT_PTR_EQ(test, b->bvec[i].bv_page, &folio->page);
		/* ... holding the file's bytes ... */
		KUNIT_EXPECT_TRUE(test, zt_page_holds(b->bvec[i].bv_page,
						      b->bvec[i].bv_offset,
						      b->bvec[i].bv_len,
						      i ? i * PAGE_SIZE : 100));
		/* ... pinned by exactly one reference per bio_vec. */
		KUNIT_EXPECT_EQ(test, zt_ref(folio), ref[i] + 1);
	}

	zcopy_batch_release(b);
	KUNIT_EXPECT_EQ(test, b->nr, 0U);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, zt_ref(zt_folio(file, i)), ref[i]);
	fput(file);
}

/* The batch stops at b->max bio_vecs and reports the bytes it covers. */
static void zt_fill_respects_batch_max(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 8 * PAGE_SIZE);
	struct zcopy_batch *b = zt_batch(test, 2);

	KUNIT_EXPECT_EQ(test,
			zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 10, 8 * PAGE_SIZE - 10, NULL),
			(ssize_t)(2 * PAGE_SIZE - 10));
	KUNIT_EXPECT_EQ(test, b->nr, 2U);
	zcopy_batch_release(b);
	fput(file);
}

/* Past i_size there is nothing: the batch ends at end of file. */
static void zt_fill_stops_at_eof(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 10000);
	struct zcopy_batch *b = zt_batch(test, ZCOPY_BATCH_PAGES);

	KUNIT_EXPECT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 8000, 10000, NULL), 2000);
	KUNIT_EXPECT_EQ(test, b->nr, 2U);
	KUNIT_EXPECT_EQ(test, b->bvec[1].bv_len, 10000U - 2 * PAGE_SIZE);
	zcopy_batch_release(b);
	KUNIT_EXPECT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 10000, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 1 << 20, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, b->nr, 0U);
	fput(file);
}

/* A tmpfs hole is lent as the shared zero page: nothing is allocated. */
static void zt_fill_sends_holes_as_zero_page(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 0);
	struct zcopy_batch *b = zt_batch(test, ZCOPY_BATCH_PAGES);
	unsigned int i;

	KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, 4 * PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 1, 3 * PAGE_SIZE, NULL),
			(ssize_t)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, b->nr, 4U);
	for (i = 0; i < b->nr; i++) {
		u8 *p = kmap_local_page(b->bvec[i].bv_page);

		KUNIT_EXPECT_PTR_EQ(test, b->bvec[i].bv_page, ZERO_PAGE(0));
		KUNIT_EXPECT_NULL(test, memchr_inv(p + b->bvec[i].bv_offset, 0,
						   b->bvec[i].bv_len));
		kunmap_local(p);
	}
	zcopy_batch_release(b);
	/* Still a hole: zcopy did not populate the page cache. */
	KUNIT_EXPECT_EQ(test, file->f_mapping->nrpages, 0UL);
	fput(file);
}

/*
 * A large folio is cut into one bio_vec per page, each page taking one
 * reference on the folio, starting mid-page in one folio and going on
 * into the next.
 */
static void zt_fill_splits_large_folios(struct kunit *test)
{
	char opts[] = "huge=always";
	struct file_system_type *type = get_fs_type("tmpfs");
	struct zcopy_batch *b = zt_batch(test, ZCOPY_BATCH_PAGES);
	struct folio *f0, *f1;
	struct vfsmount *mnt;
	struct file *file;
	loff_t pos;
	size_t pmd = PMD_SIZE;
	int ref0, ref1;
	unsigned int i;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		kunit_skip(test, "no CONFIG_TRANSPARENT_HUGEPAGE: no large tmpfs folios");
	KUNIT_ASSERT_NOT_NULL(test, type);
	mnt = vfs_kern_mount(type, SB_KERNMOUNT, type->name, opts);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mnt));
	file = zt_file(test, mnt, 2 * pmd);
	f0 = zt_folio(file, 0);
	f1 = zt_folio(file, pmd >> PAGE_SHIFT);
	KUNIT_ASSERT_NOT_NULL(test, f0);
	KUNIT_ASSERT_NOT_NULL(test, f1);
	KUNIT_ASSERT_EQ(test, folio_size(f0), pmd);
	KUNIT_ASSERT_EQ(test, folio_size(f1), pmd);
	ref0 = zt_ref(f0);
	ref1 = zt_ref(f1);

	pos = pmd - 1000;
	KUNIT_ASSERT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, pos, pmd, NULL),
			(ssize_t)(1000 + (ZCOPY_BATCH_PAGES - 1) * PAGE_SIZE));
	KUNIT_ASSERT_EQ(test, b->nr, (unsigned int)ZCOPY_BATCH_PAGES);
	KUNIT_EXPECT_PTR_EQ(test, b->bvec[0].bv_page,
			    folio_page(f0, (pmd >> PAGE_SHIFT) - 1));
	KUNIT_EXPECT_EQ(test, b->bvec[0].bv_offset, (unsigned int)PAGE_SIZE - 1000);
	KUNIT_EXPECT_EQ(test, b->bvec[0].bv_len, 1000U);
	for (i = 1; i < b->nr; i++) {
		KUNIT_EXPECT_PTR_EQ(test, b->bvec[i].bv_page, folio_page(f1, i - 1));
		KUNIT_EXPECT_EQ(test, b->bvec[i].bv_offset, 0U);
		KUNIT_EXPECT_EQ(test, b->bvec[i].bv_len, (unsigned int)PAGE_SIZE);
	}
	KUNIT_EXPECT_TRUE(test, zt_page_holds(b->bvec[0].bv_page, PAGE_SIZE - 1000,
					      1000, pos));
	KUNIT_EXPECT_TRUE(test, zt_page_holds(b->bvec[5].bv_page, 0, PAGE_SIZE,
					      pmd + 4 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, zt_ref(f0), ref0 + 1);
	KUNIT_EXPECT_EQ(test, zt_ref(f1), ref1 + ZCOPY_BATCH_PAGES - 1);

	zcopy_batch_release(b);
	KUNIT_EXPECT_EQ(test, zt_ref(f0), ref0);
	KUNIT_EXPECT_EQ(test, zt_ref(f1), ref1);
	fput(file);
	flush_delayed_fput();
	kern_unmount(mnt);
}

/*
 * Which files pages.c walks, and which go through their ->splice_read:
 * tmpfs is walked, the same tmpfs file opened O_DIRECT is not, procfs and
 * sockets never are.
 */
static void zt_read_way(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 100);
	struct socket *sock;
	struct file *sfile;

	KUNIT_EXPECT_EQ(test, zcopy_read_way(file), ZCOPY_READ_SHMEM);
	file->f_flags |= O_DIRECT;
	KUNIT_EXPECT_EQ(test, zcopy_read_way(file), ZCOPY_READ_SPLICE);
	file->f_flags &= ~O_DIRECT;
	fput(file);

	file = filp_open("/proc/version", O_RDONLY, 0);
	if (!IS_ERR(file)) {
		KUNIT_EXPECT_EQ(test, zcopy_read_way(file), ZCOPY_READ_SPLICE);
		fput(file);
	}

	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, AF_UNIX, SOCK_STREAM, 0,
					       &sock), 0);
	sfile = sock_alloc_file(sock, 0, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sfile));
	KUNIT_EXPECT_EQ(test, zcopy_read_way(sfile), ZCOPY_READ_SPLICE);
	fput(sfile);
}

/*
 * A writer racing the fill: a fill that meets a folio locked and not
 * uptodate must wait for the lock and then judge it, never take it for
 * a hole. zt_racer runs zcopy_batch_fill() in a thread of its own while
 * the test holds the folio the way shmem's write path does (locked, not
 * yet uptodate, i_size already past it), then plays the writer's end.
 */
struct zt_racer {
	struct file *file;
	struct zcopy_batch *b;
	loff_t pos;
	size_t len;
	const struct zcopy_ra *ra;
	ssize_t ret;
	struct completion done;
};

static int zt_racer_fn(void *arg)
{
	struct zt_racer *r = arg;

	r->ret = zcopy_batch_fill_ra(r->b, r->file, ZCOPY_READ_SHMEM, r->pos,
				     r->len, NULL, r->ra);
	complete(&r->done);
	return 0;
}

static void zt_racer_start(struct kunit *test, struct zt_racer *r)
{
	struct task_struct *t;

	init_completion(&r->done);
	t = kthread_run(zt_racer_fn, r, "zcopy-kunit-racer");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
}

static void zt_fill_waits_for_writer(struct kunit *test, bool writes)
{
	struct file *file = zt_file(test, NULL, 3 * PAGE_SIZE);
	struct zt_racer r = {
		.file = file,
		.b = zt_batch(test, ZCOPY_BATCH_PAGES),
		.pos = 0,
		.len = 3 * PAGE_SIZE,
	};
	struct folio *folio = zt_folio(file, 1);
	int ref = zt_ref(folio);

	folio_lock(folio);
	folio_clear_uptodate(folio);
	zt_racer_start(test, &r);
	/* The fill takes page 0 and must then wait on page 1's lock. */
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&r.done, HZ / 5), 0UL);
	if (writes)
		folio_mark_uptodate(folio);
	folio_unlock(folio);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&r.done, 10 * HZ), 0UL);

	KUNIT_ASSERT_EQ(test, r.ret, (ssize_t)(3 * PAGE_SIZE));
	KUNIT_ASSERT_EQ(test, r.b->nr, 3U);
	if (writes) {
		/* Written meanwhile: the file's page and its bytes. */
		KUNIT_EXPECT_PTR_EQ(test, r.b->bvec[1].bv_page, &folio->page);
		KUNIT_EXPECT_TRUE(test, zt_page_holds(r.b->bvec[1].bv_page, 0,
						      PAGE_SIZE, PAGE_SIZE));
	} else {
		/* Still not uptodate under the lock: fallocated, zeros. */
		KUNIT_EXPECT_PTR_EQ(test, r.b->bvec[1].bv_page, ZERO_PAGE(0));
	}
	KUNIT_EXPECT_TRUE(test, zt_page_holds(r.b->bvec[2].bv_page, 0, PAGE_SIZE,
					      2 * PAGE_SIZE));
	zcopy_batch_release(r.b);
	if (!writes) {
		folio_lock(folio);
		folio_mark_uptodate(folio);
		folio_unlock(folio);
	}
	KUNIT_EXPECT_EQ(test, zt_ref(folio), ref);
	fput(file);
}

static void zt_fill_waits_for_racing_writer(struct kunit *test)
{
	zt_fill_waits_for_writer(test, true);
}

static void zt_fill_fallocated_folio_is_zeros(struct kunit *test)
{
	zt_fill_waits_for_writer(test, false);
}

/*
 * i_size is read after the wait: a file cut short while the fill waited
 * for a folio (truncate lowers i_size first) ends the batch where the
 * file now ends, and the folio waited for is not sent.
 */
static void zt_fill_rereads_isize_after_wait(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 3 * PAGE_SIZE);
	struct inode *inode = file_inode(file);
	struct zt_racer r = {
		.file = file,
		.b = zt_batch(test, ZCOPY_BATCH_PAGES),
		.pos = 100,
		.len = 3 * PAGE_SIZE - 100,
	};
	struct folio *folio = zt_folio(file, 2);
	int ref = zt_ref(folio);

	folio_lock(folio);
	folio_clear_uptodate(folio);
	zt_racer_start(test, &r);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&r.done, HZ / 5), 0UL);
	i_size_write(inode, 2 * PAGE_SIZE);
	folio_mark_uptodate(folio);
	folio_unlock(folio);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&r.done, 10 * HZ), 0UL);

	KUNIT_EXPECT_EQ(test, r.ret, (ssize_t)(2 * PAGE_SIZE - 100));
	KUNIT_EXPECT_EQ(test, r.b->nr, 2U);
	zcopy_batch_release(r.b);
	KUNIT_EXPECT_EQ(test, zt_ref(folio), ref);
	i_size_write(inode, 3 * PAGE_SIZE);
	fput(file);
}

/*
 * ZCOPY_SEND_NODISKIO never sleeps on a folio that is locked and not
 * uptodate (a writer or a read holds it): the fill, run in a thread of
 * its own so that a wait shows as a timeout and not as a hung test, takes
 * the pages before it and returns at once; a fill that starts on it is
 * -EBUSY with nothing in the batch. Every reference comes back.
 */
static void zt_nodiskio_skips_locked_folio(struct kunit *test)
{
	static const struct zcopy_ra ra = { .nodiskio = true };
	struct file *file = zt_file(test, NULL, 3 * PAGE_SIZE);
	struct zt_racer r = {
		.file = file,
		.b = zt_batch(test, ZCOPY_BATCH_PAGES),
		.pos = 100,
		.len = 3 * PAGE_SIZE - 100,
		.ra = &ra,
	};
	struct folio *folio = zt_folio(file, 1);
	int ref = zt_ref(folio);
	unsigned long finished;

	folio_lock(folio);
	folio_clear_uptodate(folio);
	zt_racer_start(test, &r);
	/*
	 * A wait that returns consumes the completion: its result, not
	 * completion_done(), tells whether the racer finished.
	 */
	finished = wait_for_completion_timeout(&r.done, 5 * HZ);
	KUNIT_EXPECT_GT(test, finished, 0UL);
	if (!finished) {
		/* It waited: let it go, and fail. */
		folio_mark_uptodate(folio);
		folio_unlock(folio);
		wait_for_completion(&r.done);
		zcopy_batch_release(r.b);
		fput(file);
		return;
	}
	KUNIT_EXPECT_EQ(test, r.ret, (ssize_t)(PAGE_SIZE - 100));
	KUNIT_EXPECT_EQ(test, r.b->nr, 1U);
	KUNIT_EXPECT_TRUE(test, zt_page_holds(r.b->bvec[0].bv_page, 100,
					      PAGE_SIZE - 100, 100));
	zcopy_batch_release(r.b);

	/* Starting on the locked folio: -EBUSY, nothing taken. */
	KUNIT_EXPECT_EQ(test, zcopy_batch_fill_ra(r.b, file, ZCOPY_READ_SHMEM,
						  PAGE_SIZE, 2 * PAGE_SIZE,
						  NULL, &ra), (ssize_t)-EBUSY);
	KUNIT_EXPECT_EQ(test, r.b->nr, 0U);
	KUNIT_EXPECT_EQ(test, zt_ref(folio), ref);

	/* The blocking fill of the same range waits for it (control). */
	r.ra = NULL;
	zt_racer_start(test, &r);
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&r.done, HZ / 5), 0UL);
	folio_mark_uptodate(folio);
	folio_unlock(folio);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&r.done, 10 * HZ), 0UL);
	KUNIT_EXPECT_EQ(test, r.ret, (ssize_t)(3 * PAGE_SIZE - 100));
	zcopy_batch_release(r.b);
	KUNIT_EXPECT_EQ(test, zt_ref(folio), ref);
	fput(file);
}

/*
 * NODISKIO needs no lock on an uptodate folio, even a locked one: the
 * whole range, the file's own pages.
 */
static void zt_nodiskio_takes_uptodate_locked_folio(struct kunit *test)
{
	static const struct zcopy_ra ra = { .nodiskio = true };
	struct file *file = zt_file(test, NULL, 3 * PAGE_SIZE);
	struct zcopy_batch *b = zt_batch(test, ZCOPY_BATCH_PAGES);
	struct folio *folio = zt_folio(file, 1);
	int ref = zt_ref(folio);

	folio_lock(folio);
	KUNIT_EXPECT_EQ(test, zcopy_batch_fill_ra(b, file, ZCOPY_READ_SHMEM, 0,
						  3 * PAGE_SIZE, NULL, &ra),
			(ssize_t)(3 * PAGE_SIZE));
	folio_unlock(folio);
	KUNIT_EXPECT_EQ(test, b->nr, 3U);
	KUNIT_EXPECT_PTR_EQ(test, b->bvec[1].bv_page, &folio->page);
	KUNIT_EXPECT_TRUE(test, zt_page_holds(b->bvec[1].bv_page, 0, PAGE_SIZE,
					      PAGE_SIZE));
	zcopy_batch_release(b);
	KUNIT_EXPECT_EQ(test, zt_ref(folio), ref);
	fput(file);
}

/*
 * A missing folio of tmpfs is a hole, no disk: NODISKIO sends it as the
 * zero page exactly as the blocking fill does. A folio that is not
 * uptodate and not locked (fallocated, never written) is judged under
 * the lock it can take at once: zeros too.
 */
static void zt_nodiskio_missing_and_not_uptodate(struct kunit *test)
{
	static const struct zcopy_ra ra = { .nodiskio = true };
	struct file *file = zt_file(test, NULL, 3 * PAGE_SIZE);
	struct zcopy_batch *b = zt_batch(test, ZCOPY_BATCH_PAGES);
	struct folio *folio;
	int ref;

	i_size_write(file_inode(file), 5 * PAGE_SIZE);	/* pages 3, 4: holes */
	folio = zt_folio(file, 1);
	ref = zt_ref(folio);
	folio_lock(folio);
	folio_clear_uptodate(folio);
	folio_unlock(folio);
	KUNIT_EXPECT_EQ(test, zcopy_batch_fill_ra(b, file, ZCOPY_READ_SHMEM, 0,
						  5 * PAGE_SIZE, NULL, &ra),
			(ssize_t)(5 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, b->nr, 5U);
	KUNIT_EXPECT_PTR_EQ(test, b->bvec[1].bv_page, ZERO_PAGE(0));
	KUNIT_EXPECT_PTR_EQ(test, b->bvec[3].bv_page, ZERO_PAGE(0));
	KUNIT_EXPECT_PTR_EQ(test, b->bvec[4].bv_page, ZERO_PAGE(0));
	KUNIT_EXPECT_TRUE(test, zt_page_holds(b->bvec[2].bv_page, 0, PAGE_SIZE,
					      2 * PAGE_SIZE));
	zcopy_batch_release(b);
	folio_lock(folio);
	folio_mark_uptodate(folio);
	folio_unlock(folio);
	KUNIT_EXPECT_EQ(test, zt_ref(folio), ref);
	i_size_write(file_inode(file), 3 * PAGE_SIZE);
	fput(file);
}

/*
 * A hardware-poisoned page is never lent: the batch ends before it, and a
 * fill that starts on it fails with -EIO, as read(2) does. The flag is
 * set by hand on a page the test owns and cleared before the page can be
 * freed.
 */
static void zt_fill_refuses_poisoned_page(struct kunit *test)
{
	struct file *file;
	struct zcopy_batch *b;
	struct folio *folio;
	int ref;

	if (!IS_ENABLED(CONFIG_MEMORY_FAILURE))
		kunit_skip(test, "no CONFIG_MEMORY_FAILURE: no poisoned pages");
	file = zt_file(test, NULL, 3 * PAGE_SIZE);
	b = zt_batch(test, ZCOPY_BATCH_PAGES);
	folio = zt_folio(file, 1);
	ref = zt_ref(folio);
	SetPageHWPoison(&folio->page);

	KUNIT_EXPECT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 10,
					       3 * PAGE_SIZE - 10, NULL),
			(ssize_t)(PAGE_SIZE - 10));
	KUNIT_EXPECT_EQ(test, b->nr, 1U);
	zcopy_batch_release(b);
	KUNIT_EXPECT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM,
					       PAGE_SIZE + 1, 100, NULL), -EIO);
	KUNIT_EXPECT_EQ(test, b->nr, 0U);
	KUNIT_EXPECT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM,
					       2 * PAGE_SIZE, PAGE_SIZE, NULL),
			(ssize_t)PAGE_SIZE);
	zcopy_batch_release(b);

	ClearPageHWPoison(&folio->page);
	KUNIT_EXPECT_EQ(test, zt_ref(folio), ref);
	fput(file);
}

/* compat.h: a page-cache miss is NULL on every kernel, a hit a folio. */
static void zt_compat_filemap_get_folio(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, PAGE_SIZE);
	struct folio *folio;

	KUNIT_ASSERT_EQ(test, vfs_truncate(&file->f_path, 8 * PAGE_SIZE), 0);
	KUNIT_EXPECT_NULL(test, zc_filemap_get_folio(file->f_mapping, 5));
	folio = zc_filemap_get_folio(file->f_mapping, 0);
	KUNIT_ASSERT_NOT_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, folio->index, 0UL);
	folio_put(folio);
	fput(file);
}

static struct kunit_case zt_pages_cases[] = {
	KUNIT_CASE(zt_fill_maps_range_to_pages),
	KUNIT_CASE(zt_fill_respects_batch_max),
	KUNIT_CASE(zt_fill_stops_at_eof),
	KUNIT_CASE(zt_fill_sends_holes_as_zero_page),
	KUNIT_CASE(zt_fill_splits_large_folios),
	KUNIT_CASE(zt_read_way),
	KUNIT_CASE(zt_fill_waits_for_racing_writer),
	KUNIT_CASE(zt_fill_fallocated_folio_is_zeros),
	KUNIT_CASE(zt_fill_rereads_isize_after_wait),
	KUNIT_CASE(zt_nodiskio_skips_locked_folio),
	KUNIT_CASE(zt_nodiskio_takes_uptodate_locked_folio),
	KUNIT_CASE(zt_nodiskio_missing_and_not_uptodate),
	KUNIT_CASE(zt_fill_refuses_poisoned_page),
	KUNIT_CASE(zt_compat_filemap_get_folio),
	{}
};

static struct kunit_suite zt_pages_suite = {
	.name = "zcopy_pages",
	.test_cases = zt_pages_cases,
};

/* ---- sendpath.c and xfer.c: pages into sockets -------------------------- */

static atomic_t zt_pairs = ATOMIC_INIT(0);

/* A connected pair: @tx sends, @rx receives (TCP over lo, or AF_UNIX). */
struct zt_pair {
	struct socket *tx, *rx;
};

static void zt_pair(struct kunit *test, int family, struct zt_pair *p)
{
	struct sockaddr_storage ss = {};
	struct socket *lsn;
	int len, proto = family == AF_UNIX ? 0 : IPPROTO_TCP;

	if (family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		/* An abstract name (leading NUL), unique per pair. */
		sun->sun_family = AF_UNIX;
		len = offsetof(struct sockaddr_un, sun_path) + 1 +
		      snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
			       "zcopy-kunit-%d", atomic_inc_return(&zt_pairs));
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, family, SOCK_STREAM,
					       proto, &lsn), 0);
	KUNIT_ASSERT_EQ(test, kernel_bind(lsn, (struct sockaddr *)&ss, len), 0);
	KUNIT_ASSERT_EQ(test, kernel_listen(lsn, 1), 0);
	if (family == AF_INET)
		KUNIT_ASSERT_GT(test, kernel_getsockname(lsn, (struct sockaddr *)&ss), 0);
	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, family, SOCK_STREAM,
					       proto, &p->tx), 0);
	KUNIT_ASSERT_EQ(test, kernel_connect(p->tx, (struct sockaddr *)&ss, len, 0), 0);
	KUNIT_ASSERT_EQ(test, kernel_accept(lsn, &p->rx, 0), 0);
	sock_release(lsn);
	/* A test that hangs is a test that never reports. */
	p->rx->sk->sk_rcvtimeo = 10 * HZ;
	p->tx->sk->sk_sndtimeo = 10 * HZ;
}

/* Receive up to @len bytes; @wait: block for all of them. */
static size_t zt_recv(struct socket *sock, u8 *buf, size_t len, bool wait)
{
	size_t got = 0;

	while (got < len) {
		struct kvec kv = { .iov_base = buf + got, .iov_len = len - got };
		struct msghdr msg = {};
		int ret;

		ret = kernel_recvmsg(sock, &msg, &kv, 1, len - got,
				     wait ? 0 : MSG_DONTWAIT);
		if (ret <= 0)
			break;
		got += ret;
	}
	return got;
}

/* Do @len bytes of @buf equal zt_byte() from file offset @pos? */
static bool zt_buf_holds(const u8 *buf, size_t len, loff_t pos)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != zt_byte(pos + i))
			return false;
	return true;
}

/*
 * Wait (up to 2 s) for the folio reference counts of @file's first @nr
 * pages to come back to @ref: the sockets drop theirs when the skbs are
 * freed, which on TCP waits for the peer's ACK, in softirq context.
 */
static bool zt_refs_back(struct file *file, const int *ref, unsigned int nr)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		unsigned int i;

		zt_drain_lru();
		for (i = 0; i < nr; i++)
			if (folio_ref_count(zt_folio(file, i)) != ref[i])
				break;
		if (i == nr)
			return true;
		msleep(20);
	}
	return false;
}

/*
 * The proof of zero-copy from inside: after zcopy_batch_send() and
 * zcopy_batch_release(), zcopy holds no reference, yet each page's count
 * is still raised, because an skb fragment holds it. Once the receiver
 * has read the bytes and the sockets are gone, every count is back.
 */
static void zt_send_lends_pages(struct kunit *test, int family)
{
	const unsigned int nr = 5;
	struct file *file = zt_file(test, NULL, nr * PAGE_SIZE);
	struct zcopy_batch *b = zt_batch(test, ZCOPY_BATCH_PAGES);
	size_t len = nr * PAGE_SIZE - 300;
	struct zt_pair p;
	int ref[5];
	unsigned int i;
	u8 *buf;

	buf = kunit_kzalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < nr; i++)
		ref[i] = zt_ref(zt_folio(file, i));
	zt_pair(test, family, &p);
	KUNIT_EXPECT_TRUE(test, zcopy_sock_takes_pages(p.tx));

	KUNIT_ASSERT_EQ(test, zcopy_batch_fill(b, file, ZCOPY_READ_SHMEM, 300, len, NULL),
			(ssize_t)len);
	KUNIT_EXPECT_EQ(test, zcopy_batch_send(p.tx, b, 0), (ssize_t)len);
	zcopy_batch_release(b);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_GT_MSG(test, zt_ref(zt_folio(file, i)), ref[i],
				    "page %u was copied, not lent", i);

	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, buf, len, true), len);
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf, len, 300));
	sock_release(p.tx);
	sock_release(p.rx);
	KUNIT_EXPECT_TRUE_MSG(test, zt_refs_back(file, ref, nr),
			      "a page reference was leaked or dropped twice");
	fput(file);
}

static void zt_send_tcp_lends_pages(struct kunit *test)
{
	zt_send_lends_pages(test, AF_INET);
}

static void zt_send_unix_lends_pages(struct kunit *test)
{
	zt_send_lends_pages(test, AF_UNIX);
}

/* A datagram socket with no route yet: zcopy cannot promise zero-copy. */
static void zt_udp_unconnected_counts_copy(struct kunit *test)
{
	struct socket *sock;

	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, AF_INET, SOCK_DGRAM,
					       IPPROTO_UDP, &sock), 0);
	KUNIT_EXPECT_FALSE(test, zcopy_sock_takes_pages(sock));
	sock_release(sock);
}

/* A socket of the pair, as a file, and the ioctl argument for a send. */
static struct file *zt_sock_file(struct kunit *test, struct socket *sock)
{
	struct file *f = sock_alloc_file(sock, 0, NULL);

	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	return f;
}

/*
 * The whole transfer, as the ioctl runs it: 200000 bytes from offset 1000
 * of a 256 KiB file, non-blocking, the receiver draining between calls.
 * Every byte arrives, every byte is counted as zero-copy, the offset
 * advances, the file position does not move, and no reference is left.
 */
static void zt_sendfile_counts_zero_copy(struct kunit *test)
{
	const unsigned int nr = 64;
	struct file *file = zt_file(test, NULL, nr * PAGE_SIZE);
	struct zcopy_sendfile a = {
		.flags = ZCOPY_SEND_OFFSET | ZCOPY_SEND_DONTWAIT,
		.offset = 1000,
	};
	size_t total = 200000, sent = 0, got = 0;
	u64 zc = 0, copied = 0;
	struct file *out;
	struct zt_pair p;
	int *ref, tries;
	unsigned int i;
	u8 *buf;

	ref = kunit_kcalloc(test, nr, sizeof(*ref), GFP_KERNEL);
	buf = kunit_kzalloc(test, total, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ref);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < nr; i++)
		ref[i] = zt_ref(zt_folio(file, i));
	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);

	for (tries = 0; sent < total && tries < 10000; tries++) {
		ssize_t ret;

		a.count = total - sent;
		a.zc_bytes = 0;
		a.copied_bytes = 0;
		ret = zcopy_sendfile_files(file, out, &a, NULL, NULL);
		if (ret == -EAGAIN) {
			got += zt_recv(p.rx, buf + got, total - got, true);
			continue;
		}
		KUNIT_ASSERT_GT(test, ret, 0);
		sent += ret;
		zc += a.zc_bytes;
		copied += a.copied_bytes;
		KUNIT_EXPECT_EQ(test, a.offset, 1000ULL + sent);
		got += zt_recv(p.rx, buf + got, total - got, false);
	}
	KUNIT_EXPECT_EQ(test, sent, total);
	KUNIT_EXPECT_EQ(test, zc, (u64)total);
	KUNIT_EXPECT_EQ(test, copied, 0ULL);
	KUNIT_EXPECT_EQ(test, file->f_pos, 0LL);
	got += zt_recv(p.rx, buf + got, total - got, true);
	KUNIT_EXPECT_EQ(test, got, total);
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf, total, 1000));

	fput(out); /* releases p.tx */
	sock_release(p.rx);
	flush_delayed_fput();
	KUNIT_EXPECT_TRUE_MSG(test, zt_refs_back(file, ref, nr),
			      "a page reference was leaked or dropped twice");
	fput(file);
}

/* Without ZCOPY_SEND_OFFSET the file position is used and advanced. */
static void zt_sendfile_uses_file_position(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 3 * PAGE_SIZE);
	struct zcopy_sendfile a = { .count = 5000 };
	struct file *out;
	struct zt_pair p;
	u8 *buf = kunit_kzalloc(test, 5000, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);
	file->f_pos = 4000;
	KUNIT_EXPECT_EQ(test, zcopy_sendfile_files(file, out, &a, NULL, NULL), 5000);
	KUNIT_EXPECT_EQ(test, file->f_pos, 9000LL);
	KUNIT_EXPECT_EQ(test, a.offset, 9000ULL);
	KUNIT_EXPECT_EQ(test, a.zc_bytes, 5000ULL);
	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, buf, 5000, true), (size_t)5000);
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf, 5000, 4000));
	/* Clamped at end of file, as sendfile(2): 3 pages - 9000 bytes. */
	a.count = 1 << 20;
	KUNIT_EXPECT_EQ(test, zcopy_sendfile_files(file, out, &a, NULL, NULL),
			(ssize_t)(3 * PAGE_SIZE - 9000));
	KUNIT_EXPECT_EQ(test, file->f_pos, (loff_t)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, zcopy_sendfile_files(file, out, &a, NULL, NULL), 0);
	fput(out);
	sock_release(p.rx);
	fput(file);
}

/*
 * The splice path (splice.c), on a file whose read is the filesystem's
 * own: procfs generates /proc/version on read. zcopy must send exactly
 * what read(2) gives, counted as copied (the bytes were generated into
 * pages of the read's own), and advance the offset by as much.
 */
static void zt_splice_path_sends_procfs(struct kunit *test)
{
	struct zcopy_sendfile a = { .flags = ZCOPY_SEND_OFFSET, .count = 4096 };
	struct file *file, *out;
	loff_t pos = 0;
	struct zt_pair p;
	ssize_t want;
	u8 *buf, *got;

	file = filp_open("/proc/version", O_RDONLY, 0);
	if (IS_ERR(file))
		kunit_skip(test, "no /proc/version (procfs not mounted)");
	buf = kunit_kzalloc(test, 4096, GFP_KERNEL);
	got = kunit_kzalloc(test, 4096, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, got);
	want = kernel_read(file, buf, 4096, &pos);
	KUNIT_ASSERT_GT(test, want, 0L);

	zt_pair(test, AF_UNIX, &p);
	out = zt_sock_file(test, p.tx);
	KUNIT_EXPECT_EQ(test, zcopy_sendfile_files(file, out, &a, NULL, NULL), want);
	KUNIT_EXPECT_EQ(test, a.offset, (s64)want);
	KUNIT_EXPECT_EQ(test, a.copied_bytes, (u64)want);
	KUNIT_EXPECT_EQ(test, a.zc_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, got, want, true), (size_t)want);
	KUNIT_EXPECT_EQ(test, memcmp(got, buf, want), 0);
	/* At end of file: 0, nothing sent. */
	KUNIT_EXPECT_EQ(test, zcopy_sendfile_files(file, out, &a, NULL, NULL), 0L);
	fput(out);
	sock_release(p.rx);
	fput(file);
}

/*
 * The splice path on a page-cache file: tmpfs opened O_DIRECT is read
 * through ->splice_read. Every byte arrives in order across many pipefuls
 * (more than one batch's worth), and once the sockets are gone no page
 * reference is left behind.
 */
static void zt_splice_path_tmpfs_o_direct(struct kunit *test)
{
	const unsigned int nr = 24;
	struct file *file = zt_file(test, NULL, nr * PAGE_SIZE);
	struct zcopy_sendfile a = { .flags = ZCOPY_SEND_OFFSET, .offset = 333 };
	size_t len = (nr - 2) * PAGE_SIZE + 5;
	struct file *out;
	struct zt_pair p;
	int *ref;
	unsigned int i;
	u8 *buf;

	buf = kunit_kzalloc(test, len, GFP_KERNEL);
	ref = kunit_kcalloc(test, nr, sizeof(*ref), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, ref);
	for (i = 0; i < nr; i++)
		ref[i] = zt_ref(zt_folio(file, i));
	file->f_flags |= O_DIRECT;
	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);
	a.count = len;
	KUNIT_EXPECT_EQ(test, zcopy_sendfile_files(file, out, &a, NULL, NULL), (ssize_t)len);
	KUNIT_EXPECT_EQ(test, a.offset, 333LL + len);
	KUNIT_EXPECT_EQ(test, a.copied_bytes + a.zc_bytes, (u64)len);
	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, buf, len, true), len);
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf, len, 333));
	fput(out);
	sock_release(p.rx);
	file->f_flags &= ~O_DIRECT;
	KUNIT_EXPECT_TRUE_MSG(test, zt_refs_back(file, ref, nr),
			      "a page reference was leaked or dropped twice");
	fput(file);
}

/*
 * sendfile(2)'s checks, one row each, in do_sendfile()'s order. Each row
 * breaks one thing of a good call and restores it after.
 */
static void zt_sendfile_rejects_bad_input(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 2 * PAGE_SIZE);
	struct file *other = zt_file(test, NULL, 10);
	struct zcopy_sendfile a;
	struct file *out;
	struct zt_pair p;

	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);

#define ZT_ROW(in_, out_, flags_, offset_, count_, want)                          \
	do {                                                                      \
		a = (struct zcopy_sendfile){ .flags = (flags_),                   \
					     .offset = (offset_),                 \
					     .count = (count_) };                 \
		KUNIT_EXPECT_EQ_MSG(test, zcopy_sendfile_files(in_, out_, &a, NULL, NULL),    \
				    (ssize_t)(want), "row: %s", #want);           \
	} while (0)

	/* Nothing asked, nothing sent; past end of file, nothing either. */
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 0, 0);
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 2 * PAGE_SIZE, 10, 0);
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 1ULL << 40, 10, 0);
	/* Negative and overflowing ranges (rw_verify_area()). */
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, -1LL, 10, -EINVAL);
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, LLONG_MAX - 10, 100, -EINVAL);
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 1ULL << 63, -EINVAL);
	/* Bad descriptors: no out file, out not a socket. */
	ZT_ROW(file, NULL, ZCOPY_SEND_OFFSET, 0, 10, -EBADF);
	ZT_ROW(file, other, ZCOPY_SEND_OFFSET, 0, 10, -ENOTSOCK);
	/* An in file not open for reading, an out not open for writing. */
	file->f_mode &= ~FMODE_READ;
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 10, -EBADF);
	file->f_mode |= FMODE_READ;
	out->f_mode &= ~FMODE_WRITE;
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 10, -EBADF);
	out->f_mode |= FMODE_WRITE;
	/* An offset on a file without pread: ESPIPE, as for a pipe. */
	file->f_mode &= ~FMODE_PREAD;
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 10, -ESPIPE);
	file->f_mode |= FMODE_PREAD;
	/* What splice refuses: an O_APPEND output, an unseekable input. */
	out->f_flags |= O_APPEND;
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 10, -EINVAL);
	out->f_flags &= ~O_APPEND;
	file->f_mode &= ~FMODE_LSEEK;
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 10, -EINVAL);
	file->f_mode |= FMODE_LSEEK;
	/* And the good call, to show the rows above failed for their reason. */
	ZT_ROW(file, out, ZCOPY_SEND_OFFSET, 0, 10, 10);
#undef ZT_ROW

	fput(out);
	sock_release(p.rx);
	fput(other);
	fput(file);
}

/* A full non-blocking socket: -EAGAIN, and nothing is lost by it. */
static void zt_sendfile_full_socket_eagain(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, 64 * PAGE_SIZE);
	struct zcopy_sendfile a = { .flags = ZCOPY_SEND_OFFSET | ZCOPY_SEND_DONTWAIT };
	size_t sent = 0;
	struct file *out;
	struct zt_pair p;
	ssize_t ret = 0;
	int i;

	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);
	for (i = 0; i < 100000; i++) {
		a.offset = sent % (64 * PAGE_SIZE);
		a.count = 64 * PAGE_SIZE - a.offset;
		ret = zcopy_sendfile_files(file, out, &a, NULL, NULL);
		if (ret <= 0)
			break;
		sent += ret;
	}
	KUNIT_EXPECT_EQ(test, ret, (ssize_t)-EAGAIN);
	KUNIT_EXPECT_GT(test, sent, (size_t)0);
	fput(out);
	sock_release(p.rx);
	fput(file);
}

/* A file segment of @file: what sendv.c's zcopy_seg_get() makes. */
static struct zcopy_kseg zt_kseg(struct file *file, loff_t pos, size_t len)
{
	return (struct zcopy_kseg){ .file = file, .way = zcopy_read_way(file),
				    .pos = pos, .len = len };
}

/*
 * SENDV's walk: segments of two files, one of them empty, one file named
 * twice, go out in order in one call, as one stream: every byte arrives
 * in order, all of it by reference, and once the sockets are gone every
 * folio reference of both files is back where it was (the batch carries
 * across segments, so a reference taken for one segment and released
 * after another's send is checked here).
 */
static void zt_sendv_segments_in_order(struct kunit *test)
{
	const unsigned int nr = 8;
	struct file *fa = zt_file(test, NULL, nr * PAGE_SIZE);
	struct file *fb = zt_file(test, NULL, nr * PAGE_SIZE);
	struct zcopy_kseg segs[4] = {
		zt_kseg(fa, 100, 5000),
		zt_kseg(fb, 3 * PAGE_SIZE + 7, 9000),
		zt_kseg(fb, 0, 0),
		zt_kseg(fa, 0, PAGE_SIZE),
	};
	const size_t total = 5000 + 9000 + PAGE_SIZE;
	struct zcopy_sendv a = {};
	int *ref_a, *ref_b;
	struct file *out;
	struct zt_pair p;
	unsigned int i;
	ssize_t ret;
	u8 *buf;

	ref_a = kunit_kcalloc(test, nr, sizeof(*ref_a), GFP_KERNEL);
	ref_b = kunit_kcalloc(test, nr, sizeof(*ref_b), GFP_KERNEL);
	buf = kunit_kzalloc(test, total, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ref_a);
	KUNIT_ASSERT_NOT_NULL(test, ref_b);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < nr; i++) {
		ref_a[i] = zt_ref(zt_folio(fa, i));
		ref_b[i] = zt_ref(zt_folio(fb, i));
	}
	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);

	ret = zcopy_sendv_segs(out, segs, ARRAY_SIZE(segs), &a, NULL, NULL);
	KUNIT_EXPECT_EQ(test, ret, (ssize_t)total);
	KUNIT_EXPECT_EQ(test, a.zc_bytes, (u64)total);
	KUNIT_EXPECT_EQ(test, a.copied_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, buf, total, true), total);
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf, 5000, 100));
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf + 5000, 9000, 3 * PAGE_SIZE + 7));
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf + 14000, PAGE_SIZE, 0));
	/* Explicit offsets: no file position moved. */
	KUNIT_EXPECT_EQ(test, fa->f_pos, 0LL);
	KUNIT_EXPECT_EQ(test, fb->f_pos, 0LL);

	fput(out);
	sock_release(p.rx);
	flush_delayed_fput();
	KUNIT_EXPECT_TRUE_MSG(test, zt_refs_back(fa, ref_a, nr),
			      "a page reference of the first file was leaked or dropped twice");
	KUNIT_EXPECT_TRUE_MSG(test, zt_refs_back(fb, ref_b, nr),
			      "a page reference of the second file was leaked or dropped twice");
	fput(fb);
	fput(fa);
}

/*
 * A file segment that reaches end of file ends the call there: the bytes
 * before it are sent, the segments after it are not, and no reference
 * is left behind by the pages read but never reached.
 */
static void zt_sendv_stops_at_eof(struct kunit *test)
{
	const unsigned int nr = 2;
	struct file *file = zt_file(test, NULL, nr * PAGE_SIZE);
	struct zcopy_kseg segs[3] = {
		zt_kseg(file, 0, 100),
		zt_kseg(file, nr * PAGE_SIZE - 10, 100),
		zt_kseg(file, 0, 50),
	};
	struct zcopy_sendv a = {};
	struct file *out;
	struct zt_pair p;
	int ref[2];
	u8 buf[200];

	ref[0] = zt_ref(zt_folio(file, 0));
	ref[1] = zt_ref(zt_folio(file, 1));
	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);
	KUNIT_EXPECT_EQ(test, zcopy_sendv_segs(out, segs, 3, &a, NULL, NULL), 110L);
	/*
	 * Received with waits: TCP may hand the pushed bytes to loopback a
	 * moment after the call returns (autocorking waits for the previous
	 * skb to leave the qdisc). Then nothing more: the third segment never
	 * left.
	 */
	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, buf, 110, true), (size_t)110);
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf, 100, 0));
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf + 100, 10, nr * PAGE_SIZE - 10));
	p.rx->sk->sk_rcvtimeo = HZ / 5;
	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, buf, sizeof(buf), true), (size_t)0);
	fput(out);
	sock_release(p.rx);
	flush_delayed_fput();
	KUNIT_EXPECT_TRUE(test, zt_refs_back(file, ref, nr));
	fput(file);
}

/*
 * The batch lives on the stack for a small request and is allocated for
 * a large one; either way it is sized by what the file holds, not by
 * the count asked for (a "send to the end" count of 2 GiB on a 4 KiB
 * file needs one page).
 */
static void zt_batch_sizing(struct kunit *test)
{
	struct file *file = zt_file(test, NULL, PAGE_SIZE);
	struct zcopy_small_batch small;
	struct zcopy_xfer x = {};
	struct zcopy_kseg seg = zt_kseg(file, 0, MAX_RW_COUNT);

	KUNIT_EXPECT_EQ(test, zcopy_kseg_pages(&x, &seg), (size_t)1);
	KUNIT_ASSERT_EQ(test, zcopy_xfer_batch(&x, 1, &small), 0);
	KUNIT_EXPECT_PTR_EQ(test, x.b, &small.b);
	KUNIT_EXPECT_EQ(test, x.b->max, (u16)1);
	zcopy_xfer_batch_free(&x, &small);
	KUNIT_ASSERT_EQ(test, zcopy_xfer_batch(&x, 100000, &small), 0);
	KUNIT_EXPECT_PTR_NE(test, x.b, &small.b);
	KUNIT_EXPECT_EQ(test, x.b->max, (u16)ZCOPY_BATCH_PAGES);
	zcopy_xfer_batch_free(&x, &small);
	x.record = true;
	KUNIT_ASSERT_EQ(test, zcopy_xfer_batch(&x, 100000, &small), 0);
	KUNIT_EXPECT_EQ(test, x.b->max, (u16)ZCOPY_SPLICE_BATCH_PAGES);
	zcopy_xfer_batch_free(&x, &small);
	fput(file);
}

static struct kunit_case zt_send_cases[] = {
	KUNIT_CASE(zt_send_tcp_lends_pages),
	KUNIT_CASE(zt_send_unix_lends_pages),
	KUNIT_CASE(zt_udp_unconnected_counts_copy),
	KUNIT_CASE(zt_sendfile_counts_zero_copy),
	KUNIT_CASE(zt_sendfile_uses_file_position),
	KUNIT_CASE(zt_splice_path_sends_procfs),
	KUNIT_CASE(zt_splice_path_tmpfs_o_direct),
	KUNIT_CASE(zt_sendfile_rejects_bad_input),
	KUNIT_CASE(zt_sendfile_full_socket_eagain),
	KUNIT_CASE(zt_sendv_segments_in_order),
	KUNIT_CASE(zt_sendv_stops_at_eof),
	KUNIT_CASE(zt_batch_sizing),
	{}
};

static struct kunit_suite zt_send_suite = {
	.name = "zcopy_send",
	.test_cases = zt_send_cases,
};

/* ---- notify.c: completion notices --------------------------------------- */

/*
 * The notice's lifecycle, its holders counted exactly: the ubuf_info's
 * reference count (the call's one, one per skb_shared_info holding it),
 * the notice state's (the open file's one, one per notice not freed), its
 * bound, and this module's reference count (one per notice in flight).
 * The skbs are real, with no socket: skb_zcopy_set() links the ubuf as
 * TCP does, skb_clone() shares it, kfree_skb() and skb_zcopy_clear() call
 * its completion as the stack does.
 */
struct zt_notif_env {
	struct zt_pair p;
	struct zcopy_file *zf;
	struct zcopy_xfer x;
	int mod;
};

static void zt_notif_env(struct kunit *test, struct zt_notif_env *e)
{
	zt_pair(test, AF_INET, &e->p);
	e->zf = zcopy_file_alloc();
	KUNIT_ASSERT_NOT_NULL(test, e->zf);
	memset(&e->x, 0, sizeof(e->x));
	e->x.sock = e->p.tx;
	e->mod = module_refcount(THIS_MODULE);
}

static void zt_notif_env_done(struct zt_notif_env *e)
{
	zcopy_file_release(e->zf);
	sock_release(e->p.tx);
	sock_release(e->p.rx);
}

/* The first ready notice, taken off the queue (what read(2) copies out). */
static struct zcopy_notif *zt_notice_take(struct zcopy_file *zf)
{
	struct zcopy_notif *n;

	spin_lock_irq(&zf->lock);
	n = list_first_entry_or_null(&zf->ready, struct zcopy_notif, node);
	if (n) {
		list_del(&n->node);
		zf->nr_ready--;
		zf->pending--;
	}
	spin_unlock_irq(&zf->lock);
	return n;
}

static void zt_notice_free(struct zcopy_file *zf, struct zcopy_notif *n)
{
	kfree(n);
	zcopy_file_put(zf);
}

static void zt_notif_refcounts(struct kunit *test)
{
	struct sk_buff *skb, *clone;
	struct zt_notif_env e;
	struct zcopy_notif *n;
	struct ubuf_info *u;

	zt_notif_env(test, &e);
	KUNIT_ASSERT_EQ(test, zcopy_notif_begin(&e.x, e.zf, 0xc0c0ULL), 0);
	u = e.x.ubuf;
	KUNIT_EXPECT_EQ(test, refcount_read(&u->refcnt), 1);
	KUNIT_EXPECT_EQ(test, refcount_read(&e.zf->ref), 2);
	KUNIT_EXPECT_EQ(test, e.zf->pending, 1U);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod + 1);

	/* An skb holds it, as TCP links it; a clone shares that hold. */
	skb = alloc_skb(128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_zcopy_set(skb, u, NULL);
	KUNIT_EXPECT_EQ(test, refcount_read(&u->refcnt), 2);
	clone = skb_clone(skb, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, clone);
	KUNIT_EXPECT_EQ(test, refcount_read(&u->refcnt), 2);
	kfree_skb(skb);
	KUNIT_EXPECT_EQ(test, refcount_read(&u->refcnt), 2);

	/* The call ends: its reference goes, the clone still holds. */
	e.x.zc_bytes = 4096;
	zcopy_notif_end(&e.x, 5000);
	KUNIT_EXPECT_NULL(test, e.x.ubuf);
	KUNIT_EXPECT_EQ(test, refcount_read(&u->refcnt), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e.zf->nr_ready), 0U);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod + 1);

	/* The last skb goes: the notice is queued, the module let go. */
	kfree_skb(clone);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e.zf->nr_ready), 1U);
	KUNIT_EXPECT_EQ(test, e.zf->pending, 1U);
	KUNIT_EXPECT_EQ(test, refcount_read(&e.zf->ref), 2);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod);
	n = zt_notice_take(e.zf);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->rec.size, (u32)ZCOPY_NOTICE_SIZE_VER0);
	KUNIT_EXPECT_EQ(test, n->rec.cookie, 0xc0c0ULL);
	KUNIT_EXPECT_EQ(test, n->rec.bytes, 5000ULL);
	KUNIT_EXPECT_EQ(test, n->rec.zc_bytes, 4096ULL);
	KUNIT_EXPECT_EQ(test, n->rec.flags, 0U);
	zt_notice_free(e.zf, n);
	KUNIT_EXPECT_EQ(test, refcount_read(&e.zf->ref), 1);
	KUNIT_EXPECT_EQ(test, e.zf->pending, 0U);
	zt_notif_env_done(&e);
}

/* An skb whose fragments were copied (local delivery): COPIED. */
static void zt_notif_copied(struct kunit *test)
{
	struct zt_notif_env e;
	struct zcopy_notif *n;
	struct sk_buff *skb;

	zt_notif_env(test, &e);
	KUNIT_ASSERT_EQ(test, zcopy_notif_begin(&e.x, e.zf, 7), 0);
	skb = alloc_skb(128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_zcopy_set(skb, e.x.ubuf, NULL);
	zcopy_notif_end(&e.x, 10);
	/* What skb_copy_ubufs() does once it has copied the fragments. */
	skb_zcopy_clear(skb, false);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e.zf->nr_ready), 1U);
	kfree_skb(skb);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e.zf->nr_ready), 1U);
	n = zt_notice_take(e.zf);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->rec.flags, ZCOPY_NOTICE_COPIED);
	zt_notice_free(e.zf, n);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod);
	zt_notif_env_done(&e);
}

/* A call that sent nothing: no notice, every count back at once. */
static void zt_notif_quiet(struct kunit *test)
{
	struct zt_notif_env e;

	zt_notif_env(test, &e);
	KUNIT_ASSERT_EQ(test, zcopy_notif_begin(&e.x, e.zf, 1), 0);
	zcopy_notif_end(&e.x, -EAGAIN);
	KUNIT_EXPECT_EQ(test, READ_ONCE(e.zf->nr_ready), 0U);
	KUNIT_EXPECT_EQ(test, e.zf->pending, 0U);
	KUNIT_EXPECT_EQ(test, refcount_read(&e.zf->ref), 1);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod);
	zt_notif_env_done(&e);
}

/* The file closed with a notice in flight: freed by its completion. */
static void zt_notif_release_in_flight(struct kunit *test)
{
	struct zt_notif_env e;
	struct zcopy_file *zf;
	struct sk_buff *skb;

	zt_notif_env(test, &e);
	zf = e.zf;
	KUNIT_ASSERT_EQ(test, zcopy_notif_begin(&e.x, zf, 1), 0);
	skb = alloc_skb(128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_zcopy_set(skb, e.x.ubuf, NULL);
	zcopy_notif_end(&e.x, 10);
	refcount_inc(&zf->ref);	/* the test's, to look after the release */
	zcopy_file_release(zf);
	KUNIT_EXPECT_EQ(test, refcount_read(&zf->ref), 2);
	KUNIT_EXPECT_EQ(test, zf->pending, 1U);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod + 1);
	kfree_skb(skb);
	KUNIT_EXPECT_EQ(test, refcount_read(&zf->ref), 1);
	KUNIT_EXPECT_EQ(test, zf->pending, 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(zf->nr_ready), 0U);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod);
	zcopy_file_put(zf);
	sock_release(e.p.tx);
	sock_release(e.p.rx);
}

/* The bound: @max in flight or unread, then -ENOBUFS; not TCP: -EOPNOTSUPP. */
static void zt_notif_bound(struct kunit *test)
{
	struct zcopy_xfer x2 = {}, x3 = {};
	struct zt_notif_env e;
	struct socket *udp;

	zt_notif_env(test, &e);
	e.zf->max = 2;
	x2.sock = e.p.tx;
	x3.sock = e.p.tx;
	KUNIT_ASSERT_EQ(test, zcopy_notif_begin(&e.x, e.zf, 1), 0);
	KUNIT_ASSERT_EQ(test, zcopy_notif_begin(&x2, e.zf, 2), 0);
	KUNIT_EXPECT_EQ(test, zcopy_notif_begin(&x3, e.zf, 3), -ENOBUFS);
	KUNIT_EXPECT_NULL(test, x3.ubuf);
	zcopy_notif_end(&e.x, 0);
	KUNIT_EXPECT_EQ(test, zcopy_notif_begin(&x3, e.zf, 3), 0);
	zcopy_notif_end(&x2, 0);
	zcopy_notif_end(&x3, 0);
	KUNIT_EXPECT_EQ(test, e.zf->pending, 0U);
	KUNIT_EXPECT_EQ(test, zcopy_notif_begin(&x2, NULL, 1), -EINVAL);

	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, AF_INET, SOCK_DGRAM,
					       IPPROTO_UDP, &udp), 0);
	x2.sock = udp;
	KUNIT_EXPECT_EQ(test, zcopy_notif_begin(&x2, e.zf, 1), -EOPNOTSUPP);
	sock_release(udp);
	KUNIT_EXPECT_EQ(test, refcount_read(&e.zf->ref), 1);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod);
	zt_notif_env_done(&e);
}

/*
 * A real notified SENDFILE over loopback TCP: the pages go by reference,
 * the notice comes once the data is acknowledged (delivery copies it:
 * COPIED), and every folio count is back where it started.
 */
static void zt_notif_sendfile(struct kunit *test)
{
	const unsigned int nr = 8;
	struct file *file = zt_file(test, NULL, nr * PAGE_SIZE);
	struct zcopy_sendfile a = {
		.flags = ZCOPY_SEND_OFFSET | ZCOPY_SEND_NOTIFY,
		.count = nr * PAGE_SIZE,
		.cookie = 99,
	};
	struct zt_notif_env e;
	struct zcopy_notif *n = NULL;
	struct file *out;
	int ref[8], tries;
	unsigned int i;
	u8 *buf;

	buf = kunit_kzalloc(test, nr * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < nr; i++)
		ref[i] = zt_ref(zt_folio(file, i));
	zt_notif_env(test, &e);
	out = zt_sock_file(test, e.p.tx);
	KUNIT_EXPECT_EQ(test, zcopy_sendfile_files(file, out, &a, NULL, e.zf),
			(ssize_t)(nr * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, a.zc_bytes, (u64)(nr * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, zt_recv(e.p.rx, buf, nr * PAGE_SIZE, true),
			(size_t)(nr * PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, zt_buf_holds(buf, nr * PAGE_SIZE, 0));
	for (tries = 0; tries < 100 && !n; tries++) {
		n = zt_notice_take(e.zf);
		if (!n)
			msleep(20);
	}
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_EQ(test, n->rec.cookie, 99ULL);
	KUNIT_EXPECT_EQ(test, n->rec.bytes, (u64)(nr * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, n->rec.zc_bytes, (u64)(nr * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, n->rec.flags, ZCOPY_NOTICE_COPIED);
	zt_notice_free(e.zf, n);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), e.mod);
	/* Acknowledged: no skb holds the pages, before any socket closes. */
	KUNIT_EXPECT_TRUE_MSG(test, zt_refs_back(file, ref, nr),
			      "a page is still held after its notice");
	zcopy_file_release(e.zf);
	fput(out); /* releases p.tx */
	sock_release(e.p.rx);
	flush_delayed_fput();
	fput(file);
}

static struct kunit_case zt_notify_cases[] = {
	KUNIT_CASE(zt_notif_refcounts),
	KUNIT_CASE(zt_notif_copied),
	KUNIT_CASE(zt_notif_quiet),
	KUNIT_CASE(zt_notif_release_in_flight),
	KUNIT_CASE(zt_notif_bound),
	KUNIT_CASE(zt_notif_sendfile),
	{}
};

static struct kunit_suite zt_notify_suite = {
	.name = "zcopy_notify",
	.test_cases = zt_notify_cases,
};

/* ---- stats.c and genl.c: counters, rate limit, request policies ------- */

/*
 * This module's own copy of stats.c keeps its own state per namespace
 * (its own pernet id), registered around each test; zcopy.ko's counters
 * are not touched. Its copy of the netlink family is never registered,
 * so no event is ever sent from here: the group lookup of an unregistered
 * family finds no listener.
 */
static int zt_stats_init(struct kunit *test)
{
	return zcopy_stats_init();
}

static void zt_stats_exit(struct kunit *test)
{
	zcopy_stats_exit();
}

/* A finished call, as the data path would have filled it in. */
struct zt_call_arg {
	long ret;
	u64 copied[ZCOPY_COPIED_WHY];
	u32 cached;
	bool start_only;	/* count it in flight and leave it there */
	bool end_only;		/* end a call another CPU started */
};

static long zt_call_on_cpu(void *data)
{
	struct zt_call_arg *a = data;
	struct zcopy_call c;
	int i;

	zcopy_call_begin(&c, _IOC_NR(ZCOPY_IOC_SENDFILE), 0);
	for (i = 0; i < ZCOPY_COPIED_WHY; i++)
		c.copied[i] = a->copied[i];
	c.pages_cached = a->cached;
	if (a->start_only || a->end_only) {
		c.net = &init_net;
		c.zn = zcopy_net(&init_net);
		c.in_flight = true;
	}
	if (a->start_only) {
		this_cpu_inc(zcopy_net(&init_net)->pcpu->v[ZCOPY_A_STATS_IN_FLIGHT]);
		return 0;
	}
	zcopy_call_end(&c, NULL, a->ret);
	return 0;
}

/*
 * Calls ending on different CPUs land in different per-CPU copies; the sum
 * is exact, a call in flight counted up on one CPU and down on another
 * sums to zero, a restarted call counts as EINTR, an errno without a slot
 * as "other", and a reset zeroes everything but the level in flight.
 */
static void zt_stats_sum_over_cpus(struct kunit *test)
{
	struct zcopy_net *zn = zcopy_net(&init_net);
	struct zcopy_counters *sum;
	struct zt_call_arg ok = {
		.ret = 7000,
		.copied = { [ZCOPY_COPIED_MEMORY] = 1000,
			    [ZCOPY_COPIED_SOCKET] = 2000 },
		.cached = 1,
	};
	struct zt_call_arg bad = { .ret = -EBADF };
	struct zt_call_arg intr = { .ret = -ERESTARTSYS };
	struct zt_call_arg odd = { .ret = -ENOTSUPP };	/* 524: no slot */
	struct zt_call_arg up = { .start_only = true };
	struct zt_call_arg down = { .end_only = true, .ret = -EAGAIN };
	unsigned int ncpu = 0, cpu, first = 0, last = 0;

	sum = kunit_kzalloc(test, sizeof(*sum), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sum);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (!ncpu++)
			first = cpu;
		last = cpu;
		work_on_cpu(cpu, zt_call_on_cpu, &ok);
		work_on_cpu(cpu, zt_call_on_cpu, &bad);
	}
	work_on_cpu(first, zt_call_on_cpu, &intr);
	work_on_cpu(first, zt_call_on_cpu, &odd);
	work_on_cpu(first, zt_call_on_cpu, &up);
	cpus_read_unlock();

	zcopy_stats_sum(zn, sum);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_CALLS_SENDFILE], 2ULL * ncpu + 2);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_CALLS_FAILED], 1ULL * ncpu + 2);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_SENT], 7000ULL * ncpu);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_ZC], 4000ULL * ncpu);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_COPIED_MEMORY], 1000ULL * ncpu);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_COPIED_SOCKET], 2000ULL * ncpu);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_COPIED_ULP], 0ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_PAGES_CACHED], 1ULL * ncpu);
	KUNIT_EXPECT_EQ(test, sum->err[EBADF], 1ULL * ncpu);
	KUNIT_EXPECT_EQ(test, sum->err[EINTR], 1ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_ERRORS_OTHER], 1ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_IN_FLIGHT], 1ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_EVENTS_SENT], 0ULL);

	KUNIT_ASSERT_EQ(test, zcopy_stats_reset(zn), 0);
	zcopy_stats_sum(zn, sum);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_CALLS_SENDFILE], 0ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_SENT], 0ULL);
	KUNIT_EXPECT_EQ(test, sum->err[EBADF], 0ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_IN_FLIGHT], 1ULL);

	/* The call in flight ends elsewhere; counting goes on from zero. */
	cpus_read_lock();
	work_on_cpu(last, zt_call_on_cpu, &down);
	cpus_read_unlock();
	zcopy_stats_sum(zn, sum);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_IN_FLIGHT], 0ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_CALLS_SENDFILE], 1ULL);
	KUNIT_EXPECT_EQ(test, sum->err[EAGAIN], 1ULL);
}

/*
 * A real transfer with its call record: what the data path puts in it
 * adds up to what the call returned, split as the socket took it.
 */
static void zt_stats_real_call(struct kunit *test)
{
	const size_t len = 3 * PAGE_SIZE + 100;
	struct file *file = zt_file(test, NULL, 4 * PAGE_SIZE);
	struct zcopy_sendfile a = { .count = len, .flags = ZCOPY_SEND_OFFSET };
	struct zcopy_counters *sum;
	struct zcopy_call c;
	struct file *out;
	struct zt_pair p;
	ssize_t ret;
	u8 *buf;
	int i;

	buf = kunit_kzalloc(test, len, GFP_KERNEL);
	sum = kunit_kzalloc(test, sizeof(*sum), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, sum);
	zt_pair(test, AF_INET, &p);
	out = zt_sock_file(test, p.tx);

	zcopy_call_begin(&c, _IOC_NR(ZCOPY_IOC_SENDFILE), a.flags);
	ret = zcopy_sendfile_files(file, out, &a, &c, NULL);
	KUNIT_EXPECT_EQ(test, ret, (ssize_t)len);
	KUNIT_EXPECT_TRUE(test, c.in_flight);
	KUNIT_EXPECT_PTR_EQ(test, c.net, &init_net);
	for (i = 0; i < ZCOPY_COPIED_WHY; i++)
		KUNIT_EXPECT_EQ(test, c.copied[i], 0ULL);
	KUNIT_EXPECT_EQ(test, c.pages_cached, 4U);
	KUNIT_EXPECT_EQ(test, c.pages_read, 0U);
	zcopy_call_end(&c, out, ret);
	KUNIT_EXPECT_EQ(test, c.zc_bytes, (u64)len);
	KUNIT_EXPECT_EQ(test, zt_recv(p.rx, buf, len, true), len);

	zcopy_stats_sum(zcopy_net(&init_net), sum);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_CALLS_SENDFILE], 1ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_SENT], (u64)len);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_BYTES_ZC], (u64)len);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_PAGES_CACHED], 4ULL);
	KUNIT_EXPECT_EQ(test, sum->v[ZCOPY_A_STATS_IN_FLIGHT], 0ULL);
	fput(out);
	sock_release(p.rx);
	fput(file);
}

/*
 * The events' rate limit on a clock of the test's own: a quiet namespace
 * may send a burst at once, then one event per interval, and never
 * saves up more than a burst.
 */
static void zt_events_rate_limit(struct kunit *test)
{
	struct zcopy_net *zn = zcopy_net(&init_net);
	u64 t = 5 * NSEC_PER_SEC;
	int i;

	zcopy_events_config(zn, 10, 3);	/* 100 ms apart, 3 at once */
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, zcopy_event_allowed(zn, t));
	KUNIT_EXPECT_FALSE(test, zcopy_event_allowed(zn, t));
	KUNIT_EXPECT_FALSE(test, zcopy_event_allowed(zn, t + 99 * NSEC_PER_MSEC));
	KUNIT_EXPECT_TRUE(test, zcopy_event_allowed(zn, t + 100 * NSEC_PER_MSEC));
	KUNIT_EXPECT_FALSE(test, zcopy_event_allowed(zn, t + 100 * NSEC_PER_MSEC));
	t += 10 * NSEC_PER_SEC;		/* a long quiet: still only a burst */
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, zcopy_event_allowed(zn, t));
	KUNIT_EXPECT_FALSE(test, zcopy_event_allowed(zn, t));
	zcopy_events_config(zn, ZCOPY_EVENTS_RATE_DEFAULT,
			    ZCOPY_EVENTS_BURST_DEFAULT);
}

/*
 * Parse @nr attributes of type @type and @len bytes (each byte 0 but the
 * value's first, @val) as the generic netlink core parses a request:
 * strictly, against @policy. Returns the parse's errno; @msg gets the
 * extended ACK's message.
 */
static int zt_parse(const struct nla_policy *policy, int type, int len,
		    u32 val, const char **msg)
{
	struct nlattr *tb[ZCOPY_A_CONFIG_MAX + 1];
	struct netlink_ext_ack extack = {};
	u8 raw[64] __aligned(4) = {};
	struct nlattr *nla = (struct nlattr *)raw;
	int err;

	nla->nla_type = type;
	nla->nla_len = nla_attr_size(len);
	memcpy(nla_data(nla), &val, min_t(int, len, sizeof(val)));
	err = __nla_parse(tb, ZCOPY_A_CONFIG_MAX, nla, nla_total_size(len),
			  policy, NL_VALIDATE_STRICT, &extack);
	*msg = extack._msg;
	return err;
}

/*
 * The request policies refuse, with an extended ACK message, what the
 * commands do not take: any attribute at all for the commands without
 * one, and for CONFIG_SET values out of range, of the wrong size, or of
 * an unknown type.
 */
static void zt_genl_policies(struct kunit *test)
{
	const struct nla_policy *cfg = zcopy_config_policy;
	const char *msg;

	KUNIT_EXPECT_EQ(test, zt_parse(cfg, ZCOPY_A_CONFIG_EVENTS_RATE, 4, 500, &msg), 0);
	KUNIT_EXPECT_EQ(test, zt_parse(cfg, ZCOPY_A_CONFIG_EVENTS_BURST, 4,
				       ZCOPY_EVENTS_BURST_MAX, &msg), 0);
	KUNIT_EXPECT_EQ(test, zt_parse(cfg, ZCOPY_A_CONFIG_EVENTS_RATE, 4, 0, &msg), -ERANGE);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	KUNIT_EXPECT_EQ(test, zt_parse(cfg, ZCOPY_A_CONFIG_EVENTS_RATE, 4,
				       ZCOPY_EVENTS_RATE_MAX + 1, &msg), -ERANGE);
	KUNIT_EXPECT_EQ(test, zt_parse(cfg, ZCOPY_A_CONFIG_EVENTS_RATE, 2, 5, &msg), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	KUNIT_EXPECT_EQ(test, zt_parse(cfg, ZCOPY_A_CONFIG_EVENTS_RATE, 8, 5, &msg), -EINVAL);
	KUNIT_EXPECT_EQ(test, zt_parse(cfg, ZCOPY_A_CONFIG_MAX + 1, 4, 5, &msg), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	KUNIT_EXPECT_EQ(test, zt_parse(cfg, 0x7fff, 4, 5, &msg), -EINVAL);
	KUNIT_EXPECT_EQ(test, zt_parse(zcopy_noattr_policy, ZCOPY_A_CONFIG_EVENTS_RATE, 4, 5,
				       &msg), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, msg);
}

static struct kunit_case zt_stats_cases[] = {
	KUNIT_CASE(zt_stats_sum_over_cpus),
	KUNIT_CASE(zt_stats_real_call),
	KUNIT_CASE(zt_events_rate_limit),
	KUNIT_CASE(zt_genl_policies),
	{}
};

static struct kunit_suite zt_stats_suite = {
	.name = "zcopy_stats",
	.init = zt_stats_init,
	.exit = zt_stats_exit,
	.test_cases = zt_stats_cases,
};

kunit_test_suites(&zt_pages_suite, &zt_send_suite, &zt_notify_suite,
		  &zt_stats_suite);

MODULE_DESCRIPTION("KUnit tests of the zcopy data path");
MODULE_LICENSE("GPL");
