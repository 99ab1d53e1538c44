/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pieces of the P2P tests' fixtures (tests/p2p), on top of fixture.h:
 * the CPU the host-bridge rule reads, host bridges, ports without ACS
 * redirect and BAR files a provider maps. Failures end the test
 * (REQUIRE).
 */
#ifndef DK_TESTS_FIXTURE_P2P_H
#define DK_TESTS_FIXTURE_P2P_H

#include <stdint.h>

#include "fixture.h"

/* Write text as the test's cpuinfo file and point DMAKIT_CPUINFO at it. */
void dk_fx_p2p_cpuinfo(const char *text);

/* The same with one Intel processor (family 6). */
void dk_fx_p2p_cpu_intel(void);

/* A bridge port of type pcie_type with ACS present and nothing enabled. */
struct dk_fx_spec dk_fx_p2p_port(int pcie_type);

/* Host bridge device bdf (class 06:00:00, no PCIe capability) on a root bus. */
struct dk_fx_dev *dk_fx_p2p_host_dev(struct dk_fx *fx, const char *bdf, uint16_t vendor,
				     uint16_t device);

/* resource<bar> of dev: created (emptied when present) with len bytes. */
void dk_fx_p2p_bar_file(struct dk_fx_dev *dev, unsigned int bar, uint64_t len);

#endif
