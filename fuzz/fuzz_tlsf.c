/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the TLSF allocator (src/mem/tlsf.h). The input is a
 * program run on one 64 KiB region: the first byte places the region at a
 * 16-byte multiple offset in a page-aligned buffer, then each op byte picks
 * an operation and reads its operands from the bytes after it:
 *
 *   0-2 alloc   size (2 bytes), flags (1 byte: alignment, bound)
 *   3-4 free    slot (1 byte)
 *   5   resize  slot (1 byte), size (2 bytes)
 *   6   remove_region (must be -EBUSY with live blocks, else 0; re-added)
 *   7   alloc exactly dk__tlsf_largest_free() (must succeed when non-zero)
 *   8-9 slab alloc (src/mem/slab.h): class (1 byte: 4 payload sizes), count
 *       (1 byte: 1..8 blocks) carved from runs in the same region; frees
 *       (ops 3-4) and resizes (op 5) then meet slab blocks too
 *
 * After every op dk__tlsf_check and dk__slab_check must pass and the
 * statistics must match what this target tracked itself (the TLSF books
 * count a run as one live block, the slab's free_bytes what of it is not
 * handed out). Every live block holds a pattern over the
 * bytes asked for; it is verified at resize and free, so overlapping blocks
 * show up. Alignment, bound and region bounds are checked on every result.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mem/slab.h"
#include "mem/tlsf.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REGION_LEN 65536u
#define SLOTS      64
#define HDR        16u

static _Alignas(4096) uint8_t g_buf[REGION_LEN + 4096];

struct slot {
	uint8_t *p;
	size_t size; /* bytes covered by the pattern */
	uint8_t tag;
};

struct state {
	struct dk__tlsf t;
	struct dk__slab sl;
	uint8_t *mem;
	struct slot s[SLOTS];
	uint8_t next_tag;
	uint64_t used_bytes, used_count;
	const uint8_t *in, *end;
};

static unsigned int get8(struct state *st)
{
	return st->in < st->end ? *st->in++ : 0;
}

static size_t get16(struct state *st)
{
	size_t v = get8(st);
	return v | (size_t)get8(st) << 8;
}

/* Block patterns: block with tag k holds g_pat[k ..]; memcpy/memcmp keep it fast. */
static uint8_t g_pat[REGION_LEN + 256];

static void pat_init(void)
{
	if (g_pat[0] | g_pat[1])
		return;
	uint32_t x = 0x9e3779b9u;
	for (size_t i = 0; i < sizeof(g_pat); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		g_pat[i] = (uint8_t)x;
	}
	g_pat[0] = 1;
}

static void fill(uint8_t *p, size_t n, uint8_t tag)
{
	memcpy(p, g_pat + tag, n);
}

static void verify(const uint8_t *p, size_t n, uint8_t tag)
{
	REQUIRE(memcmp(p, g_pat + tag, n) == 0);
}

static size_t round16(size_t n)
{
	return n < 16 ? 16 : (n + 15) & ~(size_t)15;
}

static void check_block(const struct state *st, const uint8_t *p, size_t n)
{
	size_t u = dk__tlsf_usable_size(p);
	REQUIRE(((uintptr_t)p & 15) == 0);
	REQUIRE(u >= n && u % 16 == 0);
	REQUIRE(p >= st->mem && p + u <= st->mem + REGION_LEN);
}

static void do_alloc(struct state *st, size_t n, size_t align, size_t bound)
{
	int k = 0;
	while (k < SLOTS && st->s[k].p)
		k++;
	if (k == SLOTS)
		return;
	uint8_t *p = dk__tlsf_alloc(&st->t, n, align, bound);
	if (!p) {
		REQUIRE(errno == ENOMEM);
		/* a plain request fails only when no free block holds it */
		if (align <= 16 && !bound)
			REQUIRE(dk__tlsf_largest_free(&st->t) < round16(n));
		return;
	}
	check_block(st, p, n);
	REQUIRE(!align || ((uintptr_t)p & (align - 1)) == 0);
	REQUIRE(!bound || (uintptr_t)p / bound == ((uintptr_t)p + n - 1) / bound);
	st->used_bytes += HDR + dk__tlsf_usable_size(p);
	st->used_count++;
	st->s[k] = (struct slot){p, n, ++st->next_tag};
	fill(p, n, st->s[k].tag);
}

static void do_free(struct state *st, struct slot *sl)
{
	void *reg = NULL;
	size_t len = 0;
	verify(sl->p, sl->size, sl->tag);
	st->used_bytes -= HDR + dk__tlsf_usable_size(sl->p);
	st->used_count--;
	int rc = dk__slab_owns(sl->p) ? dk__slab_free(&st->sl, &st->t, sl->p, &reg, &len)
				      : dk__tlsf_free(&st->t, sl->p, &reg, &len);
	/* one region: it is wholly free exactly when nothing is live */
	REQUIRE(rc == (st->used_count == 0));
	if (rc == 1)
		REQUIRE(reg == st->mem && len == REGION_LEN);
	sl->p = NULL;
}

static void do_slab_alloc(struct state *st, unsigned int cls, unsigned int want)
{
	static const size_t psizes[4] = { 16, 64, 256, 1024 };
	void *got[8];
	unsigned int n = dk__slab_alloc(&st->sl, &st->t, cls, psizes[cls], got, want);
	REQUIRE(n <= want);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = got[i];
		REQUIRE(dk__slab_owns(p));
		REQUIRE(dk__tlsf_usable_size(p) == psizes[cls]);
		check_block(st, p, psizes[cls]);
		st->used_bytes += HDR + psizes[cls];
		st->used_count++;
		int k = 0;
		while (k < SLOTS && st->s[k].p)
			k++;
		if (k == SLOTS) {
			/* no slot to track it: give it straight back */
			st->used_bytes -= HDR + psizes[cls];
			st->used_count--;
			REQUIRE(dk__slab_free(&st->sl, &st->t, p, NULL, NULL) == (st->used_count == 0));
			continue;
		}
		st->s[k] = (struct slot){p, psizes[cls], ++st->next_tag};
		fill(p, psizes[cls], st->s[k].tag);
	}
}

static void step(struct state *st)
{
	unsigned int op = get8(st) % 10;
	switch (op) {
	case 0:
	case 1:
	case 2: {
		size_t v = get16(st);
		unsigned int f = get8(st);
		/* mostly small sizes, sometimes up to the whole region */
		size_t n = 1 + ((f & 0x80) ? v : v % 1024);
		size_t align = (f & 0x08) ? (size_t)1 << (f & 7) << (f & 0x40 ? 6 : 0) : 0;
		size_t bound = 0;
		if (f & 0x10) {
			bound = 1;
			while (bound < n)
				bound <<= 1;
			bound <<= (f >> 5) & 1;
		}
		do_alloc(st, n, align, bound);
		break;
	}
	case 3:
	case 4: {
		struct slot *sl = &st->s[get8(st) % SLOTS];
		if (sl->p)
			do_free(st, sl);
		break;
	}
	case 5: {
		struct slot *sl = &st->s[get8(st) % SLOTS];
		size_t v = get16(st);
		size_t n = 1 + (v & 0x8000 ? v & 0x7fff : v % 2048);
		if (!sl->p)
			break;
		verify(sl->p, sl->size, sl->tag);
		size_t old = dk__tlsf_usable_size(sl->p);
		void *q = dk__tlsf_resize_inplace(&st->t, sl->p, n);
		if (!q) {
			REQUIRE(dk__tlsf_usable_size(sl->p) == old);
			break;
		}
		REQUIRE(q == sl->p);
		check_block(st, sl->p, n);
		st->used_bytes += dk__tlsf_usable_size(sl->p) - old;
		verify(sl->p, n < sl->size ? n : sl->size, sl->tag);
		sl->size = n;
		fill(sl->p, n, sl->tag);
		break;
	}
	case 6: {
		REQUIRE(dk__tlsf_remove_region(&st->t, st->mem, REGION_LEN - 16) == -EINVAL);
		REQUIRE(dk__tlsf_remove_region(&st->t, st->mem + 16, REGION_LEN - 16) == -EINVAL);
		int rc = dk__tlsf_remove_region(&st->t, st->mem, REGION_LEN);
		if (st->used_count) {
			REQUIRE(rc == -EBUSY);
		} else {
			REQUIRE(rc == 0);
			REQUIRE(st->t.region_count == 0 && st->t.region_bytes == 0);
			REQUIRE(dk__tlsf_check(&st->t) == 0);
			REQUIRE(dk__tlsf_add_region(&st->t, st->mem, REGION_LEN) == 0);
		}
		break;
	}
	case 7: {
		size_t lf = dk__tlsf_largest_free(&st->t);
		int k = 0;
		while (k < SLOTS && st->s[k].p)
			k++;
		if (lf && k < SLOTS) {
			do_alloc(st, lf, 0, 0);
			REQUIRE(st->s[k].p != NULL);
		}
		break;
	}
	case 8:
	case 9: {
		unsigned int cls = get8(st) % 4;
		do_slab_alloc(st, cls, 1 + get8(st) % 8);
		break;
	}
	}
	REQUIRE(dk__tlsf_check(&st->t) == 0);
	REQUIRE(dk__slab_check(&st->sl) == 0);
	REQUIRE(st->t.used_bytes - st->sl.free_bytes == st->used_bytes);
	REQUIRE(st->t.used_count - st->sl.runs + st->sl.live == st->used_count);
	REQUIRE(st->t.region_bytes == REGION_LEN && st->t.region_count == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state st;
	pat_init();
	memset(&st, 0, sizeof(st));
	st.in = data;
	st.end = data + size;
	st.mem = g_buf + 16 * (get8(&st) % 256);
	dk__tlsf_init(&st.t);
	dk__slab_init(&st.sl);
	REQUIRE(dk__tlsf_add_region(&st.t, st.mem, REGION_LEN) == 0);
	REQUIRE(dk__tlsf_largest_free(&st.t) == REGION_LEN - 48);

	for (int ops = 0; st.in < st.end && ops < 4096; ops++)
		step(&st);

	for (int k = 0; k < SLOTS; k++)
		if (st.s[k].p)
			do_free(&st, &st.s[k]);
	REQUIRE(st.t.used_bytes == 0 && st.t.used_count == 0);
	REQUIRE(st.sl.runs == 0 && st.sl.live == 0 && st.sl.free_bytes == 0);
	REQUIRE(dk__tlsf_largest_free(&st.t) == REGION_LEN - 48);
	REQUIRE(dk__tlsf_remove_region(&st.t, st.mem, REGION_LEN) == 0);
	REQUIRE(dk__tlsf_check(&st.t) == 0);
	return 0;
}
