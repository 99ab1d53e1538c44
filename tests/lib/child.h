/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-process tests: the test binary runs itself again as a child for a
 * scenario. The child finds its scenario in DK_MP_CHILD (a constructor of
 * the test reads it before main) and starts as a secondary process
 * (DMAKIT_PROC_TYPE=secondary) unless env says otherwise.
 */
#ifndef DK_TESTS_CHILD_H
#define DK_TESTS_CHILD_H

#include <sys/types.h>

/* fork + exec /proc/self/exe with DK_MP_CHILD=scen, DMAKIT_PROC_TYPE=secondary
 * and env (NULL, or name, value, ..., NULL pairs set last). The child's pid,
 * or -1. In the child, a failing exec exits 98. */
pid_t dk_test_spawn(const char *scen, const char *const *env);
/* Exit status of child pid, 128 + its signal, or -1 (not our child). */
int dk_test_wait(pid_t pid);
/* The same within secs seconds; a child still running then is killed
 * (a survivor that hangs fails the test: message on stderr) and -1. */
int dk_test_wait_for(pid_t pid, int secs);

#endif
