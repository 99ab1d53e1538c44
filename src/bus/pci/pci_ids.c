/* SPDX-License-Identifier: BSD-3-Clause */
/* The PCI ID database index. Contract: pci_ids.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci/pci_ids.h"
#include "core/parse.h"

struct ids_name {
	uint32_t off, len;
};

struct ids_vendor {
	uint32_t order; /* line number: the first of duplicates wins */
	uint16_t id;
	struct ids_name name;
	uint32_t dev_first, dev_count; /* slice of devices, sorted by id */
};

struct ids_device {
	uint32_t order;
	uint16_t id;
	struct ids_name name;
	uint32_t sub_first, sub_count; /* slice of subs, in file order */
};

/* A keyed entry: a subsystem (subvendor << 16 | subdevice), a class level
 * (CLASS_KEY) or a generic subsystem. */
struct ids_key {
	uint32_t key;
	uint32_t order;
	struct ids_name name;
};

struct vec {
	void *v;
	uint32_t n, cap;
};

struct dk__pci_ids {
	const char *data;
	struct vec vendors, devices, subs, classes, gensubs;
	unsigned int malformed, first_bad;
};

#define CLASS_KEY(level, base, sub, pi) \
	((uint32_t)(level) << 24 | (uint32_t)(base) << 16 | (uint32_t)(sub) << 8 | (uint32_t)(pi))

/* ---- lines ---------------------------------------------------------------- */

struct cursor {
	const char *data;
	size_t len, pos;
	unsigned int lineno;
};

struct line {
	const char *p; /* after the leading tabs */
	size_t len;
	unsigned int nest; /* leading tabs */
	unsigned int no;   /* 1-based line number */
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next line that is neither blank nor a comment; 0 at the end. */
static int next_line(struct cursor *c, struct line *l)
{
	while (c->pos < c->len) {
		const char *s = c->data + c->pos;
		size_t rest = c->len - c->pos;
		const char *nl = memchr(s, '\n', rest);
		size_t full = nl ? (size_t)(nl - s) : rest;
		c->pos += full + (nl != NULL);
		c->lineno++;
		const char *cr = memchr(s, '\r', full);
		size_t n = cr ? (size_t)(cr - s) : full;
		if (n && is_blank(s[n - 1]))
			n--;
		size_t i = 0;
		while (i < n && is_blank(s[i]))
			i++;
		if (i == n || s[i] == '#')
			continue;
		size_t t = 0;
		while (t < n && s[t] == '\t')
			t++;
		l->p = s + t;
		l->len = n - t;
		l->nest = (unsigned int)t;
		l->no = c->lineno;
		return 1;
	}
	return 0;
}

static int hex_exact(const char *p, size_t digits, uint32_t *v)
{
	uint32_t x = 0;
	for (size_t i = 0; i < digits; i++) {
		int d = dk__hex_digit(p[i]);
		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 0;
}

/* Exactly digits hex digits at p[at], followed by a blank. */
static int hex_id(const struct line *l, size_t at, size_t digits, uint32_t *v)
{
	if (at + digits >= l->len || !is_blank(l->p[at + digits]))
		return -1;
	return hex_exact(l->p + at, digits, v);
}

/* The non-empty name after blanks from p[at]. */
static int name_at(const struct dk__pci_ids *db, const struct line *l, size_t at,
		   struct ids_name *name)
{
	while (at < l->len && is_blank(l->p[at]))
		at++;
	if (at >= l->len)
		return -1;
	name->off = (uint32_t)(l->p + at - db->data);
	name->len = (uint32_t)(l->len - at);
	return 0;
}

/* "<digits hex> <name>" */
static int id_name(const struct dk__pci_ids *db, const struct line *l, size_t at, size_t digits,
		   uint32_t *id, struct ids_name *name)
{
	if (hex_id(l, at, digits, id) < 0)
		return -1;
	return name_at(db, l, at + digits + 1, name);
}

/* ---- building ------------------------------------------------------------------ */

static void *vec_push(struct vec *v, size_t elem)
{
	if (v->n == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->v, (size_t)cap * elem);
		if (!p)
			return NULL;
		v->v = p;
		v->cap = cap;
	}
	void *e = (char *)v->v + (size_t)v->n++ * elem;
	memset(e, 0, elem);
	return e;
}

static int add_key(struct vec *v, uint32_t key, unsigned int order, struct ids_name name)
{
	struct ids_key *k = vec_push(v, sizeof(*k));
	if (!k)
		return -1;
	k->key = key;
	k->order = order;
	k->name = name;
	return 0;
}

#define NO_SUB 0x100u

enum block { B_NONE, B_VENDOR, B_CLASS, B_GENSUB, B_SKIP };

struct builder {
	enum block block;
	uint32_t top;  /* vendor id, class, or generic subsystem vendor */
	uint32_t sub;  /* class: the current subclass; NO_SUB after a malformed one */
	int have_dev;  /* vendor block: a device line was seen */
};

static void malformed(struct dk__pci_ids *db, const struct line *l)
{
	if (!db->malformed++)
		db->first_bad = l->no;
}

/* A line without tabs. 0, 1 when malformed, -1 out of memory. */
static int add_top(struct dk__pci_ids *db, struct builder *b, const struct line *l)
{
	struct ids_name name;
	uint32_t id;
	b->block = B_SKIP;
	b->sub = 0;
	b->have_dev = 0;
	if (l->len >= 2 && l->p[0] == 'C' && l->p[1] == ' ') {
		if (id_name(db, l, 2, 2, &id, &name) < 0)
			return 1;
		b->block = B_CLASS;
		b->top = id;
		return add_key(&db->classes, CLASS_KEY(0, id, 0, 0), l->no, name);
	}
	if (l->len >= 2 && l->p[0] == 'S' && l->p[1] == ' ') {
		if (l->len != 6 || hex_exact(l->p + 2, 4, &id) < 0)
			return 1;
		b->block = B_GENSUB;
		b->top = id;
		return 0;
	}
	if (l->len >= 2 && l->p[0] >= 'A' && l->p[0] <= 'Z' && l->p[1] == ' ')
		return 0; /* a block of a kind not known: skipped */
	if (id_name(db, l, 0, 4, &id, &name) < 0)
		return 1;
	struct ids_vendor *v = vec_push(&db->vendors, sizeof(*v));
	if (!v)
		return -1;
	v->order = l->no;
	v->id = (uint16_t)id;
	v->name = name;
	v->dev_first = db->devices.n;
	b->block = B_VENDOR;
	return 0;
}

static int add_vendor_line(struct dk__pci_ids *db, struct builder *b, const struct line *l)
{
	struct ids_name name;
	uint32_t id, sd;
	struct ids_vendor *v = (struct ids_vendor *)db->vendors.v + db->vendors.n - 1;
	if (l->nest == 1) {
		b->have_dev = 0; /* a malformed device line takes its subsystems with it */
		if (id_name(db, l, 0, 4, &id, &name) < 0)
			return 1;
		struct ids_device *d = vec_push(&db->devices, sizeof(*d));
		if (!d)
			return -1;
		d->order = l->no;
		d->id = (uint16_t)id;
		d->name = name;
		d->sub_first = db->subs.n;
		v->dev_count++;
		b->have_dev = 1;
		return 0;
	}
	if (l->nest != 2 || !b->have_dev || hex_id(l, 0, 4, &id) < 0 ||
	    id_name(db, l, 5, 4, &sd, &name) < 0)
		return 1;
	struct ids_device *d = (struct ids_device *)db->devices.v + db->devices.n - 1;
	d->sub_count++;
	return add_key(&db->subs, id << 16 | sd, l->no, name);
}

static int add_nested(struct dk__pci_ids *db, struct builder *b, const struct line *l)
{
	struct ids_name name;
	uint32_t id;
	switch (b->block) {
	case B_SKIP:
		return 0;
	case B_VENDOR:
		return add_vendor_line(db, b, l);
	case B_CLASS:
		if (l->nest == 1)
			b->sub = NO_SUB;
		if (l->nest > 2 || (l->nest == 2 && b->sub == NO_SUB) ||
		    id_name(db, l, 0, 2, &id, &name) < 0)
			return 1;
		if (l->nest == 1) {
			b->sub = id;
			return add_key(&db->classes, CLASS_KEY(1, b->top, id, 0), l->no, name);
		}
		return add_key(&db->classes, CLASS_KEY(2, b->top, b->sub, id), l->no, name);
	case B_GENSUB:
		if (l->nest != 1 || id_name(db, l, 0, 4, &id, &name) < 0)
			return 1;
		return add_key(&db->gensubs, b->top << 16 | id, l->no, name);
	case B_NONE:
	default:
		return 1;
	}
}

static int cmp_vendor(const void *a, const void *b)
{
	const struct ids_vendor *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_device(const void *a, const void *b)
{
	const struct ids_device *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_key(const void *a, const void *b)
{
	const struct ids_key *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* qsort, unless already in order (pci.ids is kept sorted: the usual case). */
static void sort(void *base, uint32_t n, size_t elem, int (*cmp)(const void *, const void *))
{
	for (uint32_t i = 1; i < n; i++) {
		if (cmp((char *)base + (i - 1) * elem, (char *)base + i * elem) > 0) {
			qsort(base, n, elem, cmp);
			return;
		}
	}
}

static void sort_index(struct dk__pci_ids *db)
{
	struct ids_vendor *v = db->vendors.v;
	struct ids_device *d = db->devices.v;
	for (uint32_t i = 0; i < db->vendors.n; i++)
		if (v[i].dev_count) /* no device at all: the table is NULL */
			sort(d + v[i].dev_first, v[i].dev_count, sizeof(*d), cmp_device);
	sort(v, db->vendors.n, sizeof(*v), cmp_vendor);
	sort(db->classes.v, db->classes.n, sizeof(struct ids_key), cmp_key);
	sort(db->gensubs.v, db->gensubs.n, sizeof(struct ids_key), cmp_key);
}

struct dk__pci_ids *dk__pci_ids_index(const char *data, size_t len)
{
	if (len >= UINT32_MAX) {
		errno = EFBIG;
		return NULL;
	}
	struct dk__pci_ids *db = calloc(1, sizeof(*db));
	if (!db)
		goto fail_alloc;
	db->data = data;
	struct cursor c = {.data = data, .len = len};
	struct builder b = {.block = B_NONE};
	struct line l;
	while (next_line(&c, &l)) {
		int rc = l.nest ? add_nested(db, &b, &l) : add_top(db, &b, &l);
		if (rc < 0)
			goto fail_index;
		if (rc > 0)
			malformed(db, &l);
	}
	sort_index(db);
	return db;

fail_index:
	dk__pci_ids_free(db);
fail_alloc:
	errno = ENOMEM;
	return NULL;
}

void dk__pci_ids_free(struct dk__pci_ids *db)
{
	if (!db)
		return;
	free(db->vendors.v);
	free(db->devices.v);
	free(db->subs.v);
	free(db->classes.v);
	free(db->gensubs.v);
	free(db);
}

unsigned int dk__pci_ids_malformed(const struct dk__pci_ids *db, unsigned int *first_line)
{
	if (first_line)
		*first_line = db->malformed ? db->first_bad : 0;
	return db->malformed;
}

/* ---- lookups ----------------------------------------------------------------------- */

static int found(const struct dk__pci_ids *db, struct ids_name n, struct dk__pci_name *out)
{
	out->s = db->data + n.off;
	out->len = n.len;
	return 0;
}

static const struct ids_vendor *find_vendor(const struct dk__pci_ids *db, uint16_t id)
{
	const struct ids_vendor *v = db->vendors.v;
	uint32_t lo = 0, hi = db->vendors.n;
	while (lo < hi) { /* the first entry >= id */
		uint32_t mid = lo + (hi - lo) / 2;
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < db->vendors.n && v[lo].id == id ? &v[lo] : NULL;
}

static const struct ids_device *find_device(const struct dk__pci_ids *db, uint16_t vendor,
					    uint16_t device)
{
	const struct ids_vendor *v = find_vendor(db, vendor);
	if (!v || !v->dev_count) /* no devices at all: the table is NULL */
		return NULL;
	const struct ids_device *d = (const struct ids_device *)db->devices.v + v->dev_first;
	uint32_t lo = 0, hi = v->dev_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (d[mid].id < device)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->dev_count && d[lo].id == device ? &d[lo] : NULL;
}

static const struct ids_key *find_key(const struct vec *vec, uint32_t key)
{
	const struct ids_key *k = vec->v;
	uint32_t lo = 0, hi = vec->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (k[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < vec->n && k[lo].key == key ? &k[lo] : NULL;
}

int dk__pci_ids_vendor(const struct dk__pci_ids *db, uint16_t vendor, struct dk__pci_name *out)
{
	const struct ids_vendor *v = find_vendor(db, vendor);
	return v ? found(db, v->name, out) : -ENOENT;
}

int dk__pci_ids_device(const struct dk__pci_ids *db, uint16_t vendor, uint16_t device,
		       struct dk__pci_name *out)
{
	const struct ids_device *d = find_device(db, vendor, device);
	return d ? found(db, d->name, out) : -ENOENT;
}

int dk__pci_ids_subsystem(const struct dk__pci_ids *db, uint16_t vendor, uint16_t device,
			  uint16_t subvendor, uint16_t subdevice, struct dk__pci_name *out)
{
	uint32_t key = (uint32_t)subvendor << 16 | subdevice;
	const struct ids_device *d = find_device(db, vendor, device);
	if (d && d->sub_count) {
		const struct ids_key *s = (const struct ids_key *)db->subs.v + d->sub_first;
		for (uint32_t i = 0; i < d->sub_count; i++)
			if (s[i].key == key)
				return found(db, s[i].name, out);
	}
	const struct ids_key *g = find_key(&db->gensubs, key);
	if (g)
		return found(db, g->name, out);
	if (d && vendor == subvendor && device == subdevice)
		return found(db, d->name, out);
	return -ENOENT;
}

static int class_lookup(const struct dk__pci_ids *db, uint32_t key, struct dk__pci_name *out)
{
	const struct ids_key *k = find_key(&db->classes, key);
	return k ? found(db, k->name, out) : -ENOENT;
}

int dk__pci_ids_class(const struct dk__pci_ids *db, uint8_t base, struct dk__pci_name *out)
{
	return class_lookup(db, CLASS_KEY(0, base, 0, 0), out);
}

int dk__pci_ids_subclass(const struct dk__pci_ids *db, uint8_t base, uint8_t sub,
			 struct dk__pci_name *out)
{
	return class_lookup(db, CLASS_KEY(1, base, sub, 0), out);
}

int dk__pci_ids_progif(const struct dk__pci_ids *db, uint8_t base, uint8_t sub, uint8_t progif,
		       struct dk__pci_name *out)
{
	return class_lookup(db, CLASS_KEY(2, base, sub, progif), out);
}
