/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hugepages for tests that run as root: raise /proc/sys/vm/nr_hugepages so
 * that at least n default-size hugepages are free, and put the old value
 * back afterwards. Tests that use this are marked non-parallel in
 * tests/meson.build (they change a system-wide setting).
 */
#ifndef DK_TESTS_HUGEPAGES_H
#define DK_TESTS_HUGEPAGES_H

/* The previous nr_hugepages (>= 0: pass it to dk_test_hugepages_release),
 * or -1 when not root or the kernel could not reserve them (skip then).
 * A test that ends before its release (REQUIRE) gets it at exit. */
long dk_test_hugepages_reserve(long n);
void dk_test_hugepages_release(long old);

/* A number from a sysfs/procfs file, -1 when unreadable; write one: 0 or -errno. */
long dk_test_read_long(const char *path);
int dk_test_write_long(const char *path, long n);

#endif
