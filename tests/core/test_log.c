/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for src/core/log.c: levels, sinks, environment, threads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dmakit/log.h>

#include "core/log_internal.h"
#include "tap.h"

/* ---- a recording sink --------------------------------------------------- */

struct record {
	int calls;
	int level;
	char component[64];
	char msg[2048];
};

static void record_sink(enum dk_log_level level, const char *component, const char *msg,
			void *arg)
{
	struct record *r = arg;
	r->calls++;
	r->level = (int)level;
	snprintf(r->component, sizeof(r->component), "%s", component);
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

/* Saves and restores DMAKIT_LOG_LEVEL around a test (meson sets it to "err"). */
static char g_saved_env[64];
static int g_saved_env_set;

static void env_save(void)
{
	const char *v = getenv("DMAKIT_LOG_LEVEL");
	g_saved_env_set = v != NULL;
	snprintf(g_saved_env, sizeof(g_saved_env), "%s", v ? v : "");
}

static void env_restore(void)
{
	if (g_saved_env_set)
		setenv("DMAKIT_LOG_LEVEL", g_saved_env, 1);
	else
		unsetenv("DMAKIT_LOG_LEVEL");
}

/* ---- level names -------------------------------------------------------- */

DK_TEST(level_parse_names)
{
	CHECK_INT_EQ(dk_log_level_parse("emerg"), DK_LOG_EMERG);
	CHECK_INT_EQ(dk_log_level_parse("alert"), DK_LOG_ALERT);
	CHECK_INT_EQ(dk_log_level_parse("crit"), DK_LOG_CRIT);
	CHECK_INT_EQ(dk_log_level_parse("err"), DK_LOG_ERR);
	CHECK_INT_EQ(dk_log_level_parse("warning"), DK_LOG_WARNING);
	CHECK_INT_EQ(dk_log_level_parse("notice"), DK_LOG_NOTICE);
	CHECK_INT_EQ(dk_log_level_parse("info"), DK_LOG_INFO);
	CHECK_INT_EQ(dk_log_level_parse("debug"), DK_LOG_DEBUG);
	/* Case-insensitive. */
	CHECK_INT_EQ(dk_log_level_parse("DEBUG"), DK_LOG_DEBUG);
	CHECK_INT_EQ(dk_log_level_parse("Notice"), DK_LOG_NOTICE);
	CHECK_INT_EQ(dk_log_level_parse("eMeRg"), DK_LOG_EMERG);
}

DK_TEST(level_parse_aliases)
{
	CHECK_INT_EQ(dk_log_level_parse("error"), DK_LOG_ERR);
	CHECK_INT_EQ(dk_log_level_parse("ERROR"), DK_LOG_ERR);
	CHECK_INT_EQ(dk_log_level_parse("warn"), DK_LOG_WARNING);
	CHECK_INT_EQ(dk_log_level_parse("Warn"), DK_LOG_WARNING);
}

DK_TEST(level_parse_numbers)
{
	for (int i = 1; i <= 8; i++) {
		char s[2] = { (char)('0' + i), '\0' };
		CHECK_INT_EQ(dk_log_level_parse(s), i);
	}
	CHECK_INT_EQ(dk_log_level_parse("0"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("9"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("10"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("-1"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("08"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("3x"), -EINVAL);
}

DK_TEST(level_parse_bad)
{
	CHECK_INT_EQ(dk_log_level_parse(NULL), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse(""), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("loud"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("errors"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("de"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse(" err"), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("err "), -EINVAL);
	CHECK_INT_EQ(dk_log_level_parse("unknown"), -EINVAL);
}

DK_TEST(level_names)
{
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_EMERG), "emerg");
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_ALERT), "alert");
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_CRIT), "crit");
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_ERR), "err");
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_WARNING), "warning");
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_NOTICE), "notice");
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_INFO), "info");
	CHECK_STR_EQ(dk_log_level_name(DK_LOG_DEBUG), "debug");
	CHECK_STR_EQ(dk_log_level_name(0), "unknown");
	CHECK_STR_EQ(dk_log_level_name(9), "unknown");
	CHECK_STR_EQ(dk_log_level_name(-4), "unknown");
	/* name -> parse round trip */
	for (int i = DK_LOG_EMERG; i <= DK_LOG_DEBUG; i++)
		CHECK_INT_EQ(dk_log_level_parse(dk_log_level_name(i)), i);
}

/* ---- threshold ---------------------------------------------------------- */

DK_TEST(set_get_level_bounds)
{
	dk__log_reset();
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_NOTICE); /* unset -> default */
	CHECK_INT_EQ(dk_log_set_level(DK_LOG_EMERG), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_EMERG);
	CHECK_INT_EQ(dk_log_set_level(DK_LOG_DEBUG), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_DEBUG);
	CHECK_INT_EQ(dk_log_set_level(DK_LOG_WARNING), 0);
	/* Out of range: rejected, threshold unchanged. */
	CHECK_INT_EQ(dk_log_set_level(0), -EINVAL);
	CHECK_INT_EQ(dk_log_set_level(9), -EINVAL);
	CHECK_INT_EQ(dk_log_set_level(-1), -EINVAL);
	CHECK_INT_EQ(dk_log_set_level(1000), -EINVAL);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_WARNING);
	dk__log_reset();
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_NOTICE);
}

/* ---- sinks -------------------------------------------------------------- */

DK_TEST(sink_gets_formatted_message)
{
	struct record r = { 0 };
	dk_log_set_level(DK_LOG_DEBUG);
	dk_log_set_sink(record_sink, &r);
	dk_log(DK_LOG_ERR, "pci", "bar %d of %s is %#x bytes", 2, "0000:03:00.0", 0x1000);
	dk_log_set_sink(NULL, NULL);
	CHECK_INT_EQ(r.calls, 1);
	CHECK_INT_EQ(r.level, DK_LOG_ERR);
	CHECK_STR_EQ(r.component, "pci");
	CHECK_STR_EQ(r.msg, "bar 2 of 0000:03:00.0 is 0x1000 bytes");
}

DK_TEST(sink_null_component_is_dmakit)
{
	struct record r = { 0 };
	dk_log_set_level(DK_LOG_DEBUG);
	dk_log_set_sink(record_sink, &r);
	dk_log(DK_LOG_WARNING, NULL, "x");
	dk_log_set_sink(NULL, NULL);
	CHECK_INT_EQ(r.calls, 1);
	CHECK_INT_EQ(r.level, DK_LOG_WARNING);
	CHECK_STR_EQ(r.component, "dmakit");
	CHECK_STR_EQ(r.msg, "x");
}

/* Forward a printf-style call through dk_vlog. */
static void vlog_wrapper(enum dk_log_level level, const char *fmt, ...) DK_PRINTF(2, 3);
static void vlog_wrapper(enum dk_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dk_vlog(level, "vcomp", fmt, ap);
	va_end(ap);
}

DK_TEST(vlog_formats)
{
	struct record r = { 0 };
	dk_log_set_level(DK_LOG_DEBUG);
	dk_log_set_sink(record_sink, &r);
	vlog_wrapper(DK_LOG_INFO, "%s=%llu", "size", 1ull << 40);
	dk_log_set_sink(NULL, NULL);
	CHECK_INT_EQ(r.calls, 1);
	CHECK_INT_EQ(r.level, DK_LOG_INFO);
	CHECK_STR_EQ(r.component, "vcomp");
	CHECK_STR_EQ(r.msg, "size=1099511627776");
}

DK_TEST(messages_above_threshold_dropped)
{
	struct record r = { 0 };
	dk_log_set_sink(record_sink, &r);
	REQUIRE_INT_EQ(dk_log_set_level(DK_LOG_WARNING), 0);
	dk_log(DK_LOG_DEBUG, "t", "debug");
	dk_log(DK_LOG_INFO, "t", "info");
	dk_log(DK_LOG_NOTICE, "t", "notice");
	CHECK_INT_EQ(r.calls, 0);
	dk_log(DK_LOG_WARNING, "t", "warning");
	CHECK_INT_EQ(r.calls, 1);
	CHECK_STR_EQ(r.msg, "warning");
	dk_log(DK_LOG_ERR, "t", "err");
	CHECK_INT_EQ(r.calls, 2);
	CHECK_STR_EQ(r.msg, "err");
	dk_log(DK_LOG_EMERG, "t", "emerg");
	CHECK_INT_EQ(r.calls, 3);

	REQUIRE_INT_EQ(dk_log_set_level(DK_LOG_EMERG), 0);
	dk_log(DK_LOG_ALERT, "t", "alert");
	CHECK_INT_EQ(r.calls, 3);
	dk_log(DK_LOG_EMERG, "t", "emerg2");
	CHECK_INT_EQ(r.calls, 4);
	CHECK_STR_EQ(r.msg, "emerg2");

	/* Unset threshold: NOTICE passes, INFO does not. */
	dk__log_reset();
	dk_log(DK_LOG_INFO, "t", "info2");
	CHECK_INT_EQ(r.calls, 4);
	dk_log(DK_LOG_NOTICE, "t", "notice2");
	CHECK_INT_EQ(r.calls, 5);

	REQUIRE_INT_EQ(dk_log_set_level(DK_LOG_DEBUG), 0);
	dk_log(DK_LOG_DEBUG, "t", "debug2");
	CHECK_INT_EQ(r.calls, 6);
	CHECK_INT_EQ(r.level, DK_LOG_DEBUG);
	dk_log_set_sink(NULL, NULL);
}

DK_TEST(trailing_newline_stripped)
{
	struct record r = { 0 };
	dk_log_set_level(DK_LOG_DEBUG);
	dk_log_set_sink(record_sink, &r);
	dk_log(DK_LOG_ERR, "t", "with newline\n");
	CHECK_STR_EQ(r.msg, "with newline");
	dk_log(DK_LOG_ERR, "t", "%s\n", "formatted");
	CHECK_STR_EQ(r.msg, "formatted");
	dk_log(DK_LOG_ERR, "t", "\n");
	CHECK_STR_EQ(r.msg, "");
	/* Only the trailing one: inner newlines stay. */
	dk_log(DK_LOG_ERR, "t", "a\nb\n");
	CHECK_STR_EQ(r.msg, "a\nb");
	dk_log(DK_LOG_ERR, "t", "no newline");
	CHECK_STR_EQ(r.msg, "no newline");
	dk_log_set_sink(NULL, NULL);
	CHECK_INT_EQ(r.calls, 5);
}

DK_TEST(long_message_truncated_not_overflowed)
{
	static char big[3000];
	static struct record r;
	memset(&r, 0, sizeof(r));
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dk_log_set_level(DK_LOG_DEBUG);
	dk_log_set_sink(record_sink, &r);
	dk_log(DK_LOG_ERR, "t", "%s", big);
	dk_log_set_sink(NULL, NULL);
	CHECK_INT_EQ(r.calls, 1);
	size_t n = strlen(r.msg);
	CHECK(n >= 512 && n < sizeof(big) - 1);
	CHECK(strncmp(r.msg, big, n) == 0);
}

/* Capture what the default sink writes to fd 2 while fn runs. */
static int capture_stderr(void (*fn)(void), char *out, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/stderr.txt", dk_test_tmpdir());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	fflush(stderr);
	int saved = dup(2);
	if (saved < 0 || dup2(fd, 2) < 0) {
		close(fd);
		return -errno;
	}
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, out, len - 1, 0);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	return (int)n;
}

static void log_two_default(void)
{
	dk_log(DK_LOG_ERR, "tcomp", "hello %d", 42);
	dk_log(DK_LOG_WARNING, NULL, "bye\n");
	dk_log(DK_LOG_DEBUG, "tcomp", "dropped");
}

DK_TEST(null_sink_restores_default_stderr)
{
	struct record r = { 0 };
	dk_log_set_level(DK_LOG_WARNING);
	dk_log_set_sink(record_sink, &r);
	dk_log(DK_LOG_ERR, "t", "to the sink");
	CHECK_INT_EQ(r.calls, 1);
	dk_log_set_sink(NULL, NULL);
	char out[512];
	int n = capture_stderr(log_two_default, out, sizeof(out));
	REQUIRE(n >= 0);
	/* The recording sink no longer sees anything ... */
	CHECK_INT_EQ(r.calls, 1);
	/* ... the default sink writes "dmakit: <component>: <message>\n". */
	CHECK_STR_EQ(out, "dmakit: tcomp: hello 42\ndmakit: dmakit: bye\n");
}

/* A sink may call into dmakit: the sink lock is not held while it runs. */
static int g_reentry_calls;
static void reentrant_sink(enum dk_log_level level, const char *component, const char *msg,
			   void *arg)
{
	record_sink(level, component, msg, arg);
	g_reentry_calls++;
	if (g_reentry_calls == 1) {
		(void)dk_log_get_level();
		dk_log(DK_LOG_ERR, "inner", "from the sink at %s", dk_log_level_name((int)level));
	}
}

DK_TEST(sink_may_call_into_dmakit)
{
	struct record r = { 0 };
	g_reentry_calls = 0;
	dk_log_set_level(DK_LOG_DEBUG);
	dk_log_set_sink(reentrant_sink, &r);
	dk_log(DK_LOG_WARNING, "outer", "first");
	dk_log_set_sink(NULL, NULL);
	CHECK_INT_EQ(g_reentry_calls, 2);
	CHECK_INT_EQ(r.calls, 2);
	/* The outer call was recorded first, then the inner one from inside it. */
	CHECK_STR_EQ(r.component, "inner");
	CHECK_STR_EQ(r.msg, "from the sink at warning");
	CHECK_INT_EQ(r.level, DK_LOG_ERR);
}

/* ---- dk__log_init: params and environment ------------------------------- */

DK_TEST(log_init_param_level)
{
	env_save();
	setenv("DMAKIT_LOG_LEVEL", "debug", 1);
	dk__log_reset();
	/* A params level wins over the environment. */
	CHECK_INT_EQ(dk__log_init(DK_LOG_CRIT), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_CRIT);

	dk__log_reset();
	dk_test_log_capture_start();
	dk__log_reset();
	CHECK_INT_EQ(dk__log_init(9), -EINVAL);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_NOTICE); /* unchanged */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "log_level 9");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "1 (emerg) .. 8 (debug)");
	CHECK_INT_EQ(dk__log_init(-3), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "log_level -3");
	dk_test_log_capture_stop();
	env_restore();
	dk__log_reset();
}

DK_TEST(log_init_env_good)
{
	env_save();
	static const struct {
		const char *env;
		int level;
	} cases[] = {
		{ "debug", DK_LOG_DEBUG }, { "INFO", DK_LOG_INFO },  { "warn", DK_LOG_WARNING },
		{ "error", DK_LOG_ERR },   { "1", DK_LOG_EMERG },    { "8", DK_LOG_DEBUG },
		{ "crit", DK_LOG_CRIT },   { "notice", DK_LOG_NOTICE },
	};
	for (size_t i = 0; i < DK_ARRAY_SIZE(cases); i++) {
		dk__log_reset();
		setenv("DMAKIT_LOG_LEVEL", cases[i].env, 1);
		CHECK_INT_EQ(dk__log_init(0), 0);
		CHECK_INT_EQ(dk_log_get_level(), cases[i].level);
	}
	/* Unset or empty: the default stays. */
	dk__log_reset();
	unsetenv("DMAKIT_LOG_LEVEL");
	CHECK_INT_EQ(dk__log_init(0), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_NOTICE);
	setenv("DMAKIT_LOG_LEVEL", "", 1);
	CHECK_INT_EQ(dk__log_init(0), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_NOTICE);
	env_restore();
	dk__log_reset();
}

DK_TEST(log_init_env_bad)
{
	env_save();
	static const char *const bad[] = { "loud", "0", "9", "debug2", " info" };
	for (size_t i = 0; i < DK_ARRAY_SIZE(bad); i++) {
		dk_test_log_capture_start();
		dk__log_reset();
		setenv("DMAKIT_LOG_LEVEL", bad[i], 1);
		CHECK_INT_EQ(dk__log_init(0), -EINVAL);
		/* A failed init leaves the threshold unset. */
		CHECK_INT_EQ(dk_log_get_level(), DK_LOG_NOTICE);
		const char *log = dk_test_log_captured();
		CHECK_STR_CONTAINS(log, "err: log: DMAKIT_LOG_LEVEL=");
		CHECK_STR_CONTAINS(log, bad[i]);
		CHECK_STR_CONTAINS(log, "emerg, alert, crit, err, warning, notice, info, debug or 1..8");
	}
	dk_test_log_capture_stop();
	env_restore();
	dk__log_reset();
}

/*
 * log.h: "The threshold comes from, in order of precedence:
 * dk_log_set_level(), dk_init_params.log_level, the DMAKIT_LOG_LEVEL
 * environment variable". So a level set by the application before dk_init
 * must survive dk_init reading the environment.
 */
DK_TEST(log_init_env_does_not_override_set_level)
{
	env_save();
	dk__log_reset();
	REQUIRE_INT_EQ(dk_log_set_level(DK_LOG_DEBUG), 0);
	setenv("DMAKIT_LOG_LEVEL", "err", 1);
	CHECK_INT_EQ(dk__log_init(0), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_DEBUG);
	env_restore();
	dk__log_reset();
}

/* ---- threads ------------------------------------------------------------ */

#define N_LOGGERS 4
#define N_MSGS 20000

struct counter {
	unsigned long calls;
	unsigned long bad; /* message or component not as sent */
};

static void counting_sink(enum dk_log_level level, const char *component, const char *msg,
			  void *arg)
{
	struct counter *c = arg;
	int t, i;
	char tail;
	if (level != DK_LOG_ERR || strcmp(component, "conc") != 0 ||
	    sscanf(msg, "thread %d msg %d%c", &t, &i, &tail) != 2 || t < 0 || t >= N_LOGGERS ||
	    i < 0 || i >= N_MSGS)
		__atomic_fetch_add(&c->bad, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
}

static int g_loggers_done;

static void *logger_thread(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int i = 0; i < N_MSGS; i++)
		dk_log(DK_LOG_ERR, "conc", "thread %d msg %d\n", t, i);
	__atomic_fetch_add(&g_loggers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *swapper_thread(void *arg)
{
	struct counter *c = arg;
	unsigned long swaps = 0;
	while (__atomic_load_n(&g_loggers_done, __ATOMIC_ACQUIRE) < N_LOGGERS) {
		dk_log_set_sink(counting_sink, &c[swaps & 1]);
		swaps++;
		/* Level changes that keep ERR enabled must not drop anything. */
		dk_log_set_level(swaps & 2 ? DK_LOG_ERR : DK_LOG_DEBUG);
	}
	return (void *)(uintptr_t)swaps;
}

DK_TEST(concurrent_logging_while_swapping_sinks)
{
	static struct counter c[2];
	memset(c, 0, sizeof(c));
	g_loggers_done = 0;
	dk_log_set_level(DK_LOG_DEBUG);
	dk_log_set_sink(counting_sink, &c[0]);

	pthread_t loggers[N_LOGGERS], swapper;
	REQUIRE_INT_EQ(pthread_create(&swapper, NULL, swapper_thread, c), 0);
	for (int i = 0; i < N_LOGGERS; i++)
		REQUIRE_INT_EQ(pthread_create(&loggers[i], NULL, logger_thread, (void *)(intptr_t)i), 0);
	for (int i = 0; i < N_LOGGERS; i++)
		pthread_join(loggers[i], NULL);
	void *swaps;
	pthread_join(swapper, &swaps);
	dk_log_set_sink(NULL, NULL);
	dk_log_set_level(DK_LOG_ERR);

	/* Every message went to exactly one of the two sinks, intact. */
	CHECK_INT_EQ(c[0].calls + c[1].calls, (unsigned long)N_LOGGERS * N_MSGS);
	CHECK_INT_EQ(c[0].bad, 0);
	CHECK_INT_EQ(c[1].bad, 0);
	CHECK((uintptr_t)swaps > 0);
}
