/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only stand-in for the MR cache's create/destroy, until src/mr is
 * merged (see src/cdev/cdev_mr.h: with DK__CDEV_MR_LANDED 1 this file is
 * empty and the library's cache is used).
 */
#include <stdlib.h>

#include "cdev/cdev_mr.h"

#if !DK__CDEV_MR_LANDED
struct dk_mr_cache {
	const struct dk_mr_ops *ops;
	void *ctx;
};

struct dk_mr_cache *dk_mr_cache_create(const struct dk_mr_ops *ops, void *ctx)
{
	struct dk_mr_cache *c = malloc(sizeof(*c));
	if (c) {
		c->ops = ops;
		c->ctx = ctx;
	}
	return c;
}

void dk_mr_cache_destroy(struct dk_mr_cache *c)
{
	free(c);
}
#endif
