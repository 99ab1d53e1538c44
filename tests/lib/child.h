/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-process tests: the test binary runs itself again as a child for a
 * scenario. The child finds its scenario in DK_MP_CHILD (a constructor of
 * the test reads it before main) and starts as a secondary process
 * (DMAKIT_PROC_TYPE=secondary) unless env says otherwise.
 */
#ifndef DK_TESTS_CHILD_H
#define DK_TESTS_CHILD_H

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* fork + exec /proc/self/exe with DK_MP_CHILD=scen, DMAKIT_PROC_TYPE=secondary
 * and env (NULL, or name, value, ..., NULL pairs set last). The child's pid,
 * or -1. In the child, a failing exec exits 98. */
pid_t dk_test_spawn(const char *scen, const char *const *env);
/* Exit status of child pid, 128 + its signal, or -1 (not our child). */
int dk_test_wait(pid_t pid);
/* The same within secs seconds; a child still running then is killed
 * (a survivor that hangs fails the test: message on stderr) and -1. */
int dk_test_wait_for(pid_t pid, int secs);

/* The scenario a child runs (set by the test when it starts one), named by
 * C_CHECK's message. */
extern const char *dk_test_scen;

/* In a child: when c is false, say where on stderr and exit with a status
 * the parent reports (the line number, 1..250). */
#define C_CHECK(c)                                                                         \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "# child %s: %s:%d: %s failed (errno %d)\n",       \
				dk_test_scen, __FILE__, __LINE__, #c, errno);              \
			_exit(__LINE__ % 250 + 1);                                         \
		}                                                                          \
	} while (0)

#endif
