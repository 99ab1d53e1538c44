/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * P2P distance and map type from the PCI topology.
 * contract: p2p/p2p_topo.h (rules: dmakit/p2p.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_topo.h"

#define DK_LOG_COMPONENT "p2p"
#include "core/log_internal.h"

/* Longest chain walked: a PCI domain has at most 256 buses. */
#define MAX_CHAIN 256

#define ACS_CTRL_REG 6 /* ACS Control, from the ACS capability header */
#define ACS_REDIRECT_BITS (DK_PCI_ACS_RR | DK_PCI_ACS_CR | DK_PCI_ACS_EC)

#define ANY_DEVICE 0xffffffffu
#define SAME_HOST_BRIDGE 1u

/* The kernel's P2P host bridge whitelist (drivers/pci/p2pdma.c of the PCI
 * maintainers' tree, late 2026; Linux 6.1 stops at 0x09a2 and has no
 * any-device entries): vendor, device (ANY_DEVICE: any), flags. */
static const struct {
	uint16_t vendor;
	uint32_t device;
	unsigned int flags;
} g_whitelist[] = {
	{ 0x8086, 0x3c00, SAME_HOST_BRIDGE }, /* Intel Xeon E5 / Core i7 */
	{ 0x8086, 0x3c01, SAME_HOST_BRIDGE },
	{ 0x8086, 0x2f00, SAME_HOST_BRIDGE }, /* Intel Xeon E7 v3 / E5 v3 / Core i7 */
	{ 0x8086, 0x2f01, SAME_HOST_BRIDGE },
	{ 0x8086, 0x2030, 0 }, /* Intel Skylake-E */
	{ 0x8086, 0x2031, 0 },
	{ 0x8086, 0x2032, 0 },
	{ 0x8086, 0x2033, 0 },
	{ 0x8086, 0x2020, 0 },
	{ 0x8086, 0x09a2, 0 },
	{ 0x8086, 0x0b25, 0 }, /* Intel DSA (Sapphire Rapids) */
	{ 0x8086, 0x0cfe, 0 }, /* Intel IAX (Sapphire Rapids) */
	{ 0x8086, 0x11fb, 0 }, /* Intel DSA (Granite Rapids-D) */
	{ 0x8086, 0x1212, 0 }, /* Intel DSA (Diamond Rapids) */
	{ 0x8086, 0x1216, 0 }, /* Intel IAA (Diamond Rapids) */
	{ 0x8086, 0x4940, 0 }, /* Intel QAT 4xxx */
	{ 0x8086, 0x4942, 0 }, /* Intel QAT 401xx */
	{ 0x8086, 0x4944, 0 }, /* Intel QAT 402xx */
	{ 0x8086, 0x4946, 0 }, /* Intel QAT 420xx */
	{ 0x8086, 0x4948, 0 }, /* Intel QAT 6xxx */
	{ 0x1ae0, ANY_DEVICE, 0 }, /* Google SoCs */
	{ 0x10de, 0x2f95, 0 }, /* NVIDIA CPUs */
	{ 0x10de, 0x2f96, 0 },
	{ 0x10de, 0x2f97, 0 },
	{ 0x10de, 0x2f98, 0 },
	{ 0x1d17, 0x1003, SAME_HOST_BRIDGE }, /* Zhaoxin KX-6000 ... KH-50000 */
	{ 0x1d17, 0x1005, SAME_HOST_BRIDGE },
	{ 0x1d17, 0x1006, SAME_HOST_BRIDGE },
	{ 0x1d17, 0x1007, SAME_HOST_BRIDGE },
	{ 0x1d17, 0x1008, 0 },
};

/* The kernel's pci_upstream_bridge: a VF hangs below its PF's bridge. */
static const struct dk_pci_device *up(const struct dk_pci_device *d)
{
	const struct dk_pci_device *f = d->physfn ? d->physfn : d;
	return f->upstream;
}

static uint16_t acs_ctrl(const struct dk_pci_device *d)
{
	uint8_t b[2];
	if (dk_pci_config_read(d, b, sizeof(b), (size_t)d->caps.acs.offset + ACS_CTRL_REG) ==
	    (int)sizeof(b))
		return (uint16_t)(b[0] | b[1] << 8);
	DK_DEBUG("%s: ACS Control unreadable now: using the value of the last scan/refresh",
		 d->device.name);
	return d->caps.acs.ctrl;
}

/* ---- the memo (contract: p2p/p2p_topo.h) ------------------------------------ */

#define MEMO_FIRST_CAP 64u /* device slots, a power of two */
#define MEMO_HOSTS 8       /* root buses remembered; more are looked up each time */

struct memo_dev {
	const struct dk_pci_device *dev; /* NULL: empty slot */
	int redirects;
};

struct memo_host {
	const struct dk_pci_device *of; /* a device of that root bus (domain, host_bridge) */
	const struct dk_pci_device *hb;
};

struct dk__p2p_memo {
	struct memo_dev *devs; /* open addressing, linear probing, at most half full */
	size_t cap, count;
	int cpu; /* -1: not read yet */
	struct memo_host hosts[MEMO_HOSTS];
	unsigned int nhosts;
};

struct dk__p2p_memo *dk__p2p_memo_new(void)
{
	struct dk__p2p_memo *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cpu = -1;
	return m;
}

void dk__p2p_memo_free(struct dk__p2p_memo *m)
{
	if (!m)
		return;
	free(m->devs);
	free(m);
}

static size_t memo_hash(const struct dk_pci_device *d, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)d * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 32) & (cap - 1);
}

static struct memo_dev *memo_slot(struct memo_dev *devs, size_t cap,
				  const struct dk_pci_device *d)
{
	size_t i = memo_hash(d, cap);
	while (devs[i].dev && devs[i].dev != d)
		i = (i + 1) & (cap - 1);
	return &devs[i];
}

/* Room for one more device: 0, or -ENOMEM (the memo is left as it was). */
static int memo_reserve(struct dk__p2p_memo *m)
{
	if ((m->count + 1) * 2 <= m->cap)
		return 0;
	size_t cap = m->cap ? m->cap * 2 : MEMO_FIRST_CAP;
	struct memo_dev *devs = calloc(cap, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->devs[i].dev)
			*memo_slot(devs, cap, m->devs[i].dev) = m->devs[i];
	free(m->devs);
	m->devs = devs;
	m->cap = cap;
	return 0;
}

static int acs_redirects(const struct dk_pci_device *d, struct dk__p2p_memo *m)
{
	if (!d->caps.acs.offset)
		return 0;
	if (m && m->cap) {
		const struct memo_dev *s = memo_slot(m->devs, m->cap, d);
		if (s->dev)
			return s->redirects;
	}
	int r = (acs_ctrl(d) & ACS_REDIRECT_BITS) != 0;
	if (m && memo_reserve(m) == 0) {
		struct memo_dev *s = memo_slot(m->devs, m->cap, d);
		s->dev = d;
		s->redirects = r;
		m->count++;
	}
	return r;
}

static int cpu_routes(struct dk__p2p_memo *m)
{
	if (!m)
		return dk__p2p_cpu_routes_p2p();
	if (m->cpu < 0)
		m->cpu = dk__p2p_cpu_routes_p2p();
	return m->cpu;
}

/* Append "name;" when it fits whole; count it always. */
static void acs_add(struct dk__p2p_res *r, const struct dk_pci_device *d)
{
	size_t used = strlen(r->acs_list);
	size_t need = strlen(d->device.name) + (used ? 1 : 0);
	r->acs_count++;
	if (used + need < sizeof(r->acs_list))
		snprintf(r->acs_list + used, sizeof(r->acs_list) - used, "%s%s", used ? ";" : "",
			 d->device.name);
}

static int on_root_bus_of(const struct dk_pci_device *d, const struct dk_pci_device *of)
{
	return d->kind == DK_PCI_KIND_FUNCTION && !d->physfn && !d->upstream &&
	       d->addr.domain == of->addr.domain && strcmp(d->host_bridge, of->host_bridge) == 0;
}

const struct dk_pci_device *dk__p2p_host_bridge_dev(const struct dk_pci_device *dev)
{
	if (!dev->host_bridge[0])
		return NULL; /* topology unknown */
	/* The first function on the root bus, the way the kernel lists them. */
	const struct dk_pci_device *first = NULL;
	unsigned int n = dk_pci_count();
	for (unsigned int i = 0; i < n; i++) {
		const struct dk_pci_device *d = dk_pci_get(i);
		if (d && on_root_bus_of(d, dev) && (!first || dk_pci_addr_cmp(&d->addr, &first->addr) < 0))
			first = d;
	}
	if (!first)
		return NULL;
	if (first->addr.dev == 0 && first->addr.func == 0)
		return first;
	if (first->caps.pcie.offset && first->caps.pcie.port_type == DK_PCIE_TYPE_ROOT_PORT)
		return first;
	return NULL;
}

/* DK_P2P_HOST_WHITELIST when the host bridge of dev allows, else the refusal. */
static int same_root_bus(const struct dk_pci_device *a, const struct dk_pci_device *b)
{
	return a->addr.domain == b->addr.domain && strcmp(a->host_bridge, b->host_bridge) == 0;
}

static const struct dk_pci_device *host_bridge_dev(const struct dk_pci_device *dev,
						   struct dk__p2p_memo *m)
{
	if (!m)
		return dk__p2p_host_bridge_dev(dev);
	for (unsigned int i = 0; i < m->nhosts; i++)
		if (same_root_bus(m->hosts[i].of, dev))
			return m->hosts[i].hb;
	const struct dk_pci_device *hb = dk__p2p_host_bridge_dev(dev);
	if (m->nhosts < MEMO_HOSTS)
		m->hosts[m->nhosts++] = (struct memo_host){ .of = dev, .hb = hb };
	return hb;
}

static enum dk_p2p_host host_listed(const struct dk_pci_device *dev, int same_host_bridge,
				    struct dk__p2p_memo *m, struct dk__p2p_res *r)
{
	const struct dk_pci_device *hb = host_bridge_dev(dev, m);
	snprintf(r->host_bridge, sizeof(r->host_bridge), "%s", dev->host_bridge);
	r->host_vendor = hb ? hb->id.vendor_id : 0;
	r->host_device = hb ? hb->id.device_id : 0;
	if (!hb)
		return DK_P2P_HOST_NO_DEVICE;
	for (size_t i = 0; i < sizeof(g_whitelist) / sizeof(g_whitelist[0]); i++) {
		if (g_whitelist[i].vendor != hb->id.vendor_id)
			continue;
		if (g_whitelist[i].device != ANY_DEVICE && g_whitelist[i].device != hb->id.device_id)
			continue;
		if ((g_whitelist[i].flags & SAME_HOST_BRIDGE) && !same_host_bridge)
			return DK_P2P_HOST_SAME_BRIDGE_ONLY;
		return DK_P2P_HOST_WHITELIST;
	}
	return DK_P2P_HOST_NOT_LISTED;
}

static enum dk_p2p_host host_rule(const struct dk_pci_device *a, const struct dk_pci_device *b,
				  struct dk__p2p_memo *m, struct dk__p2p_res *r)
{
	if (cpu_routes(m))
		return DK_P2P_HOST_CPU;
	int same = a->host_bridge[0] && same_root_bus(a, b);
	enum dk_p2p_host h = host_listed(a, same, m, r);
	if (h != DK_P2P_HOST_WHITELIST || same)
		return h;
	h = host_listed(b, 0, m, r);
	if (h == DK_P2P_HOST_WHITELIST) {
		r->host_bridge[0] = '\0'; /* nothing refused */
		r->host_vendor = r->host_device = 0;
	}
	return h;
}

/* Find a in b's chain: hops from b up to a, or -1. */
static int hops_to(const struct dk_pci_device *b, const struct dk_pci_device *a, int *len)
{
	int n = 0;
	for (const struct dk_pci_device *bb = b; bb && n < MAX_CHAIN; bb = up(bb), n++)
		if (bb == a)
			return n;
	*len = n;
	return -1;
}

void dk__p2p_calc(const struct dk_pci_device *provider, const struct dk_pci_device *client,
		  struct dk__p2p_memo *memo, struct dk__p2p_res *r)
{
	memset(r, 0, sizeof(*r));
	const struct dk_pci_device *a = provider;
	int dist_a = 0, dist_b = 0;
	for (; a && dist_a < MAX_CHAIN; a = up(a), dist_a++) {
		if (acs_redirects(a, memo))
			acs_add(r, a);
		int h = hops_to(client, a, &dist_b);
		if (h >= 0) {
			dist_b = h;
			break;
		}
	}
	r->distance = dist_a + dist_b;
	if (!a || dist_a >= MAX_CHAIN) {
		/* No common upstream device: the ACS bits seen do not matter. */
		r->acs_count = 0;
		r->acs_list[0] = '\0';
		r->reason = DK_P2P_REASON_NO_COMMON_BRIDGE;
	} else {
		for (const struct dk_pci_device *bb = client; bb && bb != a; bb = up(bb))
			if (acs_redirects(bb, memo))
				acs_add(r, bb);
		if (!r->acs_count) {
			r->map_type = DK_P2P_MAP_BUS_ADDR;
			return;
		}
		r->reason = DK_P2P_REASON_ACS_REDIRECT;
	}
	r->host = host_rule(provider, client, memo, r);
	r->map_type = r->host == DK_P2P_HOST_CPU || r->host == DK_P2P_HOST_WHITELIST
			      ? DK_P2P_MAP_THRU_HOST_BRIDGE
			      : DK_P2P_MAP_NOT_SUPPORTED;
}

/* ---- the CPU ---------------------------------------------------------------- */

/* "key<tabs>: value": the value when line is key, else NULL. */
static const char *cpuinfo_value(const char *line, const char *key)
{
	size_t k = strlen(key);
	if (strncmp(line, key, k) != 0)
		return NULL;
	line += k;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != ':')
		return NULL;
	line++;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

int dk__p2p_cpu_routes_p2p(void)
{
	const char *path = getenv("DMAKIT_CPUINFO");
	if (!path || !*path)
		path = "/proc/cpuinfo";
	FILE *f = fopen(path, "re");
	if (!f) {
		DK_DEBUG("%s: %s: CPU unknown: P2P through the host bridge only if whitelisted",
			 path, strerror(errno));
		return 0;
	}
	char line[512];
	int amd = 0;
	long family = -1;
	/* The first processor's block ends at the first empty line. */
	while (fgets(line, sizeof(line), f) && line[0] != '\n') {
		const char *v;
		if ((v = cpuinfo_value(line, "vendor_id")))
			amd = strncmp(v, "AuthenticAMD", 12) == 0;
		else if ((v = cpuinfo_value(line, "cpu family")))
			family = strtol(v, NULL, 10);
	}
	fclose(f);
	return amd && family >= 0x17;
}
