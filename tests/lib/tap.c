/* SPDX-License-Identifier: BSD-3-Clause */
#include "tap.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmakit/init.h>
#include <dmakit/log.h>

#include "core/log_internal.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	dk_test_fn fn;
} g_tests[MAX_TESTS];
static int g_ntests;
static int g_failed_now;
static int g_skipped_now;
static char g_skip_reason[256];
static jmp_buf g_jmp;
static char g_tmpdir[256];

static int g_saved_level;
static int g_capturing;
static char *g_log;
static size_t g_log_len, g_log_cap;

void dk_test_register(const char *name, dk_test_fn fn)
{
	if (g_ntests == MAX_TESTS) {
		fprintf(stderr, "tap: too many tests\n");
		abort();
	}
	g_tests[g_ntests].name = name;
	g_tests[g_ntests].fn = fn;
	g_ntests++;
}

void dk_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One TAP diagnostic line: show control characters escaped. */
	printf("# FAIL %s:%d: ", file, line);
	for (const char *c = msg; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stdout);
		else if ((unsigned char)*c < 0x20)
			printf("\\x%02x", (unsigned char)*c);
		else
			putchar(*c);
	}
	putchar('\n');
	g_failed_now = 1;
}

void dk_test_end(void)
{
	longjmp(g_jmp, 1);
}

void dk_test_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_skip_reason, sizeof(g_skip_reason), fmt, ap);
	va_end(ap);
	g_skipped_now = 1;
	longjmp(g_jmp, 1);
}

const char *dk_test_tmpdir(void)
{
	if (!g_tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(g_tmpdir, sizeof(g_tmpdir), "%s/dktest.XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(g_tmpdir)) {
			perror("mkdtemp");
			abort();
		}
	}
	return g_tmpdir;
}

static void capture_sink(enum dk_log_level level, const char *comp, const char *msg, void *arg)
{
	(void)arg;
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: %s: %s\n", dk_log_level_name(level), comp, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (g_log_len + (size_t)n + 1 > g_log_cap) {
		size_t cap = (g_log_cap + (size_t)n + 1) * 2;
		char *p = realloc(g_log, cap);
		if (!p)
			return;
		g_log = p;
		g_log_cap = cap;
	}
	memcpy(g_log + g_log_len, line, (size_t)n + 1);
	g_log_len += (size_t)n;
	if (getenv("DK_TEST_VERBOSE"))
		fprintf(stderr, "%s", line);
}

void dk_test_log_capture_start(void)
{
	g_log_len = 0;
	if (g_log)
		g_log[0] = '\0';
	if (!g_capturing)
		g_saved_level = dk__log_user_level();
	g_capturing = 1;
	dk_log_set_sink(capture_sink, NULL);
	dk_log_set_level(DK_LOG_DEBUG);
}

const char *dk_test_log_captured(void)
{
	return g_log ? g_log : "";
}

void dk_test_log_capture_stop(void)
{
	if (!g_capturing)
		return;
	g_capturing = 0;
	dk_log_set_sink(NULL, NULL);
	dk__log_set_user_level(g_saved_level);
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

static void rm_rf(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", path);
}

int main(int argc, char **argv)
{
	/* volatile: live across the setjmp below. */
	volatile int n = 0, failed = 0, k = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	for (int i = 0; i < g_ntests; i++)
		if (selected(g_tests[i].name, argc, argv))
			n++;
	printf("1..%d\n", n);
	for (volatile int i = 0; i < g_ntests; i++) {
		if (!selected(g_tests[i].name, argc, argv))
			continue;
		k++;
		g_failed_now = 0;
		g_skipped_now = 0;
		if (setjmp(g_jmp) == 0)
			g_tests[i].fn();
		dk_test_log_capture_stop();
		/* A test that ended early (REQUIRE, SKIP) leaves no state to the next. */
		if (dk_initialized())
			dk_cleanup();
		if (g_failed_now) {
			printf("not ok %d - %s\n", k, g_tests[i].name);
			failed++;
		} else if (g_skipped_now) {
			printf("ok %d - %s # SKIP %s\n", k, g_tests[i].name, g_skip_reason);
		} else {
			printf("ok %d - %s\n", k, g_tests[i].name);
		}
	}
	if (g_tmpdir[0] && !getenv("DK_TEST_KEEP_TMP"))
		rm_rf(g_tmpdir);
	free(g_log);
	return failed ? 1 : 0;
}
