/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime directory: where the processes of one dmakit instance (a
 * primary and its secondaries) keep their shared files.
 *
 * dir    = runtime_dir (dk_init_params) or $DMAKIT_RUNTIME_DIR, else
 *          /var/run/dmakit as root, else $XDG_RUNTIME_DIR/dmakit, else
 *          /tmp/dmakit-<uid>;
 * prefix = prefix (dk_init_params) or $DMAKIT_PREFIX, else "dmakit":
 *          1..63 characters of [A-Za-z0-9_.-];
 * the instance directory is <dir>/<prefix>, created with mode 0700.
 *
 * Files in it: primary.lock (the primary holds flock(LOCK_EX) on it for its
 * lifetime) and config (the memory layer's shared state, src/mem/mem_config.h).
 */
#ifndef DK_CORE_RUNTIME_H
#define DK_CORE_RUNTIME_H

#include <stddef.h>

#define DK__RUNTIME_PATH_MAX 4096
#define DK__PREFIX_MAX 64 /* with the NUL */

struct dk__runtime {
	char prefix[DK__PREFIX_MAX];
	char dir[DK__RUNTIME_PATH_MAX]; /* <base>/<prefix> */
};

/*
 * Resolve dir and prefix (NULL: environment, then default) into rt; does not
 * touch the file system. -EINVAL bad prefix, -ENAMETOOLONG (both logged).
 */
int dk__runtime_resolve(const char *runtime_dir, const char *prefix, struct dk__runtime *rt);
/* Create rt->dir (and missing parents) with mode 0700. 0 or -errno (logged). */
int dk__runtime_mkdir(const struct dk__runtime *rt);
/* <rt->dir>/<name> into out. 0 or -ENAMETOOLONG. */
int dk__runtime_path(const struct dk__runtime *rt, const char *name, char *out, size_t n);

#endif
