/* SPDX-License-Identifier: BSD-3-Clause */
/* Bus framework internals used by the library's init. */
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
/* Undo dk__bus_scan_all: cleanup every registered bus (reverse
 * registration order; drivers still probed are removed first). */
void dk__bus_cleanup_all(void);

#endif
