/* SPDX-License-Identifier: BSD-3-Clause */
/* Children of multi-process tests (contract: child.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

const char *dk_test_scen = "?";

pid_t dk_test_spawn(const char *scen, const char *const *env)
{
	pid_t pid = fork();
	if (pid == 0) {
		setenv("DK_MP_CHILD", scen, 1);
		setenv("DMAKIT_PROC_TYPE", "secondary", 1);
		for (int i = 0; env && env[i]; i += 2)
			setenv(env[i], env[i + 1], 1);
		execl("/proc/self/exe", program_invocation_short_name, (char *)NULL);
		_exit(98);
	}
	return pid;
}

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int dk_test_wait(pid_t pid)
{
	int st;
	if (pid <= 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return status_of(st);
}

int dk_test_wait_for(pid_t pid, int secs)
{
	if (pid <= 0)
		return -1;
	for (int i = 0; i < secs * 1000; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return status_of(st);
		if (r < 0)
			return -1;
		struct timespec ts = {0, 1000 * 1000}; /* a killed child is reaped at once */
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fprintf(stderr, "# child %d did not end within %d s (blocked?): killed\n", (int)pid, secs);
	return -1;
}
