/* SPDX-License-Identifier: BSD-3-Clause */
/* Hugepages for tests (contract: tests/lib/hugepages.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hugepages.h"

#define NR "/proc/sys/vm/nr_hugepages"
#define FREE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

long dk_test_read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = -1;
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

int dk_test_write_long(const char *path, long n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int rc = fprintf(f, "%ld\n", n) < 0 ? -EIO : 0;
	if (fclose(f) != 0)
		rc = -errno;
	return rc;
}

/* A test that ends early (REQUIRE) skips its release: the value to put
 * back at exit (the oldest one saved). */
static long g_pending = -1;

static void release_at_exit(void)
{
	if (g_pending >= 0)
		dk_test_write_long(NR, g_pending);
}

long dk_test_hugepages_reserve(long n)
{
	static int registered;
	if (geteuid() != 0)
		return -1;
	long old = dk_test_read_long(NR);
	if (old < 0 || dk_test_write_long(NR, old + n) < 0)
		return -1;
	long free_now = dk_test_read_long(FREE);
	if (free_now >= 0 && free_now < n) {
		dk_test_write_long(NR, old);
		return -1;
	}
	if (!registered && atexit(release_at_exit) == 0)
		registered = 1;
	if (g_pending < 0)
		g_pending = old;
	return old;
}

void dk_test_hugepages_release(long old)
{
	if (old >= 0)
		dk_test_write_long(NR, old);
	g_pending = -1;
}
