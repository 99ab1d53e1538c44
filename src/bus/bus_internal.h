/* SPDX-License-Identifier: BSD-3-Clause */
/* Bus framework internals: for the library's init and the buses themselves. */
#ifndef DK_BUS_INTERNAL_H
#define DK_BUS_INTERNAL_H

#include <dmakit/bus.h>

/*
 * Parse and keep the allow/deny lists (NULL-terminated devargs arrays,
 * already merged with the environment by the caller). -EINVAL bad devargs
 * or both lists given; -E2BIG too many entries. On failure nothing is kept.
 */
int dk__bus_policy_set(const char *const *allow, const char *const *deny);
void dk__bus_policy_clear(void);

/* Scan every registered bus; probe drivers on every scanned device. */
int dk__bus_scan_all(void);
int dk__bus_probe_all(void);
/* Undo dk__bus_probe_all: remove the driver of every device that has one
 * (buses in reverse registration order; buses without unplug are left to
 * their cleanup). */
void dk__bus_remove_all(void);
/*
 * A bus's find over devices kept by index: at(0 .. n-1). The next device
 * after start (NULL: the first) with cmp(dev, data) == 0, a NULL cmp
 * matching any; NULL when none (or start is not one of them).
 */
struct dk_device *dk__bus_find_indexed(unsigned int n, struct dk_device *(*at)(unsigned int),
				       const struct dk_device *start, dk_dev_cmp_fn cmp,
				       const void *data);

/* Undo dk__bus_scan_all: cleanup every registered bus (reverse
 * registration order; drivers still probed are removed first). */
void dk__bus_cleanup_all(void);

#endif
