/* SPDX-License-Identifier: BSD-3-Clause */
/* IOVA space allocator (contract: src/mem/iova_alloc.h). */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "mem/iova_alloc.h"

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* What iova_alloc.h says of the free array: sorted, disjoint, not adjacent,
 * each span non-empty. For assertions. */
static __attribute__((unused)) int well_formed(const struct dk__iova_alloc *a)
{
	for (uint32_t i = 0; i < a->n; i++) {
		if (a->free[i].end < a->free[i].start)
			return 0;
		if (i && (a->free[i - 1].end >= a->free[i].start ||
			  a->free[i - 1].end + 1 == a->free[i].start))
			return 0;
	}
	return a->n <= DK__IOVA_ALLOC_MAX;
}

/* Insert span s into the sorted array, joining overlapping/adjacent spans. */
static int insert(struct dk__iova_alloc *a, struct dk__iova_span s)
{
	uint32_t i = 0;
	while (i < a->n && a->free[i].end < s.start && a->free[i].end + 1 != s.start)
		i++;
	/* Spans i.. that touch or overlap s are absorbed. */
	uint32_t j = i;
	while (j < a->n && (a->free[j].start <= s.end || (s.end != UINT64_MAX && a->free[j].start == s.end + 1))) {
		if (a->free[j].start < s.start)
			s.start = a->free[j].start;
		if (a->free[j].end > s.end)
			s.end = a->free[j].end;
		j++;
	}
	if (j == i) {
		if (a->n == DK__IOVA_ALLOC_MAX)
			return -ENOSPC;
		memmove(&a->free[i + 1], &a->free[i], (a->n - i) * sizeof(a->free[0]));
		a->free[i] = s;
		a->n++;
		return 0;
	}
	a->free[i] = s;
	memmove(&a->free[i + 1], &a->free[j], (a->n - j) * sizeof(a->free[0]));
	a->n -= j - i - 1;
	return 0;
}

/* Take [first, last] (inside free interval i) out: up to two pieces of i
 * remain. -ENOSPC when that needs a slot the table does not have. */
static int carve(struct dk__iova_alloc *a, uint32_t i, uint64_t first, uint64_t last)
{
	struct dk__iova_span *f = &a->free[i];
	int head = first > f->start, tail = last < f->end;
	if (head && tail) {
		if (a->n == DK__IOVA_ALLOC_MAX)
			return -ENOSPC;
		memmove(&a->free[i + 1], &a->free[i], (a->n - i) * sizeof(a->free[0]));
		a->n++;
		a->free[i].end = first - 1;
		a->free[i + 1].start = last + 1;
	} else if (head) {
		f->end = first - 1;
	} else if (tail) {
		f->start = last + 1;
	} else {
		memmove(&a->free[i], &a->free[i + 1], (a->n - i - 1) * sizeof(a->free[0]));
		a->n--;
	}
	return 0;
}

int dk__iova_alloc_init(struct dk__iova_alloc *a, const struct dk__iova_span *ranges,
			unsigned int n, uint64_t lowest, uint64_t limit)
{
	if (!a || (!ranges && n) || lowest > limit)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	for (unsigned int k = 0; k < n; k++) {
		struct dk__iova_span s = ranges[k];
		if (s.end < s.start)
			return -EINVAL;
		if (s.end < lowest || s.start > limit)
			continue;
		if (s.start < lowest)
			s.start = lowest;
		if (s.end > limit)
			s.end = limit;
		int rc = insert(a, s);
		if (rc < 0)
			return rc;
	}
	assert(well_formed(a));
	return a->n ? 0 : -EINVAL;
}

int dk__iova_alloc_get(struct dk__iova_alloc *a, uint64_t len, uint64_t align, uint64_t *out)
{
	if (!a || !out || !len || !is_pow2(align))
		return -EINVAL;
	for (uint32_t i = 0; i < a->n; i++) {
		struct dk__iova_span *f = &a->free[i];
		uint64_t start = (f->start + align - 1) & ~(align - 1);
		if (start < f->start) /* rounding wrapped */
			continue;
		if (start > f->end || f->end - start < len - 1)
			continue;
		if (carve(a, i, start, start + len - 1) < 0)
			continue; /* would need a slot; try a later interval */
		assert(well_formed(a));
		*out = start;
		return 0;
	}
	return -ENOSPC;
}

int dk__iova_alloc_reserve(struct dk__iova_alloc *a, uint64_t iova, uint64_t len)
{
	if (!a || !len || iova + (len - 1) < iova)
		return -EINVAL;
	uint64_t last = iova + (len - 1);
	for (uint32_t i = 0; i < a->n; i++) {
		struct dk__iova_span *f = &a->free[i];
		if (iova < f->start || last > f->end)
			continue;
		int rc = carve(a, i, iova, last);
		assert(well_formed(a));
		return rc;
	}
	return -EEXIST;
}

int dk__iova_alloc_put(struct dk__iova_alloc *a, uint64_t iova, uint64_t len)
{
	if (!a || !len || iova + (len - 1) < iova)
		return -EINVAL;
	uint64_t last = iova + (len - 1);
	for (uint32_t i = 0; i < a->n; i++)
		if (a->free[i].start <= last && iova <= a->free[i].end)
			return -EINVAL; /* part of it is free already */
	struct dk__iova_span s = {iova, last};
	int rc = insert(a, s);
	assert(well_formed(a));
	return rc;
}

uint64_t dk__iova_alloc_free_bytes(const struct dk__iova_alloc *a)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; a && i < a->n; i++) {
		uint64_t sz = a->free[i].end - a->free[i].start;
		if (sz == UINT64_MAX || sum + sz + 1 < sum)
			return UINT64_MAX;
		sum += sz + 1;
	}
	return sum;
}
