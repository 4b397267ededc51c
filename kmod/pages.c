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
 * The walk follows filemap_read() and filemap_splice_read() in
 * mm/filemap.c, which do the same for read(2) and splice(2):
 *  - a folio missing from the cache starts synchronous readahead for the
 *    rest of the range, so a cold file is read in large requests rather
 *    than one page at a time;
 *  - a folio marked PG_readahead is where the last readahead window asked
 *    to be told it is being consumed: the next window is started
 *    asynchronously, so the disk stays ahead of the socket;
 *  - a folio that is not uptodate is still being read, or its read
 *    failed: read_cache_folio() waits for it and retries the read once,
 *    and reports -EIO if that fails too;
 *  - i_size is read again after the folio is uptodate (see below).
 *
 * tmpfs (shmem) has no ->read_folio: a page missing from its cache is
 * either a hole, sent as the shared zero page (as shmem's own read and
 * splice do, without allocating anything), or was swapped out, and is
 * brought back by shmem_read_mapping_page_gfp().
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>

#include "compat.h"
#include "zcopy.h"

/**
 * zcopy_file_has_page_cache - can zcopy lend @file's page-cache pages?
 * @file: the file to send from.
 *
 * True for regular files and block devices whose mapping can be filled
 * page by page: filesystems with ->read_folio, and tmpfs. False where the
 * data does not live in the page cache: DAX, files opened O_DIRECT (the
 * caller asked to bypass the cache; sendfile(2) reads them by direct I/O
 * too), and files that generate their data on read (procfs, sysfs,
 * character devices). xfer.c sends those through a copy.
 */
bool zcopy_file_has_page_cache(struct file *file)
{
	struct address_space *mapping = file->f_mapping;
	umode_t mode = file_inode(file)->i_mode;

	if (!S_ISREG(mode) && !S_ISBLK(mode))
		return false;
	if ((file->f_flags & O_DIRECT) || IS_DAX(mapping->host))
		return false;
	return mapping->a_ops->read_folio || shmem_mapping(mapping);
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
 * A tmpfs page that is not in the page cache: look at what the cache's
 * xarray holds at @index. Nothing: a hole, which reads as zeros. A value
 * entry: the page is in swap, and shmem brings it back.
 */
static struct folio *zcopy_shmem_folio(struct address_space *mapping,
				       pgoff_t index)
{
	struct page *page;

	if (!xa_load(&mapping->i_pages, index))
		return zcopy_zero_folio();

	page = shmem_read_mapping_page_gfp(mapping, index,
					   mapping_gfp_mask(mapping));
	if (IS_ERR(page))
		return ERR_CAST(page);
	/* The reference taken is on the folio; hand the folio on. */
	return page_folio(page);
}

/*
 * Return the uptodate folio that holds page @index of @file, with one
 * reference held for the caller, or an ERR_PTR. @last is the last page
 * index the caller will want, to size readahead.
 */
static struct folio *zcopy_folio_get(struct file *file, pgoff_t index,
				     pgoff_t last)
{
	struct address_space *mapping = file->f_mapping;
	struct folio *folio;

	folio = zc_filemap_get_folio(mapping, index);
	if (!folio) {
		if (shmem_mapping(mapping))
			return zcopy_shmem_folio(mapping, index);
		page_cache_sync_readahead(mapping, &file->f_ra, file, index,
					  last + 1 - index);
		folio = zc_filemap_get_folio(mapping, index);
		/* Readahead may fail to allocate: read this folio alone. */
		if (!folio)
			return read_cache_folio(mapping, index, NULL, file);
	}

	if (folio_test_readahead(folio)) {
		DEFINE_READAHEAD(ractl, file, &file->f_ra, mapping, folio->index);

		page_cache_async_ra(&ractl, folio, last + 1 - folio->index);
	}

	if (!folio_test_uptodate(folio)) {
		folio_put(folio);
		/*
		 * A tmpfs folio that is not uptodate was fallocate()d and
		 * never written: it reads as zeros.
		 */
		if (shmem_mapping(mapping))
			return zcopy_zero_folio();
		return read_cache_folio(mapping, index, NULL, file);
	}
	return folio;
}

/*
 * Add @len bytes of @folio, from byte @off of the folio, to @b, one
 * bio_vec per page, until the batch is full. The caller's reference pays
 * for the first bio_vec; each further page of the same folio takes one
 * more, so that every bio_vec owns exactly one. The caller guarantees
 * room for at least one bio_vec.
 */
static size_t zcopy_batch_add(struct zcopy_batch *b, struct folio *folio,
			      size_t off, size_t len)
{
	size_t added = 0;

	do {
		size_t poff = offset_in_page(off);
		size_t part = min_t(size_t, PAGE_SIZE - poff, len - added);

		if (added)
			folio_get(folio);
		bvec_set_page(&b->bvec[b->nr++], folio_page(folio, off >> PAGE_SHIFT),
			      part, poff);
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
 * a folio that is not uptodate or carries PG_readahead, after @max folios
 * and after page @last: everything that needs more than a lookup is left
 * to zcopy_folio_get().
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
		if (!folio_test_uptodate(folio) || folio_test_readahead(folio)) {
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
 * zcopy_batch_fill - pin the page-cache pages of the next part of a range
 * @b: the batch to fill; must be empty, with @b->max set.
 * @file: the file, open for reading, with zcopy_file_has_page_cache().
 * @pos: the file offset to start at.
 * @len: bytes wanted (> 0); @pos + @len should lie within i_size.
 *
 * Fills @b with at most @b->max pages covering a prefix of
 * [@pos, @pos + @len). It stops early at end of file (i_size may shrink
 * while it runs) and at the first page that cannot be read.
 *
 * Pages already in the cache and uptodate are found by one walk per up to
 * %ZCOPY_LOOKUP_FOLIOS folios (zcopy_lookup_folios()); a folio the walk
 * stops at goes through zcopy_folio_get(), which reads, reads ahead or
 * stands in the zero page, and the walk resumes after it.
 *
 * Context: process context, may sleep (page cache reads).
 * Return: bytes covered by @b (> 0); 0 at end of file; or a negative
 * errno (-EIO, -ENOMEM, ...) if not even the first page could be had.
 */
ssize_t zcopy_batch_fill(struct zcopy_batch *b, struct file *file,
			 loff_t pos, size_t len)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	pgoff_t last = (pos + len - 1) >> PAGE_SHIFT;
	struct folio *folios[ZCOPY_LOOKUP_FOLIOS];
	int err = 0;

	while (len && b->nr < b->max) {
		unsigned int i, n;
		loff_t isize;

		n = zcopy_lookup_folios(mapping, pos >> PAGE_SHIFT, last, folios,
					min_t(unsigned int, ARRAY_SIZE(folios),
					      b->max - b->nr));
		if (!n) {
			folios[0] = zcopy_folio_get(file, pos >> PAGE_SHIFT, last);
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
			size_t off, added;

			/* What the batch cannot take goes back. */
			if (!len || b->nr == b->max || pos >= isize) {
				folio_put(folio);
				continue;
			}
			if (zcopy_is_zero_folio(folio)) {
				off = offset_in_page(pos);
			} else {
				off = pos - folio_pos(folio);
				folio_mark_accessed(folio);
			}
			added = zcopy_batch_add(b, folio, off,
						min3((loff_t)len,
						     (loff_t)(folio_size(folio) - off),
						     isize - pos));
			pos += added;
			len -= added;
		}
		if (pos >= isize)
			break;
	}

	/* A page that vanished past a shrinking i_size is end of file. */
	if (!b->nr && err && pos < i_size_read(inode))
		return err;
	return b->len;
}

/**
 * zcopy_batch_release - drop the batch's page references
 * @b: a batch filled by zcopy_batch_fill().
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
}
