/* SPDX-License-Identifier: BSD-3-Clause */
/* contract: include/dmakit/p2p.h (consumers: finding a provider, client sets) */
#define DK_LOG_COMPONENT "p2p"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dmakit/log.h>

#include "p2p/p2p_internal.h"
#include "p2p/p2p_topo.h"

/* ---- dk_p2p_find_many ---------------------------------------------------------- */

struct find {
	const struct dk_pci_device *const *clients;
	size_t n;
	int best;                    /* smallest distance so far, -1: none */
	struct dk_pci_device **ties; /* the providers at best */
	size_t nties, cap;
	int oom;
	struct dk__p2p_memo *memo; /* ACS Control etc. read once for the whole call */
};

static void consider(const char *name, void *arg)
{
	struct find *f = arg;
	struct dk_pci_device *dev = dk_pci_find(name);
	if (!dev || f->oom)
		return;
	if (dev->kind != DK_PCI_KIND_FUNCTION || !dev->has_addr)
		return;
	int d = dk__p2p_distance_sum(dev, f->clients, f->n, false, f->memo);
	if (d < 0 || (f->best >= 0 && d > f->best))
		return;
	if (d < f->best || f->best < 0) {
		f->best = d;
		f->nties = 0;
	}
	if (f->nties == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct dk_pci_device **t = realloc(f->ties, cap * sizeof(*t));
		if (!t) {
			f->oom = 1;
			return;
		}
		f->ties = t;
		f->cap = cap;
	}
	f->ties[f->nties++] = dev;
}

/* A random index below n (xorshift, per thread, seeded from the clock). */
static size_t pick(size_t n)
{
	static _Thread_local uint64_t s;
	if (!s) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		s = ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^ (uint64_t)(uintptr_t)&s;
		s |= 1;
	}
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (size_t)(s % n);
}

static int check_clients(const struct dk_pci_device *const *clients, size_t n)
{
	if (!clients && n) {
		DK_ERR("dk_p2p_find_many: NULL clients with n %zu: pass the array of clients", n);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!clients[i] || clients[i]->kind != DK_PCI_KIND_FUNCTION) {
			DK_ERR("dk_p2p_find_many: client %zu is %s: pass PCI functions of the last scan",
			       i, clients[i] ? "an mdev (no place in the PCI topology)" : "NULL");
			return -EINVAL;
		}
	return 0;
}

struct dk_pci_device *dk_p2p_find_many(const struct dk_pci_device *const *clients, size_t n)
{
	int rc = check_clients(clients, n);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	struct find f = {.clients = clients, .n = n, .best = -1};
	if (n) {
		f.memo = dk__p2p_memo_new(); /* NULL: each pair reads for itself */
		dk__p2p_each_published(consider, &f);
		dk__p2p_memo_free(f.memo);
	}
	struct dk_pci_device *dev = f.nties ? f.ties[pick(f.nties)] : NULL;
	free(f.ties);
	if (f.oom) {
		DK_ERR("dk_p2p_find_many: out of memory for the providers at equal distance");
		errno = ENOMEM;
		return NULL;
	}
	if (!dev) {
		DK_INFO("no published P2P provider is reachable by all %zu clients (dk_p2p_distance with verbose says why for each)",
			n);
		errno = ENODEV;
	}
	return dev;
}

/* ---- the enable string ----------------------------------------------------------- */

/* s equals name, a trailing newline in s ignored (the kernel's sysfs_streq). */
static bool streq_nl(const char *s, const char *name)
{
	size_t n = strlen(name);
	return strncmp(s, name, n) == 0 && (s[n] == '\0' || (s[n] == '\n' && s[n + 1] == '\0'));
}

static struct dk_pci_device *device_named(const char *s)
{
	for (unsigned int i = 0; i < dk_pci_count(); i++) {
		struct dk_pci_device *d = dk_pci_get(i);
		if (d->kind == DK_PCI_KIND_FUNCTION && streq_nl(s, d->device.name))
			return d;
	}
	return NULL;
}

/* The kernel's kstrtobool: the first one or two characters. 0 or -EINVAL. */
static int to_bool(const char *s, bool *out)
{
	switch (s[0]) {
	case 'y': case 'Y': case '1':
		*out = true;
		return 0;
	case 'n': case 'N': case '0':
		*out = false;
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*out = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*out = false;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

int dk_p2p_enable_parse(const char *s, struct dk_pci_device **provider, bool *use)
{
	if (!s || !provider || !use) {
		DK_ERR("dk_p2p_enable_parse: NULL argument: pass the string and both outputs");
		return -EINVAL;
	}
	size_t shown = strcspn(s, "\n");
	struct dk_pci_device *dev = device_named(s);
	if (dev) {
		if (dk__p2p_published(dev->device.name) != 1) {
			DK_ERR("%s has no published peer-to-peer memory: add a resource (dk_p2p_add_resource) and publish it (dk_p2p_publish), or name another device",
			       dev->device.name);
			return -ENODEV;
		}
		*provider = dev;
		*use = true;
		return 0;
	}
	bool b;
	/* "0..." or "1..." with more than one character is a device name */
	bool lone_digit = !((s[0] == '0' || s[0] == '1') && !iscntrl((unsigned char)s[1]));
	if (lone_digit && to_bool(s, &b) == 0) {
		*provider = NULL;
		*use = b;
		return 0;
	}
	DK_ERR("no such PCI device: %.*s: give a PCI function's full name (DDDD:BB:DD.F) or a boolean (y/n, 1/0, on/off)",
	       (int)shown, s);
	return -ENODEV;
}

/* ---- client sets ---------------------------------------------------------------- */

struct dk_p2p_clients {
	struct dk_pci_device *provider;
	const struct dk_pci_device **clients;
	size_t n, cap;
};

struct dk_p2p_clients *dk_p2p_clients_new(struct dk_pci_device *provider)
{
	if (provider && dk__p2p_published(provider->device.name) < 0) {
		DK_ERR("dk_p2p_clients_new: %s is no P2P provider: add a resource first (dk_p2p_add_resource), or pass NULL and pick one later",
		       provider->device.name);
		errno = ENOENT;
		return NULL;
	}
	struct dk_p2p_clients *set = calloc(1, sizeof(*set));
	if (!set) {
		DK_ERR("dk_p2p_clients_new: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	set->provider = provider;
	return set;
}

void dk_p2p_clients_free(struct dk_p2p_clients *set)
{
	if (!set)
		return;
	free(set->clients);
	free(set);
}

static ssize_t index_of(const struct dk_p2p_clients *set, const struct dk_pci_device *c)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->clients[i] == c)
			return (ssize_t)i;
	return -1;
}

/* 0 when set's provider reaches c (or there is none yet); -EXDEV logged with the reason. */
static int reachable(const struct dk_p2p_clients *set, const struct dk_pci_device *c)
{
	if (!set->provider)
		return 0;
	struct dk_p2p_path path;
	int rc = dk_p2p_path(set->provider, c, &path);
	if (rc < 0)
		return rc;
	if (path.map_type != DK_P2P_MAP_NOT_SUPPORTED)
		return 0;
	DK_ERR("%s cannot reach the P2P memory of %s (%s): %s", c->device.name,
	       set->provider->device.name, dk_p2p_map_type_name(path.map_type),
	       path.reason_text[0] ? path.reason_text : "no reason given");
	return -EXDEV;
}

int dk_p2p_clients_add(struct dk_p2p_clients *set, const struct dk_pci_device *client)
{
	if (!set || !client || client->kind != DK_PCI_KIND_FUNCTION) {
		DK_ERR("dk_p2p_clients_add: %s: pass a set and a PCI function",
		       !set ? "NULL set" : !client ? "NULL client" : "an mdev has no place in the PCI topology");
		return -EINVAL;
	}
	if (index_of(set, client) >= 0) {
		DK_ERR("dk_p2p_clients_add: %s is in the set already", client->device.name);
		return -EEXIST;
	}
	int rc = reachable(set, client);
	if (rc < 0)
		return rc;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		const struct dk_pci_device **c = realloc(set->clients, cap * sizeof(*c));
		if (!c) {
			DK_ERR("dk_p2p_clients_add: out of memory");
			return -ENOMEM;
		}
		set->clients = c;
		set->cap = cap;
	}
	set->clients[set->n++] = client;
	return 0;
}

int dk_p2p_clients_remove(struct dk_p2p_clients *set, const struct dk_pci_device *client)
{
	if (!set || !client) {
		DK_ERR("dk_p2p_clients_remove: NULL %s", set ? "client" : "set");
		return -EINVAL;
	}
	ssize_t i = index_of(set, client);
	if (i < 0) {
		DK_ERR("dk_p2p_clients_remove: %s is not in the set", client->device.name);
		return -ENOENT;
	}
	set->clients[i] = set->clients[--set->n];
	return 0;
}

size_t dk_p2p_clients_count(const struct dk_p2p_clients *set)
{
	return set ? set->n : 0;
}

struct dk_pci_device *dk_p2p_clients_provider(const struct dk_p2p_clients *set)
{
	return set ? set->provider : NULL;
}

int dk_p2p_clients_pick(struct dk_p2p_clients *set)
{
	if (!set) {
		DK_ERR("dk_p2p_clients_pick: NULL set");
		return -EINVAL;
	}
	if (set->provider) {
		DK_ERR("dk_p2p_clients_pick: the set has provider %s already: make a set without one to pick",
		       set->provider->device.name);
		return -EALREADY;
	}
	struct dk_pci_device *p = dk_p2p_find_many(set->clients, set->n);
	if (!p) {
		int e = errno;
		if (e == ENODEV)
			DK_ERR("dk_p2p_clients_pick: no published provider reaches all %zu clients: publish one closer, or check each with dk_p2p_distance(..., true)",
			       set->n);
		return -e;
	}
	set->provider = p;
	return 0;
}
