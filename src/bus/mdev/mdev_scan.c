/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mdev bus scan (contract: include/dmakit/mdev.h, src/bus/mdev/mdev_internal.h):
 * parents from <root>/class/mdev_bus, their types from
 * mdev_supported_types/, instances from <root>/bus/mdev/devices. A rescan
 * builds everything new first (so running out of memory changes nothing),
 * then merges the instances: kept ones stay at the same address.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bus/mdev/mdev_internal.h"
#include "core/parse.h"
#include "core/sysfs.h"

#define DK_LOG_COMPONENT "mdev"
#include "core/log_internal.h"

static struct dk_mdev_parent *g_parents;
static unsigned int g_nparents;
static struct dk_mdev_device **g_devs;
static unsigned int g_ndev;

/* ---- parents and types ---- */

/* Room for one more element in *v (n used of *cap, size bytes each): 0 or -ENOMEM. */
static int grow(void **v, unsigned int n, unsigned int *cap, size_t size, unsigned int first)
{
	if (n < *cap)
		return 0;
	unsigned int nc = *cap ? 2 * *cap : first;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

static void type_free(struct dk_mdev_type *t)
{
	if (t->has_name)
		free((char *)(uintptr_t)t->name);
	if (t->description && t->description[0])
		free((char *)(uintptr_t)t->description);
	free((char *)(uintptr_t)t->device_api);
	free((char *)(uintptr_t)t->id);
}

static void parents_free(struct dk_mdev_parent *ps, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct dk_mdev_type *ts = (struct dk_mdev_type *)(uintptr_t)ps[i].types;
		for (unsigned int k = 0; k < ps[i].ntypes; k++)
			type_free(&ts[k]);
		free(ts);
		free((char *)(uintptr_t)ps[i].name);
	}
	free(ps);
}

/* s trimmed of white space at both ends, inner newlines as ", " (as mdevctl shows them). */
static char *tidy(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	char *out = malloc(2 * n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			out[o++] = ',';
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* The trimmed text of an optional file, or NULL (absent or empty); *oom on ENOMEM. */
static char *read_text(const char *rel, int *oom)
{
	char buf[4096];
	if (dk__sysfs_read_str(rel, buf, sizeof(buf)) < 0)
		return NULL;
	char *t = tidy(buf);
	if (!t) {
		*oom = 1;
		return NULL;
	}
	if (!t[0]) {
		free(t);
		return NULL;
	}
	return t;
}

static unsigned int count_entries(const char *rel)
{
	char path[DK__PATH_MAX];
	unsigned int n = 0;
	if (dk__sysfs_path(path, sizeof(path), rel) < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Fill t (id already set) from its directory; -ENOMEM. */
static int read_type(struct dk_mdev_type *t, const char *parent)
{
	char rel[DK__PATH_MAX], base[1024]; /* parent and id are file names: < 256 bytes */
	int oom = 0;
	snprintf(base, sizeof(base), "class/mdev_bus/%s/mdev_supported_types/%s", parent, t->id);
	snprintf(rel, sizeof(rel), "%s/name", base);
	char *name = read_text(rel, &oom);
	t->has_name = name != NULL;
	t->name = name ? name : t->id;
	snprintf(rel, sizeof(rel), "%s/description", base);
	char *desc = read_text(rel, &oom);
	t->description = desc ? desc : "";
	snprintf(rel, sizeof(rel), "%s/device_api", base);
	char *api = read_text(rel, &oom);
	t->device_api = api ? api : strdup("");
	if (!t->device_api)
		oom = 1;
	else if (!api)
		DK_WARN("mdev type %s of %s: no device_api in %s/%s: its instances are not probed",
			t->id, parent, dk_sysfs_root(), base);
	snprintf(rel, sizeof(rel), "%s/available_instances", base);
	int64_t avail;
	t->available_instances = -1;
	if (dk__sysfs_read_i64(rel, &avail) == 0 && avail >= 0 && avail <= INT32_MAX)
		t->available_instances = (int)avail;
	snprintf(rel, sizeof(rel), "%s/devices", base);
	t->instances = count_entries(rel);
	return oom ? -ENOMEM : 0;
}

static int cmp_type(const void *a, const void *b)
{
	return strcmp(((const struct dk_mdev_type *)a)->id, ((const struct dk_mdev_type *)b)->id);
}

static int cmp_parent(const void *a, const void *b)
{
	return strcmp(((const struct dk_mdev_parent *)a)->name,
		      ((const struct dk_mdev_parent *)b)->name);
}

/* Read parent p's types (p->name set). 0, -ENOENT (parent gone: skip it), -ENOMEM. */
static int read_types(struct dk_mdev_parent *p)
{
	char rel[DK__PATH_MAX], path[DK__PATH_MAX];
	snprintf(rel, sizeof(rel), "class/mdev_bus/%s/mdev_supported_types", p->name);
	if (dk__sysfs_path(path, sizeof(path), rel) < 0)
		return -ENOENT;
	DIR *d = opendir(path);
	if (!d) {
		DK_WARN("mdev parent %s: cannot read %s: %s: skipped (was it removed? its driver "
			"unloaded?)",
			p->name, path, strerror(errno));
		return -ENOENT;
	}
	struct dk_mdev_type *ts = NULL;
	unsigned int n = 0, cap = 0;
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if ((rc = grow((void **)&ts, n, &cap, sizeof(*ts), 8)) < 0)
			break;
		struct dk_mdev_type *t = &ts[n];
		memset(t, 0, sizeof(*t));
		t->id = strdup(de->d_name);
		if (!t->id) {
			rc = -ENOMEM;
			break;
		}
		n++;
		rc = read_type(t, p->name);
	}
	closedir(d);
	p->types = ts;
	p->ntypes = n;
	if (rc < 0)
		return rc;
	if (n)
		qsort(ts, n, sizeof(*ts), cmp_type);
	return 0;
}

/* Fix up every type's parent pointer (the array is final). */
static void link_types(struct dk_mdev_parent *ps, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct dk_mdev_type *ts = (struct dk_mdev_type *)(uintptr_t)ps[i].types;
		for (unsigned int k = 0; k < ps[i].ntypes; k++)
			ts[k].parent = &ps[i];
	}
}

static int read_parents(struct dk_mdev_parent **out, unsigned int *nout)
{
	char path[DK__PATH_MAX];
	*out = NULL;
	*nout = 0;
	if (dk__sysfs_path(path, sizeof(path), "class/mdev_bus") < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d) {
		DK_DEBUG("%s: %s: no mdev parents", path, strerror(errno));
		return 0;
	}
	struct dk_mdev_parent *ps = NULL;
	unsigned int n = 0, cap = 0;
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		if ((rc = grow((void **)&ps, n, &cap, sizeof(*ps), 8)) < 0)
			break;
		struct dk_mdev_parent *p = &ps[n];
		memset(p, 0, sizeof(*p));
		p->name = strdup(de->d_name);
		if (!p->name) {
			rc = -ENOMEM;
			break;
		}
		n++;
		rc = read_types(p);
		if (rc == -ENOENT) { /* gone meanwhile: not listed */
			free((char *)(uintptr_t)p->name);
			n--;
			rc = 0;
		}
	}
	closedir(d);
	if (rc < 0) {
		parents_free(ps, n);
		return rc;
	}
	if (n)
		qsort(ps, n, sizeof(*ps), cmp_parent);
	link_types(ps, n);
	*out = ps;
	*nout = n;
	return 0;
}

static const struct dk_mdev_parent *find_parent(const struct dk_mdev_parent *ps, unsigned int n,
						const char *name)
{
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(ps[i].name, name) == 0)
			return &ps[i];
	return NULL;
}

static const struct dk_mdev_type *find_type(const struct dk_mdev_parent *p, const char *id)
{
	for (unsigned int i = 0; p && i < p->ntypes; i++)
		if (strcmp(p->types[i].id, id) == 0)
			return &p->types[i];
	return NULL;
}

/* ---- instances ---- */

/* Parent of instance uuid: the name of the directory its device directory sits in. */
static int read_parent_name(const char *uuid, char *out, size_t len)
{
	char rel[DK__PATH_MAX], path[DK__PATH_MAX], real[PATH_MAX];
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s", uuid);
	if (dk__sysfs_path(path, sizeof(path), rel) < 0 || !realpath(path, real))
		return -ENOENT;
	char *slash = strrchr(real, '/');
	if (!slash || slash == real)
		return -ENOENT;
	*slash = '\0';
	slash = strrchr(real, '/');
	const char *name = slash ? slash + 1 : real;
	size_t n = strlen(name);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, name, n + 1);
	return 0;
}

/* A new instance read from sysfs, or NULL (errno ENOMEM, or ENOENT: skipped). */
static struct dk_mdev_device *read_device(const char *uuid, const struct dk_mdev_parent *ps,
					  unsigned int np)
{
	struct dk_mdev_device *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	char rel[DK__PATH_MAX], buf[64];
	memcpy(m->uuid, uuid, sizeof(m->uuid)); /* a valid UUID: 36 characters */
	if (read_parent_name(uuid, m->parent, sizeof(m->parent)) < 0) {
		DK_WARN("mdev %s: %s/bus/mdev/devices/%s does not resolve: it vanished: skipped",
			uuid, dk_sysfs_root(), uuid);
		goto skip;
	}
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/mdev_type", uuid);
	if (dk__sysfs_read_link_name(rel, m->type_id, sizeof(m->type_id)) < 0) {
		DK_WARN("mdev %s: no link %s/%s: vanished, or not an mdev: skipped", uuid,
			dk_sysfs_root(), rel);
		goto skip;
	}
	m->type = find_type(find_parent(ps, np, m->parent), m->type_id);
	if (m->type) {
		snprintf(m->device_api, sizeof(m->device_api), "%s", m->type->device_api);
	} else {
		snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/mdev_type/device_api", uuid);
		if (dk__sysfs_read_str(rel, m->device_api, sizeof(m->device_api)) < 0)
			m->device_api[0] = '\0';
	}
	snprintf(rel, sizeof(rel), "bus/mdev/devices/%s/iommu_group", uuid);
	uint64_t g;
	m->iommu_group = -1;
	if (dk__sysfs_read_link_name(rel, buf, sizeof(buf)) >= 0 &&
	    dk__parse_u64(buf, strlen(buf), 10, &g) == 0 && g <= INT32_MAX)
		m->iommu_group = (int)g;
	m->device.name = m->uuid;
	m->device.bus = &dk__mdev_bus;
	m->device.numa_node = -1;
	return m;
skip:
	free(m);
	errno = ENOENT;
	return NULL;
}

static void devs_free(struct dk_mdev_device **v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Every instance in sysfs into *out (sorted later). 0 or -ENOMEM. */
static int read_devices(const struct dk_mdev_parent *ps, unsigned int np,
			struct dk_mdev_device ***out, unsigned int *nout)
{
	char path[DK__PATH_MAX];
	*out = NULL;
	*nout = 0;
	if (dk__sysfs_path(path, sizeof(path), "bus/mdev/devices") < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d) {
		DK_DEBUG("%s: %s: no mdevs", path, strerror(errno));
		return 0;
	}
	struct dk_mdev_device **v = NULL;
	unsigned int n = 0, cap = 0;
	int rc = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		if (!dk__uuid_valid(de->d_name)) {
			DK_WARN("%s/%s: not a UUID: ignored", path, de->d_name);
			continue;
		}
		if ((rc = grow((void **)&v, n, &cap, sizeof(*v), 16)) < 0)
			break;
		struct dk_mdev_device *m = read_device(de->d_name, ps, np);
		if (!m && errno == ENOMEM) {
			rc = -ENOMEM;
			break;
		}
		if (m)
			v[n++] = m;
	}
	closedir(d);
	if (rc < 0) {
		devs_free(v, n);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct dk_mdev_device *x = *(const struct dk_mdev_device *const *)a;
	const struct dk_mdev_device *y = *(const struct dk_mdev_device *const *)b;
	int c = strcmp(x->parent, y->parent);
	return c ? c : strcmp(x->uuid, y->uuid);
}

/* The new instance that is old (same UUID, parent and type), or NULL. */
static struct dk_mdev_device **same_device(struct dk_mdev_device **v, unsigned int n,
					   const struct dk_mdev_device *old)
{
	for (unsigned int i = 0; i < n; i++)
		if (v[i] && strcmp(v[i]->uuid, old->uuid) == 0 &&
		    strcmp(v[i]->parent, old->parent) == 0 &&
		    strcmp(v[i]->type_id, old->type_id) == 0)
			return &v[i];
	return NULL;
}

/* Merge the instances read (nv of them) into the list; result has room for all. */
static void merge(struct dk_mdev_device **nv, unsigned int nn, struct dk_mdev_device **result)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < g_ndev; i++) {
		struct dk_mdev_device *old = g_devs[i];
		struct dk_mdev_device **fresh = same_device(nv, nn, old);
		if (!fresh) {
			DK_INFO("mdev %s (%s of %s) is gone", old->uuid, old->type_id, old->parent);
			if (old->driver)
				dk__mdev_unplug(old);
			free(old);
			continue;
		}
		old->type = (*fresh)->type;
		old->iommu_group = (*fresh)->iommu_group;
		memcpy(old->device_api, (*fresh)->device_api, sizeof(old->device_api));
		free(*fresh);
		*fresh = NULL;
		result[n++] = old;
	}
	for (unsigned int i = 0; i < nn; i++)
		if (nv[i])
			result[n++] = nv[i];
	free(g_devs);
	g_devs = result;
	g_ndev = n;
	if (n)
		qsort(g_devs, n, sizeof(*g_devs), cmp_dev);
}

int dk__mdev_scan(void)
{
	struct dk_mdev_parent *ps;
	unsigned int np, nn;
	struct dk_mdev_device **nv;
	int rc = read_parents(&ps, &np);
	if (rc < 0)
		goto err_oom;
	rc = read_devices(ps, np, &nv, &nn);
	if (rc < 0)
		goto err_parents;
	struct dk_mdev_device **result = calloc((size_t)g_ndev + nn + 1, sizeof(*result));
	if (!result) {
		rc = -ENOMEM;
		goto err_devices;
	}
	merge(nv, nn, result);
	free(nv);
	parents_free(g_parents, g_nparents);
	g_parents = ps;
	g_nparents = np;
	return (int)g_ndev;

err_devices:
	devs_free(nv, nn);
err_parents:
	parents_free(ps, np);
err_oom:
	DK_ERR("mdev scan: out of memory: nothing changed");
	return rc;
}

void dk__mdev_free_all(void)
{
	for (unsigned int i = g_ndev; i-- > 0;)
		if (g_devs[i]->driver)
			dk__mdev_unplug(g_devs[i]);
	devs_free(g_devs, g_ndev);
	g_devs = NULL;
	g_ndev = 0;
	parents_free(g_parents, g_nparents);
	g_parents = NULL;
	g_nparents = 0;
}

/* ---- lookups ---- */

unsigned int dk_mdev_parent_count(void)
{
	return g_nparents;
}

const struct dk_mdev_parent *dk_mdev_parent_get(unsigned int index)
{
	if (index >= g_nparents) {
		errno = ENOENT;
		return NULL;
	}
	return &g_parents[index];
}

const struct dk_mdev_parent *dk_mdev_parent_find(const char *name)
{
	if (!name) {
		errno = EINVAL;
		return NULL;
	}
	const struct dk_mdev_parent *p = find_parent(g_parents, g_nparents, name);
	if (!p)
		errno = ENOENT;
	return p;
}

const struct dk_mdev_type *dk_mdev_type_find(const struct dk_mdev_parent *parent, const char *id)
{
	if (!parent || !id) {
		errno = EINVAL;
		return NULL;
	}
	const struct dk_mdev_type *t = find_type(parent, id);
	if (!t)
		errno = ENOENT;
	return t;
}

unsigned int dk_mdev_count(void)
{
	return g_ndev;
}

struct dk_mdev_device *dk_mdev_get(unsigned int index)
{
	if (index >= g_ndev) {
		errno = ENOENT;
		return NULL;
	}
	return g_devs[index];
}

struct dk_mdev_device *dk_mdev_find(const char *uuid)
{
	if (!dk__uuid_valid(uuid)) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned int i = 0; i < g_ndev; i++)
		if (strcasecmp(g_devs[i]->uuid, uuid) == 0)
			return g_devs[i];
	errno = ENOENT;
	return NULL;
}
