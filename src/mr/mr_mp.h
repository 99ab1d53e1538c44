/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MR caches across processes (the contract is dmakit/mr.h, "Multi-process";
 * mr_mp.c). What mr_cache.c calls:
 *
 * A share (the primary) or an attachment (a secondary) is a struct
 * dk__mr_mp tied to one cache (dk__mr_cache_set_mp). Its shared part is the
 * memzone "mr.<hash>" (struct dk__mr_shared; hash: 16 hex digits of the
 * name's FNV-1a): the generation, bumped by
 * every invalidation of the cache in any process, and the pid of the
 * serving primary. The primary's server thread answers requests on
 * <instance dir>/mr.<hash>.sock (SOCK_SEQPACKET, one connection per
 * request): request {magic, va}, answer {rc, start, end, iova, key}.
 */
#ifndef DK_MR_MR_MP_H
#define DK_MR_MR_MP_H

#include <stdint.h>

#include <dmakit/mr.h>

struct dk__mr_mp;

/* 1: this process is the primary of a multi-process instance (it may share
 * caches). */
int dk__mr_mp_primary(void);

/* Bump the shared generation (the cache's state lock held). */
void dk__mr_mp_bump(struct dk__mr_mp *m);
/* Ask the primary for its registration covering a (a secondary's miss):
 * 0 with *e (a in [e->start, e->end)), or the errors of dk_mr_cache_attach's
 * lookups (logged). No lock of the cache held but its miss lock. */
int dk__mr_mp_ask(struct dk__mr_mp *m, uintptr_t a, struct dk__mr_entry *e);
/* Primary: stop the server (joined), remove the socket, mark the share
 * unserved and bump its generation. Secondary: forget the attachment.
 * Then free m. NULL is ignored. Called by dk_mr_cache_destroy first. */
void dk__mr_mp_fini(struct dk__mr_mp *m);

#endif
