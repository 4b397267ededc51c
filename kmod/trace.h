/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - tracepoints at the teaching points of the data path.
 *
 * Three events, in the order one page meets them:
 *
 *   zcopy:zcopy_fill   pages.c filled a batch from the file: @pages pages
 *                      from page @index on; @read of them had to be read
 *                      in or waited for (the rest were found in the page
 *                      cache, as the pages_cached counter says), and
 *                      @holes of them are the zero page standing in for
 *                      a tmpfs hole or a never-written page.
 *   zcopy:zcopy_batch  xfer.c handed a batch to the socket: @pages bio_vecs
 *                      holding @bytes; the socket accepted @sent of them,
 *                      @zc by reference and @copied by a copy.
 *   zcopy:zcopy_call   a SENDFILE or SENDV call ended: what it returned and
 *                      where its bytes went.
 *
 * Watch a transfer happen (as root, with tracefs mounted):
 *
 *   cd /sys/kernel/tracing
 *   echo 1 > events/zcopy/enable
 *   cat trace_pipe
 *
 * or `trace-cmd record -e zcopy`. Disabled, each tracepoint is a patched-out
 * jump (a static key): the data path pays nothing for them.
 *
 * The usual out-of-tree pattern: this header is read twice, once as an
 * ordinary header and once, in stats.c under CREATE_TRACE_POINTS, by
 * <trace/define_trace.h> to generate the events; TRACE_INCLUDE_PATH "."
 * finds it again through Kbuild's -I for kmod/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM zcopy

#if !defined(_ZCOPY_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ZCOPY_TRACE_H

#include <linux/fs.h>
#include <linux/tracepoint.h>

/*
 * One event per batch fill, not per folio: a 1 MiB call walks 256 pages,
 * and even a disabled tracepoint inside that loop keeps its arguments
 * live in registers across it (about 1% of the instructions at 64 KiB
 * and up, measured with make bench-ab). The fill counts as it goes;
 * the event reports the totals.
 */
TRACE_EVENT(zcopy_fill,
	    TP_PROTO(struct inode *inode, pgoff_t index, unsigned int pages,
		     unsigned int read, unsigned int holes),
	    TP_ARGS(inode, index, pages, read, holes),
	    TP_STRUCT__entry(__field(dev_t, dev)
			     __field(unsigned long, ino)
			     __field(pgoff_t, index)
			     __field(unsigned int, pages)
			     __field(unsigned int, read)
			     __field(unsigned int, holes)),
	    TP_fast_assign(__entry->dev = inode->i_sb->s_dev;
			   __entry->ino = inode->i_ino;
			   __entry->index = index;
			   __entry->pages = pages;
			   __entry->read = read;
			   __entry->holes = holes;),
	    TP_printk("dev %d:%d ino %lu index %lu pages %u read %u holes %u",
		      MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		      (unsigned long)__entry->index, __entry->pages,
		      __entry->read, __entry->holes)
);

TRACE_EVENT(zcopy_batch,
	    TP_PROTO(unsigned int pages, size_t bytes, ssize_t sent, size_t zc,
		     size_t copied, bool more),
	    TP_ARGS(pages, bytes, sent, zc, copied, more),
	    TP_STRUCT__entry(__field(unsigned int, pages)
			     __field(size_t, bytes)
			     __field(ssize_t, sent)
			     __field(size_t, zc)
			     __field(size_t, copied)
			     __field(bool, more)),
	    TP_fast_assign(__entry->pages = pages;
			   __entry->bytes = bytes;
			   __entry->sent = sent;
			   __entry->zc = zc;
			   __entry->copied = copied;
			   __entry->more = more;),
	    TP_printk("pages %u bytes %zu sent %zd zc %zu copied %zu%s",
		      __entry->pages, __entry->bytes, __entry->sent,
		      __entry->zc, __entry->copied,
		      __entry->more ? " more" : "")
);

TRACE_EVENT(zcopy_call,
	    TP_PROTO(unsigned int ioctl_nr, long ret, u64 requested, u64 zc,
		     u64 copied, u32 pages_cached, u32 pages_read),
	    TP_ARGS(ioctl_nr, ret, requested, zc, copied, pages_cached,
		    pages_read),
	    TP_STRUCT__entry(__field(unsigned int, ioctl_nr)
			     __field(long, ret)
			     __field(u64, requested)
			     __field(u64, zc)
			     __field(u64, copied)
			     __field(u32, pages_cached)
			     __field(u32, pages_read)),
	    TP_fast_assign(__entry->ioctl_nr = ioctl_nr;
			   __entry->ret = ret;
			   __entry->requested = requested;
			   __entry->zc = zc;
			   __entry->copied = copied;
			   __entry->pages_cached = pages_cached;
			   __entry->pages_read = pages_read;),
	    TP_printk("%s ret %ld requested %llu zc %llu copied %llu pages cached %u read %u",
		      __print_symbolic(__entry->ioctl_nr,
				       { 1, "sendfile" }, { 2, "sendv" }),
		      __entry->ret, __entry->requested, __entry->zc,
		      __entry->copied, __entry->pages_cached,
		      __entry->pages_read)
);

#endif /* _ZCOPY_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
