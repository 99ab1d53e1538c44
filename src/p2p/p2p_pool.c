/* SPDX-License-Identifier: BSD-3-Clause */
/* contract: p2p_pool.h */
#include <errno.h>
#include <stdlib.h>

#include "p2p/p2p_pool.h"

#define NIL UINT32_MAX

/* state bits: boundary marks of the runs, nothing on interior pages */
#define PG_FREE_START 1u
#define PG_USED_START 2u
#define PG_FREE_END 4u

#define LOOK_MAX 8 /* runs looked at in class floor(log2 n) before going up */

static unsigned int class_of(uint32_t len)
{
	return 31u - (unsigned int)__builtin_clz(len);
}

static void push_free(struct dk__p2p_pool *p, uint32_t start, uint32_t len)
{
	uint32_t last = start + len - 1;
	unsigned int c = class_of(len);
	p->state[start] |= PG_FREE_START;
	p->len[start] = len;
	p->state[last] |= PG_FREE_END;
	p->len[last] = len;
	p->prev[start] = NIL;
	p->next[start] = p->heads[c];
	if (p->heads[c] != NIL)
		p->prev[p->heads[c]] = start;
	p->heads[c] = start;
	p->nonempty |= 1u << c;
}

static void unlink_free(struct dk__p2p_pool *p, uint32_t start)
{
	uint32_t len = p->len[start];
	unsigned int c = class_of(len);
	uint32_t nx = p->next[start], pv = p->prev[start];
	if (pv != NIL)
		p->next[pv] = nx;
	else
		p->heads[c] = nx;
	if (nx != NIL)
		p->prev[nx] = pv;
	if (p->heads[c] == NIL)
		p->nonempty &= ~(1u << c);
	p->state[start] &= (uint8_t)~PG_FREE_START;
	p->state[start + len - 1] &= (uint8_t)~PG_FREE_END;
}

int dk__p2p_pool_init(struct dk__p2p_pool *p, uint64_t npages)
{
	if (npages == 0 || npages > (1ull << 31))
		return -EINVAL;
	*p = (struct dk__p2p_pool){.npages = (uint32_t)npages, .free_pages = (uint32_t)npages};
	p->len = malloc(npages * sizeof(*p->len));
	p->next = malloc(npages * sizeof(*p->next));
	p->prev = malloc(npages * sizeof(*p->prev));
	p->state = calloc(npages, 1);
	if (!p->len || !p->next || !p->prev || !p->state) {
		dk__p2p_pool_fini(p);
		return -ENOMEM;
	}
	for (unsigned int c = 0; c < DK__P2P_POOL_CLASSES; c++)
		p->heads[c] = NIL;
	push_free(p, 0, (uint32_t)npages);
	return 0;
}

void dk__p2p_pool_fini(struct dk__p2p_pool *p)
{
	free(p->len);
	free(p->next);
	free(p->prev);
	free(p->state);
	*p = (struct dk__p2p_pool){0};
}

/* A run of class floor(log2 n) holding n pages, among its first max. */
static uint32_t look_low(const struct dk__p2p_pool *p, uint32_t n, uint32_t max)
{
	uint32_t r = p->heads[class_of(n)];
	for (uint32_t i = 0; i < max && r != NIL; i++, r = p->next[r])
		if (p->len[r] >= n)
			return r;
	return NIL;
}

int64_t dk__p2p_pool_alloc(struct dk__p2p_pool *p, uint64_t n64)
{
	if (n64 == 0 || n64 > p->npages)
		return -EINVAL;
	uint32_t n = (uint32_t)n64;
	unsigned int lo = class_of(n);
	int pow2 = (n & (n - 1)) == 0;
	uint32_t run = pow2 ? NIL : look_low(p, n, LOOK_MAX);
	if (run == NIL) {
		unsigned int fit = pow2 ? lo : lo + 1;
		uint32_t mask = fit >= 32 ? 0 : p->nonempty & ~((1u << fit) - 1u);
		if (mask)
			run = p->heads[__builtin_ctz(mask)];
		else if (!pow2) /* nothing larger: the whole class, so -ENOMEM means no fit */
			run = look_low(p, n, UINT32_MAX);
		if (run == NIL)
			return -ENOMEM;
	}
	uint32_t len = p->len[run];
	unlink_free(p, run);
	if (len > n)
		push_free(p, run + n, len - n);
	p->state[run] |= PG_USED_START;
	p->len[run] = n;
	p->free_pages -= n;
	p->nr_allocs++;
	return run;
}

int dk__p2p_pool_free(struct dk__p2p_pool *p, uint64_t first64, uint64_t n64, uint64_t *actual)
{
	if (first64 >= p->npages || !(p->state[first64] & PG_USED_START))
		return -EINVAL;
	uint32_t first = (uint32_t)first64;
	if (p->len[first] != n64) {
		if (actual)
			*actual = p->len[first];
		return -ERANGE;
	}
	uint32_t start = first, len = (uint32_t)n64;
	p->state[first] &= (uint8_t)~PG_USED_START;
	uint32_t after = first + len;
	if (after < p->npages && (p->state[after] & PG_FREE_START)) {
		len += p->len[after];
		unlink_free(p, after);
	}
	if (first > 0 && (p->state[first - 1] & PG_FREE_END)) {
		uint32_t before = first - p->len[first - 1];
		len += p->len[before];
		unlink_free(p, before);
		start = before;
	}
	push_free(p, start, len);
	p->free_pages += (uint32_t)n64;
	p->nr_allocs--;
	return 0;
}

uint64_t dk__p2p_pool_largest(const struct dk__p2p_pool *p)
{
	uint64_t best = 0;
	for (uint32_t i = 0; i < p->npages;) {
		if (!(p->state[i] & (PG_FREE_START | PG_USED_START)))
			break; /* not a run boundary: cannot happen */
		if ((p->state[i] & PG_FREE_START) && p->len[i] > best)
			best = p->len[i];
		i += p->len[i];
	}
	return best;
}
