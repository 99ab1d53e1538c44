/* SPDX-License-Identifier: BSD-3-Clause */
/* MR cache (contract: dmakit/mr.h). Interface only so far. */
#include <errno.h>

#include <dmakit/mr.h>

struct dk_mr_cache *dk_mr_cache_create(const struct dk_mr_ops *ops, void *ctx)
{
	(void)ops;
	(void)ctx;
	errno = ENOSYS;
	return NULL;
}

void dk_mr_cache_destroy(struct dk_mr_cache *c)
{
	(void)c;
}

int dk_mr_register(struct dk_mr_cache *c, const void *va, size_t len)
{
	(void)c;
	(void)va;
	(void)len;
	return -ENOSYS;
}

int dk_mr_cache_stats(struct dk_mr_cache *c, struct dk_mr_stats *st)
{
	(void)c;
	(void)st;
	return -ENOSYS;
}

int dk_mr_ctrl_init(struct dk_mr_ctrl *q, struct dk_mr_cache *c)
{
	(void)q;
	(void)c;
	return -ENOSYS;
}

void dk_mr_ctrl_fini(struct dk_mr_ctrl *q)
{
	(void)q;
}

int dk__mr_lookup_slow(struct dk_mr_ctrl *q, const void *va, size_t len, uint32_t *key,
		       dk_iova_t *iova)
{
	(void)q;
	(void)va;
	(void)len;
	(void)key;
	(void)iova;
	return -ENOSYS;
}
