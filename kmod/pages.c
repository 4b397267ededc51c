// SPDX-License-Identifier: GPL-2.0
/*
 * pages.c - stage 2 of the data path: from a file range to page references.
 *
 * Receives a file and a byte range [pos, pos + len) inside i_size. Hands on
 * a struct zcopy_batch: up to ZCOPY_BATCH_PAGES bio_vecs, each naming part
 * of one page of the file's page cache and each owning one reference on
 * that page's folio. sendpath.c gives the pages to the socket, which takes
 * references of its own; zcopy_batch_release() then drops ours.
 *
 * No byte of the file is touched here: a page is found, made uptodate
 * and pinned, and only its address travels on.
 *
 * Which files are read here at all is the first question, and the answer
 * is a rule, zcopy_read_way(): only files whose own read is, line for
 * line, a page-cache read that this file repeats. sendfile(2) reads every
 * file through the filesystem's ->splice_read, and most filesystems do
 * work there that a bare page-cache walk would skip (NFS revalidates its
 * cache, FUSE asks its server, kernfs and procfs generate the bytes).
 * Those files go through their own ->splice_read (splice.c); the page
 * cache walk below is for the few whose read we have read:
 *
 *   tmpfs (and memfd)  shmem_file_read_iter()/shmem_file_splice_read():
 *                      the page cache is the file. Holes and fallocated
 *                      folios read as zeros, swapped-out pages are read
 *                      back, and a folio that is not uptodate is locked
 *                      before it is judged (a writer holds it locked
 *                      from allocation until its bytes and i_size are
 *                      in place: without the lock, an append is seen as
 *                      a hole).
 *   ext4               ext4_file_read_iter()/ext4_file_splice_read(): a
 *                      shutdown check (-EIO), then the generic page-cache
 *                      read. The check is made by calling ext4's own
 *                      ->read_iter with nothing to read, once per batch.
 *   xfs                xfs_file_read_iter()/xfs_file_splice_read(): the
 *                      same shutdown check, and the page cache is read
 *                      under XFS_IOLOCK_SHARED, which is the inode's
 *                      i_rwsem: zcopy takes it shared around each batch,
 *                      so a batch never sees half of a write(2).
 *   block devices      blkdev_read_iter(): the generic page-cache read of
 *                      the device's mapping.
 *
 * The walk follows filemap_read() and filemap_splice_read() in
 * mm/filemap.c, which do the same for read(2) and splice(2):
 *  - a folio missing from the cache starts synchronous readahead for the
 *    rest of the range, so a cold file is read in large requests rather
 *    than one page at a time; if readahead could not add it, the folio is
 *    created and read alone, under the mapping's invalidate lock (which
 *    keeps truncate and hole punch from freeing the blocks meanwhile);
 *  - a folio marked PG_readahead is where the last readahead window asked
 *    to be told it is being consumed: the next window is started
 *    asynchronously, so the disk stays ahead of the socket;
 *  - a folio that is not uptodate is still being read, or its read
 *    failed: it is locked (a killable wait: a hung device or server never
 *    leaves an unkillable caller), checked to be still in the file, and
 *    read again under the invalidate lock; a failed read is -EIO;
 *  - a page marked hardware-poisoned is never sent: -EIO, as read(2)
 *    gives (the next CPU or DMA touch of it could be a machine check);
 *  - i_size is read again after the folio is uptodate (see below).
 *
 * With ZCOPY_SEND_NODISKIO (struct zcopy_ra.nodiskio) the walk never waits
 * for the disk. A missing folio, and a folio marked PG_readahead, start
 * readahead, but not in the caller: submitting readahead is itself where a
 * filesystem reads the metadata that maps the file (an ext4 extent block
 * not in the cache is read synchronously by ext4_map_blocks()), and where
 * a busy device makes the submitter wait for a request slot. The guest
 * test saw a first call on a cold ext4 file take 0.9 s that way. So the
 * readahead goes to a kernel worker (zcopy_ra_queue()), with a reference
 * on the file, and the call stops with -EBUSY at once; a folio that
 * is not uptodate is only tried (folio_trylock()): if it is locked, a read
 * holds it; if not, its last read failed and a new one is started, without
 * waiting. Either way the walk stops there with -EBUSY, and the call sends
 * what it found before. Uptodate folios need no lock, holes and end of
 * file are judged as in the blocking walk. tmpfs: a page in swap is disk
 * (-EBUSY, nothing started), and a folio that is not uptodate is only
 * tried. The mapping's invalidate lock and xfs's IOLOCK are only tried
 * too (a truncate, hole punch or writer holding them would be waited for).
 */
#include <linux/cacheflush.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "trace.h"
#include "zcopy.h"

/**
 * zcopy_read_way - how zcopy reads @file: lending its page cache directly,
 *	or through the filesystem's own ->splice_read
 * @file: the file to send from, open for reading.
 *
 * The direct ways are taken only for the files listed at the top of this
 * file, and never for O_DIRECT files (the caller asked to bypass the
 * cache; sendfile(2) reads them by direct I/O too) or DAX files (no page
 * cache). Everything else, sysfs, procfs, cgroup2, configfs, debugfs,
 * overlayfs, FUSE, NFS, character devices, any filesystem not named,
 * goes through ->splice_read, which is exactly what sendfile(2) calls.
 *
 * Context: any. Reads fields fixed for the life of an open file.
 */
enum zcopy_read_way zcopy_read_way(struct file *file)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = file_inode(file);
	const char *fs;

	if ((file->f_flags & O_DIRECT) || IS_DAX(mapping->host))
		return ZCOPY_READ_SPLICE;
	if (S_ISBLK(inode->i_mode))
		return ZCOPY_READ_CACHE;
	if (!S_ISREG(inode->i_mode))
		return ZCOPY_READ_SPLICE;
	if (shmem_mapping(mapping))
		return ZCOPY_READ_SHMEM;
	/*
	 * By name: the filesystems are told apart by what they are, not
	 * by the address-space operations they happen to share with
	 * others (kernfs and ramfs have a ->read_folio too).
	 */
	fs = inode->i_sb->s_type->name;
	if (!strcmp(fs, "ext4"))
		return ZCOPY_READ_EXT4;
	if (!strcmp(fs, "xfs"))
		return ZCOPY_READ_XFS;
	return ZCOPY_READ_SPLICE;
}

/**
 * zcopy_fs_read_begin - the filesystem's own checks before a batch is read
 * @file: the file; its read way is %ZCOPY_READ_EXT4 or %ZCOPY_READ_XFS
 *	(zcopy_read_begin() calls this only for those).
 * @way: zcopy_read_way(@file).
 * @nowait: ZCOPY_SEND_NODISKIO: wait for no lock.
 *
 * ext4 and xfs refuse reads with -EIO once the filesystem is shut down
 * (an I/O error on the journal, or FS_IOC_SHUTDOWN), even for pages
 * still in the cache. That state is private to each filesystem, so it is
 * asked the only way a module can: its ->read_iter is called with an
 * empty buffer, which runs its entry checks and returns 0 before reading
 * anything (and without touching atime). xfs then reads the page cache
 * under its IOLOCK, the inode's i_rwsem, shared: taken here, dropped by
 * zcopy_read_end().
 *
 * Context: process context, may sleep (not on the IOLOCK if @nowait).
 * Return: 0, or the filesystem's errno (-EIO), or -EBUSY if @nowait and
 * a lock is held by another task; nothing is held then.
 */
int zcopy_fs_read_begin(struct file *file, enum zcopy_read_way way,
			bool nowait)
{
	struct iov_iter iter;
	struct kiocb kiocb;
	ssize_t ret;

	init_sync_kiocb(&kiocb, file);
	/* NODISKIO: xfs then only tries its IOLOCK, as for RWF_NOWAIT. */
	if (nowait)
		kiocb.ki_flags |= IOCB_NOWAIT;
	iov_iter_kvec(&iter, ITER_DEST, NULL, 0, 0);
	ret = file->f_op->read_iter(&kiocb, &iter);
	if (ret == -EAGAIN && nowait)
		return -EBUSY;
	if (ret < 0)
		return ret;
	if (way != ZCOPY_READ_XFS)
		return 0;
	if (!nowait)
		inode_lock_shared(file_inode(file));
	else if (!inode_trylock_shared(file_inode(file)))
		return -EBUSY;
	return 0;
}

/* The shared zero page, with a reference, standing in for a file hole. */
static struct folio *zcopy_zero_folio(void)
{
	struct folio *folio = page_folio(ZERO_PAGE(0));

	folio_get(folio);
	return folio;
}

static bool zcopy_is_zero_folio(struct folio *folio)
{
	return folio == page_folio(ZERO_PAGE(0));
}

/*
 * A tmpfs page that the fast walk could not use, judged as shmem's own
 * read judges it (shmem_get_folio() with SGP_READ):
 *  - nothing in the cache: a hole, which reads as zeros;
 *  - a value entry: the page is in swap, and shmem brings it back;
 *  - a folio that is not uptodate: lock it first. A writer allocates a
 *    new folio locked and not uptodate, copies its bytes in, raises
 *    i_size and only then marks it uptodate and unlocks it; the lock
 *    waits for all of that. A folio still not uptodate under the lock
 *    was fallocate()d and never written: zeros.
 * *@read_in is set when the page came back from swap or was waited for.
 * @nowait (NODISKIO): a page in swap is -EBUSY, and so is a folio that is
 * not uptodate and locked (a writer, or a swap-in, holds it).
 */
static struct folio *zcopy_shmem_folio(struct address_space *mapping,
				       pgoff_t index, bool *read_in,
				       bool nowait)
{
	struct folio *folio;
	struct page *page;
	int err;

repeat:
	folio = zc_filemap_get_folio(mapping, index);
	if (!folio) {
		if (!xa_is_value(xa_load(&mapping->i_pages, index)))
			return zcopy_zero_folio();
		if (nowait)
			return ERR_PTR(-EBUSY);
		*read_in = true;	/* back from swap */
		page = shmem_read_mapping_page_gfp(mapping, index,
						   mapping_gfp_mask(mapping));
		if (IS_ERR(page))
			return ERR_CAST(page);
		/* The reference taken is on the folio; hand the folio on. */
		return page_folio(page);
	}
	if (folio_test_uptodate(folio))
		return folio;

	*read_in = true;	/* waited for its writer */
	if (nowait)
		err = folio_trylock(folio) ? 0 : -EBUSY;
	else
		err = folio_lock_killable(folio);
	if (err) {
		folio_put(folio);
		return ERR_PTR(err);
	}
	if (unlikely(folio->mapping != mapping)) {
		/* Truncated or swapped out meanwhile: look again. */
		folio_unlock(folio);
		folio_put(folio);
		goto repeat;
	}
	if (folio_test_uptodate(folio)) {
		folio_unlock(folio);
		return folio;
	}
	folio_unlock(folio);
	folio_put(folio);
	return zcopy_zero_folio();
}

/*
 * Read @folio, locked, with the filesystem's ->read_folio, which unlocks
 * it when the I/O completes; wait for that killably. As
 * filemap_read_folio(), which is not exported.
 */
static int zcopy_read_folio(struct file *file, struct folio *folio)
{
	int err;

	err = folio->mapping->a_ops->read_folio(file, folio);
	if (err)
		return err;
	err = folio_wait_locked_killable(folio);
	if (err)
		return err;
	return folio_test_uptodate(folio) ? 0 : -EIO;
}

/*
 * Page @index is not in the cache even after readahead (which may fail
 * to allocate): add a folio for it and read it, under the invalidate
 * lock, as filemap_create_folio() does. Returns the uptodate folio with a
 * reference, NULL if another task added one first (look again), or an
 * ERR_PTR. @nowait (NODISKIO): the invalidate lock is only tried, and
 * the read is started but not waited for: -EBUSY once it is on its way.
 */
static struct folio *zcopy_create_folio(struct file *file,
					struct address_space *mapping,
					pgoff_t index, bool nowait)
{
	unsigned int order = zc_mapping_min_folio_order(mapping);
	struct folio *folio;
	int err;

	folio = filemap_alloc_folio(mapping_gfp_mask(mapping), order);
	if (!folio)
		return ERR_PTR(-ENOMEM);
	if (!nowait) {
		filemap_invalidate_lock_shared(mapping);
	} else if (!filemap_invalidate_trylock_shared(mapping)) {
		folio_put(folio);
		return ERR_PTR(-EBUSY);
	}
	err = filemap_add_folio(mapping, folio, (index >> order) << order,
				mapping_gfp_constraint(mapping, GFP_KERNEL));
	if (!err && nowait) {
		/* ->read_folio unlocks it when the read completes. */
		err = mapping->a_ops->read_folio(file, folio);
		if (!err)
			err = -EBUSY;
	} else if (!err) {
		err = zcopy_read_folio(file, folio);
	}
	filemap_invalidate_unlock_shared(mapping);
	if (err) {
		folio_put(folio);
		return err == -EEXIST ? NULL : ERR_PTR(err);
	}
	return folio;
}

/*
 * @folio is in the cache but not uptodate: a read is in flight, or one
 * failed. Lock it (waiting killably for the read in flight), and if it is
 * still the file's and still not uptodate, read it again, as
 * filemap_update_page() does. Consumes the caller's reference on every
 * path but success. Returns 0, -EAGAIN if the folio was truncated
 * meanwhile (look again), or an errno. @nowait (NODISKIO): the locks are
 * only tried, a read is started but not waited for, and a folio that does
 * not turn out uptodate at once is -EBUSY.
 */
static int zcopy_update_folio(struct file *file, struct address_space *mapping,
			      struct folio *folio, bool nowait)
{
	int err;

	if (nowait && !filemap_invalidate_trylock_shared(mapping)) {
		folio_put(folio);
		return -EBUSY;
	}
	if (!nowait) {
		filemap_invalidate_lock_shared(mapping);
		err = folio_lock_killable(folio);
	} else {
		/* Locked and not uptodate: a read is in flight. */
		err = folio_trylock(folio) ? 0 : -EBUSY;
	}
	if (err)
		goto out;
	if (!folio->mapping) {
		folio_unlock(folio);
		err = -EAGAIN;
	} else if (folio_test_uptodate(folio)) {
		folio_unlock(folio);
	} else if (nowait) {
		/* Its last read failed: read again, wait for nothing. */
		err = mapping->a_ops->read_folio(file, folio);
		if (!err)
			err = -EBUSY;
	} else {
		err = zcopy_read_folio(file, folio);
	}
out:
	filemap_invalidate_unlock_shared(mapping);
	if (err)
		folio_put(folio);
	return err;
}

/*
 * The caller's readahead hint (struct zcopy_ra.bytes): page @index is
 * missing and the request ends at page @last; read ahead from @index to
 * @last and hint bytes past it, clamped to end of file and to
 * ZCOPY_READAHEAD_MAX, in 2 MiB steps as force_page_cache_ra() does.
 * page_cache_ra_unbounded() skips pages already cached and starts the
 * reads without waiting for them; end of file is the caller's to check.
 * The file's own readahead (page_cache_sync_readahead()) has run first and
 * keeps its state; this only widens the window.
 */
static void zcopy_ra_hint(struct file *file, pgoff_t index, pgoff_t last,
			  const struct zcopy_ra *ra)
{
	struct address_space *mapping = file->f_mapping;
	loff_t isize = i_size_read(mapping->host);
	u64 bytes;
	pgoff_t end;

	if (!ra || !ra->bytes || isize <= 0)
		return;
	bytes = min_t(u64, ra->bytes, ZCOPY_READAHEAD_MAX);
	end = last + DIV_ROUND_UP(bytes, PAGE_SIZE);
	end = min(end, (pgoff_t)((isize - 1) >> PAGE_SHIFT));
	end = min(end, index + (pgoff_t)(ZCOPY_READAHEAD_MAX >> PAGE_SHIFT) - 1);
	while (index <= end) {
		DEFINE_READAHEAD(ractl, file, &file->f_ra, mapping, index);
		pgoff_t nr = min_t(pgoff_t, end - index + 1, SZ_2M >> PAGE_SHIFT);

		page_cache_ra_unbounded(&ractl, nr, 0);
		index += nr;
	}
}

/*
 * Readahead for NODISKIO calls, off the caller's path: the workqueue, and
 * one work item per request, which owns a reference on the file (and on
 * @folio, for an asynchronous readahead at a PG_readahead folio).
 */
static struct workqueue_struct *zcopy_ra_wq;

struct zcopy_ra_work {
	struct work_struct work;
	struct file *file;
	struct folio *folio;
	pgoff_t index;
	pgoff_t last;
	struct zcopy_ra ra;
};

static void zcopy_ra_workfn(struct work_struct *work)
{
	struct zcopy_ra_work *rw = container_of(work, struct zcopy_ra_work, work);
	struct file *file = rw->file;
	struct address_space *mapping = file->f_mapping;
	bool xfs = zcopy_read_way(file) == ZCOPY_READ_XFS;

	/* xfs creates page-cache folios under its IOLOCK (xfs_file_fadvise). */
	if (xfs)
		inode_lock_shared(file_inode(file));
	if (rw->folio) {
		DEFINE_READAHEAD(ractl, file, &file->f_ra, mapping, rw->folio->index);

		if (folio_test_readahead(rw->folio) && rw->folio->mapping == mapping)
			page_cache_async_ra(&ractl, rw->folio,
					    rw->last + 1 - rw->folio->index);
		folio_put(rw->folio);
	} else {
		page_cache_sync_readahead(mapping, &file->f_ra, file, rw->index,
					  rw->last + 1 - rw->index);
		zcopy_ra_hint(file, rw->index, rw->last, &rw->ra);
	}
	if (xfs)
		inode_unlock_shared(file_inode(file));
	fput(file);
	kfree(rw);
}

/*
 * Hand readahead of [@index, @last] (plus the hint), or the asynchronous
 * readahead at @folio, to the worker. Returns false if it could not (no
 * memory, or no workqueue: the KUnit module has none), and the caller
 * then starts it itself.
 */
static bool zcopy_ra_queue(struct file *file, struct folio *folio,
			   pgoff_t index, pgoff_t last,
			   const struct zcopy_ra *ra)
{
	struct zcopy_ra_work *rw;

	if (!zcopy_ra_wq)
		return false;
	rw = kmalloc(sizeof(*rw), GFP_KERNEL | __GFP_NOWARN);
	if (!rw)
		return false;
	INIT_WORK(&rw->work, zcopy_ra_workfn);
	rw->file = get_file(file);
	rw->folio = folio;
	if (folio)
		folio_get(folio);
	rw->index = index;
	rw->last = last;
	rw->ra = *ra;
	queue_work(zcopy_ra_wq, &rw->work);
	return true;
}

/**
 * zcopy_ra_init - the NODISKIO readahead workqueue
 *
 * Return: 0 or -ENOMEM.
 */
int zcopy_ra_init(void)
{
	zcopy_ra_wq = alloc_workqueue("zcopy_ra", WQ_UNBOUND, 0);
	return zcopy_ra_wq ? 0 : -ENOMEM;
}

/* zcopy_ra_exit - wait for the readahead queued, and free the workqueue. */
void zcopy_ra_exit(void)
{
	destroy_workqueue(zcopy_ra_wq);
	zcopy_ra_wq = NULL;
}

/*
 * Return the uptodate folio that holds page @index of @file, with one
 * reference held for the caller, or an ERR_PTR. @last is the last page
 * index the caller will want, to size readahead. Readahead started is
 * counted in @call; *@read_in tells whether the folio had to be read or
 * waited for (false: it was in the cache and uptodate, or a tmpfs hole).
 * @ra: NODISKIO and the readahead hint, or NULL for neither. With
 * NODISKIO, a folio that is not uptodate now is ERR_PTR(-EBUSY), after
 * its read was started.
 */
static struct folio *zcopy_folio_get(struct file *file, enum zcopy_read_way way,
				     pgoff_t index, pgoff_t last,
				     struct zcopy_call *call, bool *read_in,
				     const struct zcopy_ra *ra)
{
	struct address_space *mapping = file->f_mapping;
	bool nowait = ra && ra->nodiskio;
	struct folio *folio;
	int err;

	*read_in = false;
	if (way == ZCOPY_READ_SHMEM)
		return zcopy_shmem_folio(mapping, index, read_in, nowait);
repeat:
	folio = zc_filemap_get_folio(mapping, index);
	if (!folio) {
		*read_in = true;
		if (call)
			call->ra_sync++;
		/* NODISKIO: the worker reads ahead; nothing is there yet. */
		if (nowait && zcopy_ra_queue(file, NULL, index, last, ra))
			return ERR_PTR(-EBUSY);
		page_cache_sync_readahead(mapping, &file->f_ra, file, index,
					  last + 1 - index);
		zcopy_ra_hint(file, index, last, ra);
		folio = zc_filemap_get_folio(mapping, index);
		if (!folio) {
			folio = zcopy_create_folio(file, mapping, index,
						   nowait);
			if (!folio)
				goto repeat;
			return folio;
		}
	}

	if (folio_test_readahead(folio)) {
		DEFINE_READAHEAD(ractl, file, &file->f_ra, mapping, folio->index);

		if (call)
			call->ra_async++;
		if (!nowait || !zcopy_ra_queue(file, folio, index, last, ra))
			page_cache_async_ra(&ractl, folio, last + 1 - folio->index);
	}

	if (!folio_test_uptodate(folio)) {
		*read_in = true;
		err = zcopy_update_folio(file, mapping, folio, nowait);
		if (err == -EAGAIN)
			goto repeat;
		if (err)
			return ERR_PTR(err);
	}
	return folio;
}

/* Does @folio hold a hardware-poisoned page? Cheap: flags of the folio. */
static bool zcopy_folio_poisoned(struct folio *folio)
{
	return folio_test_hwpoison(folio) ||
	       (folio_test_large(folio) && folio_test_has_hwpoisoned(folio));
}

/*
 * Add @len bytes of @folio, from byte @off of the folio, to @b, one
 * bio_vec per page, until the batch is full or a poisoned page is met.
 * The caller's reference pays for the first bio_vec; each further page of
 * the same folio takes one more, so that every bio_vec owns exactly one.
 * If not even the first page could be added, the caller's reference is
 * still the caller's. The caller guarantees room for at least one
 * bio_vec. Returns the bytes added.
 */
static size_t zcopy_batch_add(struct zcopy_batch *b, struct folio *folio,
			      size_t off, size_t len)
{
	bool poisoned = zcopy_folio_poisoned(folio);
	size_t added = 0;

	do {
		struct page *page = folio_page(folio, off >> PAGE_SHIFT);
		size_t poff = offset_in_page(off);
		size_t part = min_t(size_t, PAGE_SIZE - poff, len - added);

		if (unlikely(poisoned) && PageHWPoison(page))
			break;
		if (added)
			folio_get(folio);
		bvec_set_page(&b->bvec[b->nr++], page, part, poff);
		off += part;
		added += part;
	} while (added < len && b->nr < b->max);

	b->len += added;
	return added;
}

/*
 * Folios looked up per pass through the page cache's xarray; a pass also
 * ends at the first folio that needs the slow path.
 */
#define ZCOPY_LOOKUP_FOLIOS 16

/*
 * zcopy_lookup_folios - the run of ready folios starting at @index
 *
 * One walk along the xarray under RCU, as filemap_get_read_batch() does for
 * read(2) and splice(2): each folio is pinned with folio_try_get() (it may
 * be on its way out: a zero count means it is being freed) and then
 * checked to be still the one the slot holds (it may have been truncated
 * and its slot reused between the load and the pin). One walk costs one
 * descent of the tree for the whole run instead of one per page.
 *
 * The run stops at a hole, at a swapped-out tmpfs page (a value entry), at
 * a folio that is not uptodate, carries PG_readahead or holds a poisoned
 * page, after @max folios and after page @last: everything that needs
 * more than a lookup is left to zcopy_folio_get().
 *
 * Context: any context that may take rcu_read_lock(). Return: the number
 * of folios stored in @folios, each with a reference held for the caller.
 */
static unsigned int zcopy_lookup_folios(struct address_space *mapping,
					pgoff_t index, pgoff_t last,
					struct folio **folios, unsigned int max)
{
	XA_STATE(xas, &mapping->i_pages, index);
	struct folio *folio;
	unsigned int n = 0;

	rcu_read_lock();
	for (folio = xas_load(&xas); folio; folio = xas_next(&xas)) {
		if (xas_retry(&xas, folio))
			continue;
		if (xas.xa_index > last || xa_is_value(folio) ||
		    xa_is_sibling(folio))
			break;
		if (!folio_try_get(folio))
			goto retry;
		if (unlikely(folio != xas_reload(&xas)))
			goto put;
		if (!folio_test_uptodate(folio) || folio_test_readahead(folio) ||
		    zcopy_folio_poisoned(folio)) {
			folio_put(folio);
			break;
		}
		folios[n++] = folio;
		if (n == max)
			break;
		xas_advance(&xas, folio->index + folio_nr_pages(folio) - 1);
		continue;
put:
		folio_put(folio);
retry:
		xas_reset(&xas);
	}
	rcu_read_unlock();
	return n;
}

/**
 * zcopy_batch_fill_ra - pin the page-cache pages of the next part of a range
 * @b: the batch to fill: pages are appended after those it holds (a
 *	byte stream's batch carries on across the segments of a call).
 * @file: the file, open for reading.
 * @way: zcopy_read_way(@file), not %ZCOPY_READ_SPLICE; the caller has
 *	called zcopy_read_begin() for this batch.
 * @pos: the file offset to start at.
 * @len: bytes wanted (> 0); @pos + @len should lie within i_size.
 * @call: where to count pages found and read, and readahead; or NULL.
 * @ra: %ZCOPY_SEND_NODISKIO and the caller's readahead hint, or NULL for
 *	a blocking fill with the file's own readahead only.
 *
 * Fills @b up to @b->max pages with pages covering a prefix of
 * [@pos, @pos + @len). It stops early at end of file (i_size may shrink
 * while it runs) and at the first page that cannot be read.
 *
 * Pages already in the cache and uptodate are found by one walk per up to
 * %ZCOPY_LOOKUP_FOLIOS folios (zcopy_lookup_folios()); a folio the walk
 * stops at goes through zcopy_folio_get(), which reads, reads ahead,
 * waits for a writer or stands in the zero page, and the walk resumes
 * after it.
 *
 * Context: process context, may sleep (page cache reads; with NODISKIO
 * only for allocations and for readahead's submission).
 * Return: bytes added to @b (> 0); 0 at end of file; or a negative
 * errno (-EIO, -ENOMEM, -EINTR, ...) if not even the first page could be
 * had; with NODISKIO -EBUSY if that page needs the disk.
 */
ssize_t zcopy_batch_fill_ra(struct zcopy_batch *b, struct file *file,
			    enum zcopy_read_way way, loff_t pos, size_t len,
			    struct zcopy_call *call, const struct zcopy_ra *ra)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	pgoff_t last = (pos + len - 1) >> PAGE_SHIFT;
	/* Filled before it is read: not zeroed (CONFIG_INIT_STACK_ALL_ZERO). */
	struct folio *folios[ZCOPY_LOOKUP_FOLIOS] __uninitialized;
	bool aliased = mapping_writably_mapped(mapping);
	unsigned int nr0 = b->nr, nr_read = 0, nr_holes = 0;
	pgoff_t index0 = pos >> PAGE_SHIFT;
	size_t len0 = b->len;
	int err = 0;

	while (len && b->nr < b->max) {
		bool read_in = false;
		unsigned int i, n;
		loff_t isize;

		n = zcopy_lookup_folios(mapping, pos >> PAGE_SHIFT, last, folios,
					min_t(unsigned int, ARRAY_SIZE(folios),
					      b->max - b->nr));
		if (!n) {
			folios[0] = zcopy_folio_get(file, way, pos >> PAGE_SHIFT,
						    last, call, &read_in, ra);
			if (IS_ERR(folios[0])) {
				err = PTR_ERR(folios[0]);
				break;
			}
			n = 1;
		}

		/*
		 * i_size must be read after the folios are known uptodate.
		 * truncate lowers i_size before it zeroes or drops the folios
		 * past it, so this order never sends the bytes of a page that
		 * is no longer the file's (the same reasoning as in
		 * filemap_read()).
		 */
		isize = i_size_read(inode);
		for (i = 0; i < n; i++) {
			struct folio *folio = folios[i];
			unsigned int nr0_folio = b->nr;
			size_t off, want, added;
			bool hole;

			/* What the batch cannot take goes back. */
			if (!len || b->nr == b->max || pos >= isize || err) {
				folio_put(folio);
				continue;
			}
			hole = zcopy_is_zero_folio(folio);
			if (hole) {
				off = offset_in_page(pos);
				nr_holes++;	/* the zero page: one page */
			} else {
				off = pos - folio_pos(folio);
				/*
				 * Someone may write this folio through a
				 * mapping at another virtual address: on
				 * caches that alias, make their writes
				 * visible (a no-op on x86).
				 */
				if (aliased)
					flush_dcache_folio(folio);
				folio_mark_accessed(folio);
			}
			want = min3((loff_t)len, (loff_t)(folio_size(folio) - off),
				    isize - pos);
			added = zcopy_batch_add(b, folio, off, want);
			if (!added) {
				folio_put(folio);
				err = -EIO;
				continue;
			}
			if (unlikely(read_in))
				nr_read += b->nr - nr0_folio;
			pos += added;
			len -= added;
			if (added < want)
				err = -EIO;	/* a poisoned page is next */
		}
		if (pos >= isize || err)
			break;
	}

	/* Counted once per fill: what was not read in was in the cache. */
	if (call) {
		call->pages_read += nr_read;
		call->pages_cached += b->nr - nr0 - nr_read;
	}
	trace_zcopy_fill(inode, index0, b->nr - nr0, nr_read, nr_holes);
	/* A page that vanished past a shrinking i_size is end of file. */
	if (b->nr == nr0 && err && pos < i_size_read(inode))
		return err;
	return b->len - len0;
}

/**
 * zcopy_batch_release - drop the batch's page references
 * @b: a batch filled by zcopy_batch_fill() or by the splice path.
 *
 * Safe once the socket holds its own references on the pages it kept,
 * that is once zcopy_batch_send() has returned.
 */
void zcopy_batch_release(struct zcopy_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->nr; i++)
		folio_put(page_folio(b->bvec[i].bv_page));
	b->nr = 0;
	b->len = 0;
	b->copy_len = 0;
}
