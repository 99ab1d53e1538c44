/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * P2P distance and map type: the public functions, their messages and the
 * per-(provider, client) cache of every pair asked in a topology generation.
 * contract: dmakit/p2p.h ("distance and map type")
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci/pci_topo.h"
#include "p2p/p2p_internal.h"
#include "p2p/p2p_topo.h"

#define DK_LOG_COMPONENT "p2p"
#include "core/log_internal.h"

/* ---- cache -------------------------------------------------------------------- */

/* Every pair asked in the current topology generation: an open-addressing
 * table of (provider, client) -> index into a dense array of results, at
 * most half full, doubled when needed (no fixed limit: a pair is computed
 * once per generation). A new generation empties it (capacity kept). */
#define PAIRS_FIRST_CAP 1024u /* slots, a power of two */

struct pair {
	const struct dk_pci_device *provider, *client; /* provider NULL: empty */
	size_t idx;                                     /* into g_pairs.res */
	int dist; /* the distance, -1 when not supported: res without touching it */
};

static struct {
	uint64_t gen; /* of every entry; 0: none yet */
	struct pair *slots;
	size_t cap, count;
	struct dk__p2p_res *res; /* count used, res_cap allocated */
	size_t res_cap;
	int oom_logged;
} g_pairs;
static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t pair_hash(const struct dk_pci_device *p, const struct dk_pci_device *c, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
	h ^= (uint64_t)(uintptr_t)c + 0x7f4a7c159e3779b9ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return (size_t)h & (cap - 1);
}

static struct pair *pair_slot(struct pair *slots, size_t cap, const struct dk_pci_device *p,
			      const struct dk_pci_device *c)
{
	size_t i = pair_hash(p, c, cap);
	while (slots[i].provider && (slots[i].provider != p || slots[i].client != c))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* The cached pair (p, c) at gen, or NULL. Under g_cache_lock. */
static const struct pair *pair_find_locked(const struct dk_pci_device *p,
					   const struct dk_pci_device *c, uint64_t gen)
{
	if (g_pairs.gen != gen || !g_pairs.count)
		return NULL;
	const struct pair *s = pair_slot(g_pairs.slots, g_pairs.cap, p, c);
	return s->provider ? s : NULL;
}

/* The cached result of (p, c) at gen, or NULL. Under g_cache_lock. */
static const struct dk__p2p_res *cache_find_locked(const struct dk_pci_device *p,
						   const struct dk_pci_device *c, uint64_t gen)
{
	const struct pair *s = pair_find_locked(p, c, gen);
	return s ? &g_pairs.res[s->idx] : NULL;
}

static int cache_find(const struct dk_pci_device *p, const struct dk_pci_device *c, uint64_t gen,
		      struct dk__p2p_res *out)
{
	pthread_mutex_lock(&g_cache_lock);
	const struct dk__p2p_res *r = cache_find_locked(p, c, gen);
	if (r)
		*out = *r;
	pthread_mutex_unlock(&g_cache_lock);
	return r != NULL;
}

/* Room for one more pair: 0 or -ENOMEM (the table as it was). */
static int cache_reserve_locked(void)
{
	if (g_pairs.count == g_pairs.res_cap) {
		size_t n = g_pairs.res_cap ? g_pairs.res_cap * 2 : PAIRS_FIRST_CAP / 2;
		struct dk__p2p_res *r = realloc(g_pairs.res, n * sizeof(*r));
		if (!r)
			return -ENOMEM;
		g_pairs.res = r;
		g_pairs.res_cap = n;
	}
	if ((g_pairs.count + 1) * 2 <= g_pairs.cap)
		return 0;
	size_t cap = g_pairs.cap ? g_pairs.cap * 2 : PAIRS_FIRST_CAP;
	struct pair *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < g_pairs.cap; i++)
		if (g_pairs.slots[i].provider)
			*pair_slot(slots, cap, g_pairs.slots[i].provider, g_pairs.slots[i].client) =
				g_pairs.slots[i];
	free(g_pairs.slots);
	g_pairs.slots = slots;
	g_pairs.cap = cap;
	return 0;
}

/* Keep res of (p, c) computed at gen. A result of an older generation is
 * dropped; a newer generation empties the table first. Out of memory: not
 * kept (computed again when asked); returns the pair count then, the
 * first time only (the caller logs it, outside the lock), else 0. */
static size_t cache_put_locked(const struct dk_pci_device *p, const struct dk_pci_device *c,
			       uint64_t gen, const struct dk__p2p_res *res)
{
	if (gen < g_pairs.gen)
		return 0;
	if (gen != g_pairs.gen) {
		if (g_pairs.count)
			memset(g_pairs.slots, 0, g_pairs.cap * sizeof(*g_pairs.slots));
		g_pairs.count = 0;
		g_pairs.gen = gen;
	}
	if (g_pairs.count && pair_slot(g_pairs.slots, g_pairs.cap, p, c)->provider)
		return 0; /* another thread computed it meanwhile */
	if (cache_reserve_locked() < 0)
		return g_pairs.oom_logged++ ? 0 : g_pairs.count + 1;
	struct pair *s = pair_slot(g_pairs.slots, g_pairs.cap, p, c);
	s->provider = p;
	s->client = c;
	s->idx = g_pairs.count++;
	s->dist = res->map_type == DK_P2P_MAP_NOT_SUPPORTED ? -1 : res->distance;
	g_pairs.res[s->idx] = *res;
	return 0;
}

static void cache_put(const struct dk_pci_device *p, const struct dk_pci_device *c, uint64_t gen,
		      const struct dk__p2p_res *res)
{
	pthread_mutex_lock(&g_cache_lock);
	size_t oom_at = cache_put_locked(p, c, gen, res);
	pthread_mutex_unlock(&g_cache_lock);
	if (oom_at)
		DK_WARN("P2P distance cache: out of memory at %zu pairs: further pairs are computed "
			"each time they are asked (same answers, slower); free memory",
			oom_at - 1);
}

void dk__p2p_dist_forget(void)
{
	pthread_mutex_lock(&g_cache_lock);
	free(g_pairs.slots);
	free(g_pairs.res);
	memset(&g_pairs, 0, sizeof(g_pairs));
	pthread_mutex_unlock(&g_cache_lock);
}

/* ---- checks and texts --------------------------------------------------------- */

const char *dk_p2p_map_type_name(enum dk_p2p_map_type t)
{
	switch (t) {
	case DK_P2P_MAP_NOT_SUPPORTED:
		return "not_supported";
	case DK_P2P_MAP_BUS_ADDR:
		return "bus_addr";
	case DK_P2P_MAP_THRU_HOST_BRIDGE:
		return "thru_host_bridge";
	case DK_P2P_MAP_UNKNOWN:
	default:
		return "unknown";
	}
}

static int check_dev(const struct dk_pci_device *d, const char *what)
{
	if (!d) {
		DK_ERR("P2P distance: %s is NULL: pass a device from dk_pci_get/dk_pci_find", what);
		return -EINVAL;
	}
	if (d->kind != DK_PCI_KIND_FUNCTION || !d->has_addr) {
		DK_ERR("P2P distance: %s %s is a mediated device, not in the PCI topology: "
		       "pass its parent PCI function", what, d->device.name);
		return -EINVAL;
	}
	return 0;
}

static void get_res(const struct dk_pci_device *p, const struct dk_pci_device *c,
		    struct dk__p2p_memo *memo, struct dk__p2p_res *r)
{
	uint64_t gen = dk__pci_topo_gen();
	if (cache_find(p, c, gen, r))
		return;
	dk__p2p_calc(p, c, memo, r);
	cache_put(p, c, gen, r);
}

/* Why the host bridge refused, into buf. */
static void host_refusal(const struct dk__p2p_res *r, char *buf, size_t len)
{
	switch (r->host) {
	case DK_P2P_HOST_NO_DEVICE:
		snprintf(buf, len, "host bridge %s has no function 00.0 or root port first on its "
			 "root bus to identify it, and the CPU is not an AMD Zen (family 0x17 or later)",
			 r->host_bridge[0] ? r->host_bridge : "(unknown)");
		break;
	case DK_P2P_HOST_SAME_BRIDGE_ONLY:
		snprintf(buf, len, "host bridge %s (%04x:%04x) forwards peer-to-peer traffic only "
			 "between devices below itself", r->host_bridge, r->host_vendor,
			 r->host_device);
		break;
	default:
		snprintf(buf, len, "host bridge %s (%04x:%04x) is not on the list of root complexes "
			 "known to forward peer-to-peer traffic, and the CPU is not an AMD Zen "
			 "(family 0x17 or later)", r->host_bridge, r->host_vendor, r->host_device);
		break;
	}
}

static const char *host_allowed(const struct dk__p2p_res *r)
{
	return r->host == DK_P2P_HOST_CPU ? "the CPU (AMD, family 0x17 or later) routes it"
					  : "the host bridge is on the kernel's whitelist";
}

static void reason_text(const struct dk_pci_device *p, const struct dk_pci_device *c,
			const struct dk__p2p_res *r, char *buf, size_t len)
{
	char why[256] = "";
	buf[0] = '\0';
	if (r->map_type == DK_P2P_MAP_BUS_ADDR)
		return;
	if (r->map_type == DK_P2P_MAP_NOT_SUPPORTED)
		host_refusal(r, why, sizeof(why));
	if (r->reason == DK_P2P_REASON_ACS_REDIRECT)
		snprintf(buf, len, "ACS redirect is set between %s and provider %s (%u device%s): "
			 "traffic goes through the host bridge; %s; to keep it below the common "
			 "bridge, clear it: kernel parameter pci=disable_acs_redir=%s", c->device.name,
			 p->device.name, r->acs_count, r->acs_count == 1 ? "" : "s",
			 r->map_type == DK_P2P_MAP_NOT_SUPPORTED ? why : host_allowed(r),
			 r->acs_list);
	else if (r->map_type == DK_P2P_MAP_NOT_SUPPORTED)
		snprintf(buf, len, "%s and provider %s share no upstream bridge and %s: put both "
			 "below one switch or root port", c->device.name, p->device.name, why);
	else
		snprintf(buf, len, "%s and provider %s share no upstream bridge: traffic goes "
			 "through the host bridge; %s", c->device.name, p->device.name,
			 host_allowed(r));
}

static void fill_path(const struct dk_pci_device *p, const struct dk_pci_device *c,
		      const struct dk__p2p_res *r, struct dk_p2p_path *out)
{
	memset(out, 0, sizeof(*out));
	out->map_type = r->map_type;
	out->distance = r->distance;
	out->reason = r->reason;
	out->host = r->host;
	snprintf(out->host_bridge, sizeof(out->host_bridge), "%s", r->host_bridge);
	out->host_vendor = r->host_vendor;
	out->host_device = r->host_device;
	out->acs_count = r->acs_count;
	snprintf(out->acs_list, sizeof(out->acs_list), "%s", r->acs_list);
	reason_text(p, c, r, out->reason_text, sizeof(out->reason_text));
}

/* verbose: the reason at warning level, as the kernel warns. */
static void warn_path(const struct dk_pci_device *p, const struct dk_pci_device *c,
		      const struct dk__p2p_res *r)
{
	if (r->map_type == DK_P2P_MAP_BUS_ADDR)
		return;
	if (r->reason != DK_P2P_REASON_ACS_REDIRECT && r->map_type != DK_P2P_MAP_NOT_SUPPORTED)
		return; /* no common bridge, but the host bridge forwards: nothing to fix */
	char text[DK_P2P_REASON_LEN];
	reason_text(p, c, r, text, sizeof(text));
	DK_WARN("%s: %s%s", c->device.name,
		r->map_type == DK_P2P_MAP_NOT_SUPPORTED ? "cannot do peer-to-peer DMA: " : "",
		text);
}

/* ---- API ------------------------------------------------------------------------ */

int dk_p2p_path(const struct dk_pci_device *provider, const struct dk_pci_device *client,
		struct dk_p2p_path *out)
{
	int rc = check_dev(provider, "provider");
	if (rc == 0)
		rc = check_dev(client, "client");
	if (rc == 0 && !out) {
		DK_ERR("dk_p2p_path: out is NULL: pass a struct dk_p2p_path to fill");
		rc = -EINVAL;
	}
	if (rc < 0)
		return rc;
	struct dk__p2p_res r;
	get_res(provider, client, NULL, &r);
	fill_path(provider, client, &r, out);
	return 0;
}

static int distance_of(const struct dk_pci_device *p, const struct dk_pci_device *c, bool verbose,
		       struct dk__p2p_memo *memo)
{
	struct dk__p2p_res r;
	get_res(p, c, memo, &r);
	if (verbose)
		warn_path(p, c, &r);
	return r.map_type == DK_P2P_MAP_NOT_SUPPORTED ? -1 : r.distance;
}

int dk_p2p_distance(const struct dk_pci_device *provider, const struct dk_pci_device *client,
		    bool verbose)
{
	int rc = check_dev(provider, "provider");
	if (rc == 0)
		rc = check_dev(client, "client");
	return rc < 0 ? rc : distance_of(provider, client, verbose, NULL);
}

/* Every pair cached: the sum (-1: one not supported), one lock for all; -2
 * when a pair is missing. */
static int sum_cached(const struct dk_pci_device *p, const struct dk_pci_device *const *clients,
		      size_t n, uint64_t gen)
{
	int total = 0;
	pthread_mutex_lock(&g_cache_lock);
	for (size_t i = 0; i < n && total >= 0; i++) {
		const struct pair *s = pair_find_locked(p, clients[i], gen);
		if (!s)
			total = -2;
		else if (s->dist < 0)
			total = -1;
		else
			total += s->dist;
	}
	pthread_mutex_unlock(&g_cache_lock);
	return total;
}

/* Pairs missing: each computed (sharing memo), stopping at the first not
 * supported unless verbose. */
static int sum_computed(const struct dk_pci_device *p, const struct dk_pci_device *const *clients,
			size_t n, bool verbose, struct dk__p2p_memo *memo)
{
	int total = 0, unsupported = 0;
	for (size_t i = 0; i < n && (verbose || !unsupported); i++) {
		int d = distance_of(p, clients[i], verbose, memo);
		if (d < 0)
			unsupported = 1;
		else
			total += d;
	}
	return unsupported ? -1 : total;
}

int dk__p2p_distance_sum(const struct dk_pci_device *provider,
			 const struct dk_pci_device *const *clients, size_t n, bool verbose,
			 struct dk__p2p_memo *memo)
{
	if (n == 0)
		return -1;
	if (!verbose) {
		int total = sum_cached(provider, clients, n, dk__pci_topo_gen());
		if (total >= -1)
			return total;
	}
	if (memo)
		return sum_computed(provider, clients, n, verbose, memo);
	struct dk__p2p_memo *own = dk__p2p_memo_new();
	int total = sum_computed(provider, clients, n, verbose, own);
	dk__p2p_memo_free(own);
	return total;
}

int dk_p2p_distance_many(const struct dk_pci_device *provider,
			 const struct dk_pci_device *const *clients, size_t n, bool verbose)
{
	int rc = check_dev(provider, "provider");
	if (rc < 0)
		return rc;
	if (n && !clients) {
		DK_ERR("dk_p2p_distance_many: clients is NULL with n = %zu: pass an array of n devices",
		       n);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = check_dev(clients[i], "client")) < 0)
			return rc;
	return dk__p2p_distance_sum(provider, clients, n, verbose, NULL);
}
