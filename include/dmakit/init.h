/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/init.h - library start-up and shut-down.
 *
 * dk_init() brings the library up in steps: log level, sysfs root and
 * allow/deny lists; the bus scan; the memory instance (in memory, primary
 * or secondary); device memory (DMA domains for VFIO containers); for a
 * primary the IOVA plan (from the IOMMU and the drivers' DMA masks) and the
 * heaps; then the probe of registered drivers. dk_cleanup() undoes the
 * steps in reverse order (the log level stays). After a failed dk_init()
 * every step it took is undone, so both may be called again.
 *
 * Settings come from the params struct; anything it leaves unset
 * (0 / NULL) is taken from the environment, then from the default:
 *   field          environment          default
 *   log_level      DMAKIT_LOG_LEVEL     notice
 *   sysfs_root     DMAKIT_SYSFS_ROOT    "/sys"
 *   allow          DMAKIT_ALLOW         (none: every device)
 *   deny           DMAKIT_DENY          (none)
 *   memory fields  see the struct below
 * DMAKIT_ALLOW / DMAKIT_DENY hold devargs separated by ';' or spaces.
 *
 * Thread-safety: dk_init and dk_cleanup must not run concurrently with
 * each other or with any other dmakit call.
 */
#ifndef DMAKIT_INIT_H
#define DMAKIT_INIT_H

#include <dmakit/common.h>
#include <dmakit/devargs.h> /* DK_INIT_MAX_DEVARGS */
#include <dmakit/memory.h>  /* DK_HUGE_*, DK_PROC_* */
#include <dmakit/sysfs.h>   /* dk_sysfs_root */

DK_BEGIN_DECLS

/* Flags for dk_init_params.flags. */
#define DK_INIT_NO_PROBE (1u << 0) /* scan buses, do not probe drivers */
#define DK_INIT_NO_SCAN (1u << 1)  /* do not scan buses at all */
/* Process-private memory: no files in the runtime directory, no secondaries
 * (also DMAKIT_IN_MEMORY=1). Tools that only look at devices use it. */
#define DK_INIT_IN_MEMORY (1u << 2)

struct dk_init_params {
	/* sizeof(struct dk_init_params) as the caller compiled it; set by
	 * dk_init_params_default(). Lets later versions append fields. */
	size_t size;
	int log_level;          /* 0: unset */
	const char *sysfs_root; /* NULL: unset */
	/* NULL-terminated arrays of devargs strings; NULL: unset. A device
	 * is probed if it matches an allow entry (when any is given) and no
	 * deny entry. Giving both is -EINVAL. */
	const char *const *allow;
	const char *const *deny;
	unsigned int flags; /* DK_INIT_* */

	/* Memory (dmakit/memory.h, dmakit/malloc.h). 0 / NULL: environment, then default. */
	int huge;                /* DK_HUGE_*           DMAKIT_HUGE=auto|never|always */
	size_t huge_page_size;   /* 2 MiB or 1 GiB      DMAKIT_HUGE_PAGE_SIZE=2M|1G (default: system's) */
	int iova_mode;           /* enum dk_iova_mode   DMAKIT_IOVA_MODE=auto|va|pa */
	int proc_type;           /* DK_PROC_*           DMAKIT_PROC_TYPE=auto|primary|secondary */
	const char *prefix;      /* instance name       DMAKIT_PREFIX (default "dmakit") */
	const char *runtime_dir; /* shared files        DMAKIT_RUNTIME_DIR */
	uint64_t mem_limit;      /* bytes of internal memory at most; DMAKIT_MEM_LIMIT (K/M/G suffix) */

	/* VFIO (dmakit/vfio.h "backends"). 0: environment, then auto. */
	int vfio_backend;        /* enum dk_vfio_backend DMAKIT_VFIO_BACKEND=auto|container|iommufd */
};

/* DK_HUGE_* and DK_PROC_* are in dmakit/memory.h. */

/* Fill p with "everything unset" and p->size = sizeof(*p). */
DK_EXPORT void dk_init_params_default(struct dk_init_params *p);

/*
 * Initialise the library. params may be NULL (all defaults).
 * Errors:
 *   -EALREADY  already initialised (call dk_cleanup first)
 *   -EINVAL    params->size is 0 or larger than this library knows with
 *              non-zero unknown fields; bad log level; bad devargs in
 *              allow/deny; both allow and deny given; a vfio_backend or
 *              DMAKIT_VFIO_BACKEND that is none of auto, container, iommufd
 *   -ENOENT    sysfs root does not exist
 *   -E2BIG     more than DK_INIT_MAX_DEVARGS allow/deny entries
 *   -ENOTSUP   DMAKIT_IOVA_MODE=pa without access to physical addresses
 *   -EBUSY     proc_type primary while another primary of the prefix runs
 *   -ENOENT    proc_type secondary (or auto finding the lock taken) without a
 *              running, set-up primary of the prefix
 *   -EADDRINUSE a secondary whose VA range for the shared memory is taken
 *   -EPROTO    the runtime directory holds a config of another version
 *   -ENOMEM    out of memory
 *   any error of a bus scan or probe that is fatal (a driver probe that
 *   fails is logged and is not fatal)
 */
DK_EXPORT int dk_init(const struct dk_init_params *params);

/* Undo dk_init; a no-op when not initialised. */
DK_EXPORT void dk_cleanup(void);

/*
 * What dk_init made of this process: DK_PROC_PRIMARY (also an in-memory
 * process) or DK_PROC_SECONDARY; DK_PROC_AUTO (0) when not initialised.
 */
DK_EXPORT int dk_process_type(void);

/* 1 between a successful dk_init and dk_cleanup, else 0. */
DK_EXPORT int dk_initialized(void);

DK_END_DECLS

#endif
