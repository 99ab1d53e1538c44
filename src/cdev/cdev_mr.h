/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The MR cache as the cdev layer sees it, until src/mr (dmakit/mr.h) is part
 * of the library. The one switch: set DK__CDEV_MR_LANDED to 1 when
 * include/dmakit/mr.h and src/mr are merged; the declarations below then
 * give way to the real header, and tests/cdev/mr_stub.c compiles to nothing.
 *
 * Before that, dk_mr_cache_create/destroy are weak references: the library
 * has no definition (its contexts get no MR cache: dk_cdev.mr stays NULL),
 * and the cdev unit test links a stub (tests/cdev/mr_stub.c).
 */
#ifndef DK_CDEV_CDEV_MR_H
#define DK_CDEV_CDEV_MR_H

#define DK__CDEV_MR_LANDED 1

#if DK__CDEV_MR_LANDED
#include <dmakit/mr.h>
#define dk__cdev_mr_available() 1
#else
#include <stddef.h>
#include <stdint.h>

#include <dmakit/memory.h>

struct dk_mr_cache;
/* The interface agreed with src/mr (contract: dmakit/mr.h once it lands). */
struct dk_mr_ops {
	int (*reg)(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova);
	void (*dereg)(void *ctx, void *va, size_t len, uint32_t key);
};
struct dk_mr_cache *dk_mr_cache_create(const struct dk_mr_ops *ops, void *ctx)
	__attribute__((weak));
void dk_mr_cache_destroy(struct dk_mr_cache *c) __attribute__((weak));
#define dk__cdev_mr_available() (dk_mr_cache_create != NULL)
#endif

#endif
