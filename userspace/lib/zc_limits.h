/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libzcopy internals (not installed): sendfile(2)'s offset limit for a
 * caller whose off_t is 32 bits. Separate so that tests/unit/t_lib32.c
 * checks it on the host, without the module.
 */
#ifndef ZCOPY_LIB_ZC_LIMITS_H
#define ZCOPY_LIB_ZC_LIMITS_H

#include <stdint.h>

/* The kernel's MAX_NON_LFS: the largest offset a 32-bit off_t holds. */
#define ZC_MAX_NON_LFS ((int64_t)0x7fffffff)

/**
 * zc_limit_range() - do_sendfile()'s check of a range against @max
 * @pos: the offset the range starts at
 * @count: in: the bytes asked for; out: lowered so the range ends at @max
 *	at the latest
 * @max: the largest offset the range may end at
 *
 * What fs/read_write.c do_sendfile() does with max = MAX_NON_LFS, for the
 * sendfile syscall of a 32-bit off_t given an offset: a range that ends
 * past @max is cut there; one that starts at @max with bytes asked for,
 * or past @max, fails. A negative @pos is left alone: the kernel refuses
 * it (EINVAL) before this check, as sendfile(2) does.
 *
 * Return: 0, or -1 where sendfile(2) fails with EOVERFLOW.
 */
static inline int zc_limit_range(int64_t pos, uint64_t *count, int64_t max)
{
	if (pos < 0 || (pos <= max && *count <= (uint64_t)(max - pos)))
		return 0;
	if (pos >= max)
		return -1;
	*count = (uint64_t)(max - pos);
	return 0;
}

#endif /* ZCOPY_LIB_ZC_LIMITS_H */
