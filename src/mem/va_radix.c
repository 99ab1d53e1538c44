/* SPDX-License-Identifier: BSD-3-Clause */
/* The VA radix (contract: src/mem/va_radix.h). */
#include <errno.h>
#include <sys/mman.h>

#include "mem/va_radix.h"

static size_t round_page(size_t bytes)
{
	return (bytes + 4095) & ~(size_t)4095;
}

void *dk__va_table_new(size_t bytes)
{
	void *p = mmap(NULL, round_page(bytes), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void dk__va_table_free(void *t, size_t bytes)
{
	if (t)
		munmap(t, round_page(bytes));
}

const struct dk__iova_slot *volatile *dk__va_radix_new(void)
{
	return dk__va_table_new(DK__VA_RADIX_WINDOWS * sizeof(void *));
}

void dk__va_radix_free(const struct dk__iova_slot *volatile *l1)
{
	dk__va_table_free((void *)l1, DK__VA_RADIX_WINDOWS * sizeof(void *));
}

void dk__va_radix_store(const struct dk__iova_slot *volatile *l1, size_t w,
			const struct dk__iova_slot *s)
{
	__atomic_store_n(&l1[w], s, __ATOMIC_RELEASE);
}
