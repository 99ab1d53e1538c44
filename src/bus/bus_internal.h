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

/* Scan then (unless no_probe) probe every registered bus. */
int dk__bus_scan_all(void);
int dk__bus_probe_all(void);
/* Cleanup every registered bus (reverse registration order). */
void dk__bus_cleanup_all(void);

#endif
