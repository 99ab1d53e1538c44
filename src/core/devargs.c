/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dmakit/devargs.h>

#include "core/parse.h"

#define DK_LOG_COMPONENT "devargs"
#include "core/log_internal.h"

static int is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static int is_name_char(char c)
{
	return c > ' ' && c != ',' && c != '=' && c != 0x7f;
}

/* Normalize a PCI address to its long form; other names are kept as is. */
static void normalize_name(char *name, size_t len)
{
	struct dk__pci_bdf a;
	if (dk__parse_pci_addr(name, &a) == 0) {
		/* Clear the tail too: a parsed struct compares equal byte for byte. */
		memset(name, 0, len);
		dk__format_pci_addr(&a, name, len);
	}
}

static int fail(struct dk_devargs *out, const char *str, int rc, const char *fmt, ...)
	DK_PRINTF(4, 5);
static int fail(struct dk_devargs *out, const char *str, int rc, const char *fmt, ...)
{
	memset(out, 0, sizeof(*out));
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	DK_ERR("devargs \"%s\": %s (expected \"<device>[,key[=value]]...\")", str, why);
	return rc;
}

int dk_devargs_parse(const char *str, struct dk_devargs *out)
{
	if (!out)
		return -EINVAL;
	if (!str) {
		memset(out, 0, sizeof(*out));
		DK_ERR("devargs: NULL string");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	const char *p = str;
	size_t n = 0;
	while (*p && *p != ',') {
		if (!is_name_char(*p))
			return fail(out, str, -EINVAL,
				    "character %zu is not allowed in a device name (no spaces, '=' or control characters)",
				    (size_t)(p - str));
		if (n + 1 >= sizeof(out->name))
			return fail(out, str, -E2BIG,
				    "device name longer than %zu characters at character %zu",
				    sizeof(out->name) - 1, (size_t)(p - str));
		out->name[n++] = *p++;
	}
	if (n == 0)
		return fail(out, str, -EINVAL, "empty device name at character %d", 0);
	normalize_name(out->name, sizeof(out->name));

	while (*p == ',') {
		p++;
		size_t pos = (size_t)(p - str);
		if (*p == ',' || *p == '\0')
			return fail(out, str, -EINVAL, "empty key=value pair at character %zu", pos);
		if (out->n_kv == DK_DEVARGS_MAX_KV)
			return fail(out, str, -E2BIG,
				    "more than %zu key=value pairs at character %zu",
				    (size_t)DK_DEVARGS_MAX_KV, pos);
		struct dk_devargs_kv *kv = &out->kv[out->n_kv];
		size_t k = 0;
		while (*p && *p != ',' && *p != '=') {
			if (!is_key_char(*p))
				return fail(out, str, -EINVAL,
					    "character %zu is not allowed in a key (use letters, digits, '_', '.', '-')",
					    (size_t)(p - str));
			if (k + 1 >= sizeof(kv->key))
				return fail(out, str, -E2BIG, "key at character %zu is too long", pos);
			kv->key[k++] = *p++;
		}
		if (k == 0)
			return fail(out, str, -EINVAL, "empty key at character %zu", pos);
		if (*p == '=') {
			p++;
			size_t v = 0;
			int depth = 0;
			size_t vpos = (size_t)(p - str);
			while (*p && (depth > 0 || *p != ',')) {
				if (*p == '[')
					depth++;
				else if (*p == ']' && --depth < 0)
					return fail(out, str, -EINVAL,
						    "unbalanced ']' at character %zu", (size_t)(p - str));
				if (v + 1 >= sizeof(kv->value))
					return fail(out, str, -E2BIG,
						    "value at character %zu is too long", vpos);
				kv->value[v++] = *p++;
			}
			if (depth)
				return fail(out, str, -EINVAL,
					    "unbalanced '[' in the value at character %zu: close it with ']'",
					    vpos);
		}
		for (unsigned int i = 0; i < out->n_kv; i++)
			if (strcmp(out->kv[i].key, kv->key) == 0)
				return fail(out, str, -EINVAL,
					    "key at character %zu is given twice: give each key once", pos);
		out->n_kv++;
	}
	return 0;
}

const char *dk_devargs_get(const struct dk_devargs *da, const char *key)
{
	if (!da || !key) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned int i = 0; i < da->n_kv && i < DK_DEVARGS_MAX_KV; i++)
		if (strcmp(da->kv[i].key, key) == 0)
			return da->kv[i].value;
	errno = ENOENT;
	return NULL;
}

int dk_devargs_get_u64(const struct dk_devargs *da, const char *key, uint64_t *out)
{
	const char *v = dk_devargs_get(da, key);
	if (!v)
		return -errno;
	if (!out || !*v)
		return -EINVAL;
	return dk__parse_u64(v, strlen(v), 0, out);
}

int dk_devargs_get_list(const struct dk_devargs *da, const char *key, char sep,
			char (*items)[DK_DEVARGS_KEY_MAX], unsigned int max)
{
	const char *v = dk_devargs_get(da, key);
	if (!v)
		return -errno;
	if (!*v || !items)
		return -EINVAL;
	unsigned int n = 0;
	const char *p = v;
	for (;;) {
		const char *e = strchr(p, sep);
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0)
			return -EINVAL;
		if (n == max || len >= DK_DEVARGS_KEY_MAX)
			return -E2BIG;
		memcpy(items[n], p, len);
		items[n][len] = '\0';
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	return (int)n;
}

int dk_devargs_format(const struct dk_devargs *da, char *buf, size_t len)
{
	if (!da || (!buf && len))
		return -EINVAL;
	size_t total = 0;
	int n = snprintf(buf, len, "%s", da->name);
	if (n < 0)
		return -EINVAL;
	total += (size_t)n;
	for (unsigned int i = 0; i < da->n_kv && i < DK_DEVARGS_MAX_KV; i++) {
		char *dst = total < len ? buf + total : NULL;
		size_t room = total < len ? len - total : 0;
		const struct dk_devargs_kv *kv = &da->kv[i];
		/* A flag and "key=" both parse to value ""; both are written as the flag. */
		n = snprintf(dst, room, ",%s%s%s", kv->key, kv->value[0] ? "=" : "", kv->value);
		if (n < 0)
			return -EINVAL;
		total += (size_t)n;
	}
	return (int)total;
}
