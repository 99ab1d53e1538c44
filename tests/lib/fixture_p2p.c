/* SPDX-License-Identifier: BSD-3-Clause */
/* contract: fixture_p2p.h */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture_p2p.h"
#include "tap.h"

void dk_fx_p2p_cpuinfo(const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cpuinfo", dk_test_tmpdir());
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	fputs(text, f);
	REQUIRE(fclose(f) == 0);
	REQUIRE(setenv("DMAKIT_CPUINFO", path, 1) == 0);
}

void dk_fx_p2p_cpu_intel(void)
{
	dk_fx_p2p_cpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n");
}

struct dk_fx_spec dk_fx_p2p_port(int pcie_type)
{
	struct dk_fx_spec s = dk_fx_spec_bridge(pcie_type);
	s.acs_ctrl = 0;
	return s;
}

struct dk_fx_dev *dk_fx_p2p_host_dev(struct dk_fx *fx, const char *bdf, uint16_t vendor,
				     uint16_t device)
{
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.vendor = vendor;
	s.device = device;
	s.class_code = 0x060000;
	s.pcie_type = -1;
	return dk_fx_add(fx, bdf, NULL, &s);
}

void dk_fx_p2p_bar_file(struct dk_fx_dev *dev, unsigned int bar, uint64_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/resource%u", dk_fx_dev_path(dev), bar);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)len) == 0);
	close(fd);
}
