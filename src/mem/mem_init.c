/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory options: dk_init_params fields, else DMAKIT_* variables, else
 * defaults; then the page backing (pages.c) and the internal heaps, one per
 * NUMA node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <dmakit/init.h>

#include "core/parse.h"
#include "mem/heap.h"
#include "mem/mem_config.h"
#include "mem/mem_event.h"
#include "mem/mem_init.h"
#include "mem/memseg.h"
#include "mem/pages.h"
#include "vfio/vfio_iova.h"
#include "bus/pci/pci_internal.h"

#define DK_LOG_COMPONENT "mem"
#include "core/log_internal.h"

/* Index of value in names[] (case-insensitive), or -EINVAL with a message. */
static int pick(const char *var, const char *value, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(value, names[i]) == 0)
			return i;
	char list[128] = "";
	for (int i = 0; i < n; i++) {
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
		if (i + 1 < n)
			strncat(list, "|", sizeof(list) - strlen(list) - 1);
	}
	DK_ERR("%s=\"%s\" is not valid: use %s", var, value, list);
	return -EINVAL;
}

static int env_choice(int field, const char *var, const char *const *names, int n)
{
	if (field)
		return field >= 0 && field < n ? field : -EINVAL;
	const char *v = getenv(var);
	return v && *v ? pick(var, v, names, n) : 0;
}

/* "64M", "2G", "4096" -> bytes. */
static int parse_size(const char *var, const char *v, uint64_t *out)
{
	size_t len = strlen(v);
	uint64_t mult = 1;
	if (len && strchr("kKmMgG", v[len - 1])) {
		char c = (char)(v[len - 1] | 0x20);
		mult = c == 'k' ? 1ull << 10 : c == 'm' ? 1ull << 20 : 1ull << 30;
		len--;
	}
	uint64_t n;
	if (dk__parse_u64(v, len, 10, &n) < 0 || n > UINT64_MAX / mult) {
		DK_ERR("%s=\"%s\" is not a size: use bytes or a number with K, M or G", var, v);
		return -EINVAL;
	}
	*out = n * mult;
	return 0;
}

static int numa_nodes(void)
{
	/* "0" or "0-1" or "0-3,5": the highest node + 1 is what heaps need. */
	char buf[256];
	FILE *f = fopen("/sys/devices/system/node/possible", "r");
	if (!f)
		return 1;
	int n = 1;
	if (fgets(buf, sizeof(buf), f)) {
		char *end = buf + strlen(buf);
		while (end > buf && (end[-1] < '0' || end[-1] > '9'))
			end--;
		char *start = end;
		while (start > buf && start[-1] >= '0' && start[-1] <= '9')
			start--;
		if (start < end)
			n = atoi(start) + 1;
	}
	fclose(f);
	if (n < 1 || n > DK_MAX_HEAPS / 2)
		n = 1;
	return n;
}

int dk__mem_init(const struct dk_init_params *p)
{
	static const char *const huge_names[] = { "auto", "never", "always" };
	static const char *const iova_names[] = { "auto", "va", "pa", "remap" };
	static const char *const proc_names[] = { "auto", "primary", "secondary" };
	struct dk__pages_config cfg;
	memset(&cfg, 0, sizeof(cfg));

	int huge = env_choice(p->huge, "DMAKIT_HUGE", huge_names, 3);
	int iova = env_choice(p->iova_mode, "DMAKIT_IOVA_MODE", iova_names, 4);
	int proc = env_choice(p->proc_type, "DMAKIT_PROC_TYPE", proc_names, 3);
	if (huge < 0 || iova < 0 || proc < 0) {
		if (p->huge || p->iova_mode || p->proc_type)
			DK_ERR("dk_init_params: huge (0..2), iova_mode (0..3) or proc_type (0..2) out of range");
		return -EINVAL;
	}
	cfg.huge = (enum dk__huge_policy)huge;

	cfg.huge_page_sz = p->huge_page_size;
	const char *v = getenv("DMAKIT_HUGE_PAGE_SIZE");
	if (!cfg.huge_page_sz && v && *v) {
		uint64_t sz;
		if (parse_size("DMAKIT_HUGE_PAGE_SIZE", v, &sz) < 0)
			return -EINVAL;
		cfg.huge_page_sz = (size_t)sz;
	}
	if (cfg.huge_page_sz && cfg.huge_page_sz != (2u << 20) && cfg.huge_page_sz != (1u << 30)) {
		DK_ERR("hugepage size %zu is not supported: use 2M or 1G", cfg.huge_page_sz);
		return -EINVAL;
	}
	cfg.mem_limit = p->mem_limit;
	v = getenv("DMAKIT_MEM_LIMIT");
	if (!cfg.mem_limit && v && *v && parse_size("DMAKIT_MEM_LIMIT", v, &cfg.mem_limit) < 0)
		return -EINVAL;

	int in_memory = (p->flags & DK_INIT_IN_MEMORY) != 0;
	v = getenv("DMAKIT_IN_MEMORY");
	if (!in_memory && v && *v) {
		if (strcmp(v, "1") && strcmp(v, "0")) {
			DK_ERR("DMAKIT_IN_MEMORY=\"%s\" is not valid: use 1 or 0", v);
			return -EINVAL;
		}
		in_memory = v[0] == '1';
	}

	int rc = dk__mem_mp_setup(p, proc, in_memory);
	if (rc < 0)
		return rc;
	if (rc == 1) /* a secondary: everything is the primary's */
		return 0;
	/* auto and remap ask the IOMMU (buses are scanned by now). */
	struct dk__iova_plan plan;
	rc = dk__vfio_iova_plan((enum dk_iova_mode)iova, dk__pci_dma_limit(), &plan);
	if (rc < 0)
		goto err_mp;
	cfg.iova_mode = plan.mode;
	cfg.n_iova_ranges = plan.n_ranges;
	memcpy(cfg.iova_ranges, plan.ranges, sizeof(cfg.iova_ranges));
	cfg.iova_limit = plan.limit;
	rc = dk__mem_pages_init(&cfg);
	if (rc < 0)
		goto err_mp;
	rc = dk__heap_init(numa_nodes());
	if (rc < 0) {
		DK_ERR("cannot set up the heaps: %s", strerror(-rc));
		goto err_pages;
	}
	dk__mem_mp_ready();
	return 0;

err_pages:
	dk__mem_pages_cleanup();
err_mp:
	dk__memseg_cleanup();
	dk__mem_mp_teardown();
	return rc;
}

void dk__mem_cleanup(void)
{
	if (dk__mem_mp_is_secondary()) {
		/* The shared tables stay as they are: only this process's part goes. */
		dk__heap_thread_flush();
		dk__mem_mp_teardown();
		dk__mem_event_cleanup();
		return;
	}
	dk__heap_thread_flush();
	dk__memzone_cleanup();
	dk__heap_cleanup();
	dk__mem_pages_cleanup();
	dk__memseg_cleanup();
	dk__mem_mp_teardown();
	dk__mem_event_cleanup();
}
