/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/memzone.h - named memory reservations.
 *
 * A memzone is a heap block with a name (1..31 characters), found again by
 * name from any thread (and, with multi-process, from any process).
 * Thread-safety: all functions are safe from any thread.
 */
#ifndef DMAKIT_MEMZONE_H
#define DMAKIT_MEMZONE_H

#include <dmakit/common.h>
#include <dmakit/malloc.h>

DK_BEGIN_DECLS

#define DK_MEMZONE_NAME_MAX 32
#define DK_MAX_MEMZONES 2560

/* dk_memzone_reserve flags */
#define DK_MEMZONE_IOVA_CONTIG DK_MALLOC_IOVA_CONTIG

struct dk_memzone {
	char name[DK_MEMZONE_NAME_MAX];
	void *addr;
	dk_iova_t iova; /* of addr */
	size_t len;
	int socket_id;
	unsigned int flags;
};

/*
 * Reserve len bytes (align 0: 64) on socket (DK_SOCKET_ANY allowed).
 * NULL with errno: EINVAL bad name/len/align/flags; EEXIST name taken;
 * ENOSPC table full; ENOMEM no memory.
 */
DK_EXPORT const struct dk_memzone *dk_memzone_reserve(const char *name, size_t len, int socket,
						      unsigned int flags, unsigned int align);
/* By name, or NULL with errno ENOENT. */
DK_EXPORT const struct dk_memzone *dk_memzone_lookup(const char *name);
/* 0, -EINVAL NULL, -ENOENT not a live memzone. */
DK_EXPORT int dk_memzone_free(const struct dk_memzone *mz);
/* Walk live memzones; callback as in dk_memseg_walk. */
DK_EXPORT int dk_memzone_walk(int (*fn)(const struct dk_memzone *mz, void *arg), void *arg);

DK_END_DECLS

#endif
