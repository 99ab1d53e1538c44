/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The library's composition root: the one place that knows every layer.
 *
 * dk_init climbs a ladder of steps; a failure unwinds the steps reached, in
 * strict reverse order, and dk_cleanup unwinds all of them but the log level
 * (one function, unwind(), serves both):
 *
 *   step                               undone by
 *   log level                          dk__log_reset
 *   sysfs root, allow/deny policy,     dk__bus_policy_clear, VFIO backend
 *   VFIO backend request               request back to auto
 *   bus scan (the IOVA plan needs it)  dk__bus_cleanup_all, then dk__vfio_cleanup
 *   (PCI, then mdev)                   (mdev first, then PCI)
 *                                      (VFIO has no step of its own: containers
 *                                      appear on first use and the default one
 *                                      goes once every device is closed)
 *   memory instance (mem attach)       dk__mem_detach
 *   device memory (DMA domains)        dk__dma_cleanup
 *   IOVA plan (primary only)           dk__dma_plan_done (closes the group it held)
 *   memory start (primary only)        dk__mem_stop
 *   probe                              dk__bus_remove_all, then dk__p2p_cleanup
 *   (PCI devices, then mdevs: a        (mdevs first: a vfio-pci one leaves
 *   vfio-pci one joins the PCI bus)    the PCI bus)
 *
 * The plan's group stays open until the probe is over (so the container keeps
 * its IOMMU), then dk_init closes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/init.h>
#include <dmakit/pci.h>

#include "bus/bus_internal.h"
#include "bus/mdev/mdev_internal.h"
#include "bus/pci/pci_internal.h"
#include "cdev/cdev_internal.h"
#include "core/sysfs.h"
#include "dma/dma_layer.h"
#include "dma/dma_plan.h"
#include "mem/mem_config.h"
#include "mem/mem_init.h"
#include "p2p/p2p_internal.h"
#include "vfio/vfio_internal.h"

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

/* Steps of dk_init, in order (see the top of this file). */
enum step {
	STEP_NONE,
	STEP_LOG,
	STEP_POLICY,
	STEP_SCAN,
	STEP_MEM_ATTACH,
	STEP_DMA,
	STEP_PLAN,
	STEP_MEM_START,
	STEP_PROBE,
};

/* Undo one step. */
static void undo(enum step s)
{
	switch (s) {
	case STEP_PROBE:
		dk__bus_remove_all();
		dk__cdev_cleanup();
		dk__p2p_cleanup(); /* drivers are gone; providers before the devices */
		break;
	case STEP_MEM_START:
		dk__mem_stop();
		break;
	case STEP_PLAN:
		dk__dma_plan_done();
		break;
	case STEP_DMA:
		dk__dma_cleanup();
		break;
	case STEP_MEM_ATTACH:
		dk__mem_detach();
		break;
	case STEP_SCAN:
		dk__bus_cleanup_all();
		dk__vfio_cleanup();
		break;
	case STEP_POLICY:
		dk__bus_policy_clear();
		dk__vfio_set_backend(DK_VFIO_BACKEND_AUTO);
		break;
	case STEP_LOG:
		dk__log_reset();
		break;
	case STEP_NONE:
		break;
	}
}

/* Undo the steps from reached down to last, in strict reverse order. */
static void unwind(enum step reached, enum step last)
{
	for (int s = (int)reached; s >= (int)last && s > STEP_NONE; s--)
		undo((enum step)s);
}

static int set_sysfs_root(const struct dk_init_params *p)
{
	int rc = dk__sysfs_set_root(p->sysfs_root);
	if (rc < 0)
		return rc;
	if (access(dk_sysfs_root(), F_OK) != 0) {
		DK_ERR("sysfs root %s does not exist: mount sysfs, or fix %s", dk_sysfs_root(),
		       p->sysfs_root ? "dk_init_params.sysfs_root" : "DMAKIT_SYSFS_ROOT");
		return -ENOENT;
	}
	return 0;
}

/* The allow/deny lists of p, else of the environment. */
static int set_policy(const struct dk_init_params *p)
{
	static char allow_buf[4096], deny_buf[4096];
	static const char *allow_env[DK_INIT_MAX_DEVARGS + 1], *deny_env[DK_INIT_MAX_DEVARGS + 1];
	const char *const *allow = p->allow, *const *deny = p->deny;
	if (!allow && !deny) {
		int rc = env_list("DMAKIT_ALLOW", allow_buf, sizeof(allow_buf), allow_env,
				  DK_INIT_MAX_DEVARGS);
		if (rc == 0)
			rc = env_list("DMAKIT_DENY", deny_buf, sizeof(deny_buf), deny_env,
				      DK_INIT_MAX_DEVARGS);
		if (rc < 0)
			return rc;
		allow = allow_env;
		deny = deny_env;
	}
	return dk__bus_policy_set(allow, deny);
}

/* The VFIO backend request: p's, else DMAKIT_VFIO_BACKEND as it is now (a bad
 * word fails dk_init rather than the first device open). */
static int set_vfio_backend(const struct dk_init_params *p)
{
	if (p->vfio_backend)
		return dk__vfio_set_backend(p->vfio_backend);
	return dk__vfio_backend_capture();
}

/* Built-in buses are registered here, once, and stay registered: PCI first,
 * then mdev (scanned after PCI, probed after PCI devices so its vfio-pci
 * instances join the PCI bus at probe, and torn down before the PCI bus),
 * with the mdev driver for "vfio-pci". */
static int register_buses(void)
{
	if (dk_bus_find_by_name(dk__pci_bus.name))
		return 0;
	int rc = dk_bus_register(&dk__pci_bus);
	if (rc < 0)
		return rc;
	rc = dk_bus_register(&dk__mdev_bus);
	if (rc < 0)
		goto err_pci;
	rc = dk_mdev_driver_register(&dk__mdev_vfio_pci_driver);
	if (rc < 0)
		goto err_mdev;
	return 0;

err_mdev:
	dk_bus_unregister(&dk__mdev_bus);
err_pci:
	dk_bus_unregister(&dk__pci_bus);
	return rc;
}

static void mem_params(const struct dk_init_params *p, struct dk__mem_params *m)
{
	memset(m, 0, sizeof(*m));
	m->huge = p->huge;
	m->huge_page_size = p->huge_page_size;
	m->iova_mode = p->iova_mode;
	m->proc_type = p->proc_type;
	m->in_memory = (p->flags & DK_INIT_IN_MEMORY) != 0;
	m->prefix = p->prefix;
	m->runtime_dir = p->runtime_dir;
	m->mem_limit = p->mem_limit;
}

/* Climb the ladder; *reached is the last step done. */
static int bring_up(const struct dk_init_params *p, enum step *reached)
{
	struct dk__mem_params mp;
	struct dk__mem_options mo;
	int rc = dk__log_init(p->log_level);
	if (rc < 0)
		return rc;
	*reached = STEP_LOG;
	if ((rc = set_sysfs_root(p)) < 0 || (rc = set_policy(p)) < 0)
		return rc;
	*reached = STEP_POLICY;
	if ((rc = set_vfio_backend(p)) < 0)
		return rc;
	*reached = STEP_POLICY;
	mem_params(p, &mp);
	if ((rc = dk__mem_options(&mp, &mo)) < 0 || (rc = register_buses()) < 0)
		return rc;
	/* Scan first: the IOVA plan depends on the devices bound to vfio-pci;
	 * drivers probe once memory is there. */
	if (!(p->flags & DK_INIT_NO_SCAN) && (rc = dk__bus_scan_all()) < 0)
		return rc;
	*reached = STEP_SCAN;
	if ((rc = dk__mem_attach(&mo)) < 0)
		return rc;
	int secondary = rc == 1; /* everything below the probe is the primary's */
	*reached = STEP_MEM_ATTACH;
	dk__dma_init();
	*reached = STEP_DMA;
	if (!secondary) {
		struct dk__mem_iova_plan plan;
		if ((rc = dk__dma_plan(mo.iova_request, dk__pci_dma_limit(), &plan)) < 0)
			return rc;
		*reached = STEP_PLAN;
		if ((rc = dk__mem_start(&mo, &plan)) < 0)
			return rc;
	}
	*reached = STEP_MEM_START;
	if (!(p->flags & (DK_INIT_NO_SCAN | DK_INIT_NO_PROBE)) && (rc = dk__bus_probe_all()) < 0)
		return rc;
	*reached = STEP_PROBE;
	dk__dma_plan_done();
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
	enum step reached = STEP_NONE;
	int rc = bring_up(&p, &reached);
	if (rc < 0) {
		unwind(reached, STEP_LOG);
		return rc;
	}
	g_initialized = 1;
	return 0;
}

void dk_cleanup(void)
{
	if (!g_initialized)
		return;
	/* Everything but the log level, which stays as it is (a failed dk_init
	 * resets it: nothing of that attempt stays). */
	unwind(STEP_PROBE, STEP_POLICY);
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
