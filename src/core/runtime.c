/* SPDX-License-Identifier: BSD-3-Clause */
/* The runtime directory (contract: src/core/runtime.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/runtime.h"

#define DK_LOG_COMPONENT "runtime"
#include "core/log_internal.h"

static int prefix_ok(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n >= DK__PREFIX_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return strcmp(p, ".") != 0 && strcmp(p, "..") != 0;
}

int dk__runtime_resolve(const char *runtime_dir, const char *prefix, struct dk__runtime *rt)
{
	const char *pfx_src = prefix ? "dk_init_params.prefix" : "DMAKIT_PREFIX";
	if (!prefix || !*prefix)
		prefix = getenv("DMAKIT_PREFIX");
	if (!prefix || !*prefix) {
		prefix = "dmakit";
		pfx_src = "the default prefix";
	}
	if (!prefix_ok(prefix)) {
		DK_ERR("prefix \"%s\" (%s) is not valid: use 1..%d characters of A-Z a-z 0-9 _ . -",
		       prefix, pfx_src, DK__PREFIX_MAX - 1);
		return -EINVAL;
	}
	char base[DK__RUNTIME_PATH_MAX];
	const char *v = runtime_dir && *runtime_dir ? runtime_dir : getenv("DMAKIT_RUNTIME_DIR");
	int n;
	if (v && *v)
		n = snprintf(base, sizeof(base), "%s", v);
	else if (geteuid() == 0)
		n = snprintf(base, sizeof(base), "/var/run/dmakit");
	else if ((v = getenv("XDG_RUNTIME_DIR")) && *v)
		n = snprintf(base, sizeof(base), "%s/dmakit", v);
	else
		n = snprintf(base, sizeof(base), "/tmp/dmakit-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= sizeof(base) ||
	    (size_t)n + 1 + strlen(prefix) + 32 >= sizeof(rt->dir)) {
		DK_ERR("runtime directory path is too long: use a shorter DMAKIT_RUNTIME_DIR");
		return -ENAMETOOLONG;
	}
	memcpy(rt->prefix, prefix, strlen(prefix) + 1); /* checked: < DK__PREFIX_MAX */
	size_t bl = (size_t)n, pl = strlen(prefix);
	memcpy(rt->dir, base, bl);
	rt->dir[bl] = '/';
	memcpy(rt->dir + bl + 1, prefix, pl + 1);
	return 0;
}

int dk__runtime_mkdir(const struct dk__runtime *rt)
{
	char p[DK__RUNTIME_PATH_MAX];
	snprintf(p, sizeof(p), "%s", rt->dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;
			DK_ERR("cannot create the runtime directory %s (%s): set DMAKIT_RUNTIME_DIR to a writable directory",
			       p, strerror(e));
			return -e;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		DK_ERR("cannot create the runtime directory %s (%s): set DMAKIT_RUNTIME_DIR to a writable directory",
		       p, strerror(e));
		return -e;
	}
	return 0;
}

int dk__runtime_path(const struct dk__runtime *rt, const char *name, char *out, size_t n)
{
	int k = snprintf(out, n, "%s/%s", rt->dir, name);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}
