/* SPDX-License-Identifier: BSD-3-Clause */
/* Bring-up and tear-down of the memory layer (contract: src/mem/mem_init.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/parse.h"
#include "mem/heap.h"
#include "mem/mem_config.h"
#include "mem/mem_event.h"
#include "mem/mem_init.h"
#include "mem/memseg.h"
#include "mem/pages.h"

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

int dk__mem_options(const struct dk__mem_params *p, struct dk__mem_options *o)
{
	static const char *const huge_names[] = { "auto", "never", "always" };
	static const char *const iova_names[] = { "auto", "va", "pa", "remap" };
	static const char *const proc_names[] = { "auto", "primary", "secondary" };
	memset(o, 0, sizeof(*o));

	int huge = env_choice(p->huge, "DMAKIT_HUGE", huge_names, 3);
	int iova = env_choice(p->iova_mode, "DMAKIT_IOVA_MODE", iova_names, 4);
	int proc = env_choice(p->proc_type, "DMAKIT_PROC_TYPE", proc_names, 3);
	if (huge < 0 || iova < 0 || proc < 0) {
		if (p->huge || p->iova_mode || p->proc_type)
			DK_ERR("dk_init_params: huge (0..2), iova_mode (0..3) or proc_type (0..2) out of range");
		return -EINVAL;
	}
	o->huge = huge;
	o->iova_request = (enum dk_iova_mode)iova;
	o->proc_type = proc;

	o->huge_page_size = p->huge_page_size;
	const char *v = getenv("DMAKIT_HUGE_PAGE_SIZE");
	if (!o->huge_page_size && v && *v) {
		uint64_t sz;
		if (parse_size("DMAKIT_HUGE_PAGE_SIZE", v, &sz) < 0)
			return -EINVAL;
		o->huge_page_size = (size_t)sz;
	}
	if (o->huge_page_size && o->huge_page_size != (2u << 20) &&
	    o->huge_page_size != (1u << 30)) {
		DK_ERR("hugepage size %zu is not supported: use 2M or 1G", o->huge_page_size);
		return -EINVAL;
	}
	o->mem_limit = p->mem_limit;
	v = getenv("DMAKIT_MEM_LIMIT");
	if (!o->mem_limit && v && *v && parse_size("DMAKIT_MEM_LIMIT", v, &o->mem_limit) < 0)
		return -EINVAL;

	o->in_memory = p->in_memory;
	v = getenv("DMAKIT_IN_MEMORY");
	if (!o->in_memory && v && *v) {
		if (strcmp(v, "1") && strcmp(v, "0")) {
			DK_ERR("DMAKIT_IN_MEMORY=\"%s\" is not valid: use 1 or 0", v);
			return -EINVAL;
		}
		o->in_memory = v[0] == '1';
	}
	o->prefix = p->prefix;
	o->runtime_dir = p->runtime_dir;
	return 0;
}

int dk__mem_attach(const struct dk__mem_options *o)
{
	return dk__mem_mp_setup(o->runtime_dir, o->prefix, o->proc_type, o->in_memory);
}

int dk__mem_start(const struct dk__mem_options *o, const struct dk__mem_iova_plan *plan)
{
	struct dk__pages_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.huge = (enum dk__huge_policy)o->huge;
	cfg.huge_page_sz = o->huge_page_size;
	cfg.mem_limit = o->mem_limit;
	cfg.iova_mode = plan->mode;
	cfg.n_iova_ranges = plan->n_ranges;
	memcpy(cfg.iova_ranges, plan->ranges, sizeof(cfg.iova_ranges));
	cfg.iova_limit = plan->limit;
	int rc = dk__mem_pages_init(&cfg);
	if (rc < 0)
		return rc;
	rc = dk__heap_init(numa_nodes());
	if (rc < 0) {
		DK_ERR("cannot set up the heaps: %s", strerror(-rc));
		goto err_pages;
	}
	dk__mem_mp_ready();
	return 0;

err_pages:
	dk__mem_pages_cleanup();
	return rc;
}

void dk__mem_stop(void)
{
	dk__heap_thread_flush();
	if (dk__mem_mp_is_secondary())
		return; /* the shared tables stay as they are: they are the primary's */
	dk__memzone_cleanup();
	dk__heap_cleanup();
	dk__mem_pages_cleanup();
}

void dk__mem_detach(void)
{
	if (!dk__mem_mp_is_secondary())
		dk__memseg_cleanup();
	dk__mem_mp_teardown();
	dk__mem_event_cleanup();
}
