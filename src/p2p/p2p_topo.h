/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the P2P distance rules (src/p2p): the computation over the
 * PCI topology (p2p_topo.c) and the cached, public side (p2p_dist.c). The
 * rules themselves are stated once, in dmakit/p2p.h.
 */
#ifndef DK_P2P_TOPO_H
#define DK_P2P_TOPO_H

#include <stdint.h>

#include <dmakit/p2p.h>

/* A computed path: struct dk_p2p_path without its text (made on output). */
struct dk__p2p_res {
	enum dk_p2p_map_type map_type;
	int distance;
	enum dk_p2p_reason reason;
	enum dk_p2p_host host;
	char host_bridge[24];
	uint16_t host_vendor, host_device;
	unsigned int acs_count;
	char acs_list[DK_P2P_ACS_LIST_LEN];
};

/*
 * What one call of the API (a distance, dk_p2p_distance_many, one
 * dk_p2p_find_many over every provider) reads once and shares between the
 * pairs it computes: each device's ACS redirect state (one config read per
 * device, not per pair), the CPU answer and the host bridge device of each
 * root bus. A pair computed with a memo sees the config space as it was at
 * the memo's first read of each device: a call is one snapshot.
 * Thread-safety: owned by one thread (the caller's call); not shared.
 */
struct dk__p2p_memo;

/* A new, empty memo, or NULL when out of memory (callers then pass NULL:
 * every pair reads for itself, the answers are the same). */
struct dk__p2p_memo *dk__p2p_memo_new(void);
/* Free m; NULL is a no-op. */
void dk__p2p_memo_free(struct dk__p2p_memo *m);

/*
 * Compute the path from client to provider (both PCI functions of the last
 * scan: the caller checks) by the rules of dmakit/p2p.h. Reads ACS Control
 * from config space and, when the host bridge is on the path, the CPU file,
 * each at most once per memo (memo NULL: each time). Never fails: a config
 * read that fails falls back to caps.acs.ctrl; a memo that cannot grow
 * (out of memory) reads again.
 */
void dk__p2p_calc(const struct dk_pci_device *provider, const struct dk_pci_device *client,
		  struct dk__p2p_memo *memo, struct dk__p2p_res *out);

/* 1 when the first processor of the CPU file (DMAKIT_CPUINFO, else
 * /proc/cpuinfo) is AuthenticAMD of family 0x17 or later, else 0 (also when
 * the file cannot be read: logged at debug level). */
int dk__p2p_cpu_routes_p2p(void);

/* The host bridge device of dev's root bus (see dmakit/p2p.h), or NULL. */
const struct dk_pci_device *dk__p2p_host_bridge_dev(const struct dk_pci_device *dev);

#endif
