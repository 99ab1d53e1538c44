/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The library's composition root: the one place that knows every layer.
 * dk_init brings them up bottom-up (core, memory, buses); dk_cleanup tears
 * them down in reverse. Failures undo everything done so far.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/init.h>
#include <dmakit/pci.h>

#include "bus/bus_internal.h"
#include "bus/pci/pci_internal.h"
#include "core/sysfs.h"
#include "mem/mem_config.h"
#include "mem/mem_init.h"
#include "vfio/vfio_internal.h"
#include "vfio/vfio_iova.h"

#define DK_LOG_COMPONENT "init"
#include "core/log_internal.h"

static int g_initialized;

void dk_init_params_default(struct dk_init_params *p)
{
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
}

/* Split an environment list ("a;b c") into a NULL-terminated array in storage. */
static int env_list(const char *var, char *storage, size_t storage_len, const char **vec,
		    unsigned int max)
{
	const char *v = getenv(var);
	unsigned int n = 0;
	vec[0] = NULL;
	if (!v || !*v)
		return 0;
	if (strlen(v) >= storage_len) {
		DK_ERR("%s is too long (%zu bytes, at most %zu)", var, strlen(v), storage_len - 1);
		return -E2BIG;
	}
	strcpy(storage, v);
	char *save = NULL;
	for (char *t = strtok_r(storage, "; \t\n", &save); t; t = strtok_r(NULL, "; \t\n", &save)) {
		if (n == max) {
			DK_ERR("%s lists more than %u devices", var, max);
			return -E2BIG;
		}
		vec[n++] = t;
	}
	vec[n] = NULL;
	return 0;
}

static int params_check(const struct dk_init_params *p)
{
	if (p->size == 0) {
		DK_ERR("dk_init_params.size is 0: fill the struct with dk_init_params_default()");
		return -EINVAL;
	}
	if (p->size > sizeof(*p)) {
		/* A newer caller: accept only if every field we do not know is zero. */
		const unsigned char *tail = (const unsigned char *)p + sizeof(*p);
		for (size_t i = 0; i < p->size - sizeof(*p); i++) {
			if (tail[i]) {
				DK_ERR("dk_init_params has fields this library (%s) does not know: upgrade libdmakit",
				       dk_version());
				return -EINVAL;
			}
		}
	}
	return 0;
}

int dk_init(const struct dk_init_params *params)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	if (g_initialized) {
		DK_ERR("dk_init called twice: call dk_cleanup first");
		return -EALREADY;
	}
	if (params) {
		int rc = params_check(params);
		if (rc < 0)
			return rc;
		/* Copy what both sides know (older callers pass a shorter struct). */
		memcpy(&p, params, params->size < sizeof(p) ? params->size : sizeof(p));
	}

	int rc = dk__log_init(p.log_level);
	if (rc < 0)
		return rc;
	rc = dk__sysfs_set_root(p.sysfs_root);
	if (rc < 0)
		goto err_log;
	if (access(dk_sysfs_root(), F_OK) != 0) {
		rc = -ENOENT;
		DK_ERR("sysfs root %s does not exist: mount sysfs, or fix %s", dk_sysfs_root(),
		       p.sysfs_root ? "dk_init_params.sysfs_root" : "DMAKIT_SYSFS_ROOT");
		goto err_log;
	}

	static char allow_buf[4096], deny_buf[4096];
	static const char *allow_env[DK_INIT_MAX_DEVARGS + 1], *deny_env[DK_INIT_MAX_DEVARGS + 1];
	const char *const *allow = p.allow, *const *deny = p.deny;
	if (!allow && !deny) {
		rc = env_list("DMAKIT_ALLOW", allow_buf, sizeof(allow_buf), allow_env,
			      DK_INIT_MAX_DEVARGS);
		if (rc == 0)
			rc = env_list("DMAKIT_DENY", deny_buf, sizeof(deny_buf), deny_env,
				      DK_INIT_MAX_DEVARGS);
		if (rc < 0)
			goto err_log;
		allow = allow_env;
		deny = deny_env;
	}
	rc = dk__bus_policy_set(allow, deny);
	if (rc < 0)
		goto err_log;
	/* Scan first: the IOVA mode (memory set-up) depends on the devices
	 * bound to vfio-pci; drivers probe once memory is there. */
	if (!dk_bus_find_by_name(dk__pci_bus.name)) {
		rc = dk_bus_register(&dk__pci_bus);
		if (rc < 0)
			goto err_policy;
	}
	if (!(p.flags & DK_INIT_NO_SCAN)) {
		rc = dk__bus_scan_all();
		if (rc < 0)
			goto err_scan;
	}
	rc = dk__mem_init(&p);
	if (rc < 0)
		goto err_scan;
	if (!(p.flags & (DK_INIT_NO_SCAN | DK_INIT_NO_PROBE))) {
		rc = dk__bus_probe_all();
		if (rc < 0)
			goto err_buses;
	}
	dk__vfio_iova_plan_done();
	g_initialized = 1;
	return 0;

err_scan:
	dk__bus_cleanup_all();
	dk__vfio_iova_plan_done();
	dk__vfio_cleanup();
	goto err_policy;
err_buses:
	dk__bus_cleanup_all();
	dk__vfio_iova_plan_done();
	dk__vfio_cleanup();
	dk__mem_cleanup();
err_policy:
	dk__bus_policy_clear();
err_log:
	dk__log_reset();
	return rc;
}

void dk_cleanup(void)
{
	if (!g_initialized)
		return;
	dk__bus_cleanup_all();
	dk__vfio_cleanup(); /* after the buses closed their devices */
	dk__mem_cleanup();
	dk__bus_policy_clear();
	g_initialized = 0;
}

int dk_process_type(void)
{
	if (!g_initialized)
		return DK_PROC_AUTO;
	return dk__mem_mp_is_secondary() ? DK_PROC_SECONDARY : DK_PROC_PRIMARY;
}

int dk_initialized(void)
{
	return g_initialized;
}
