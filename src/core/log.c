/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging. The threshold and sink are atomics / a mutex-protected pair so
 * any thread may log while another changes them; the sink is called
 * without the lock (a snapshot of fn/arg is taken under it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <dmakit/log.h>
#include "core/log_internal.h"

/* Precedence: the application's dk_log_set_level, then dk_init's
 * (params, then environment), then DK_LOG_NOTICE. 0 means unset. */
static int g_user_level;
static int g_level;
static dk_log_sink_fn g_sink_fn; /* NULL: stderr */
static void *g_sink_arg;
static pthread_mutex_t g_sink_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const g_names[] = {
	[DK_LOG_EMERG] = "emerg",  [DK_LOG_ALERT] = "alert",   [DK_LOG_CRIT] = "crit",
	[DK_LOG_ERR] = "err",      [DK_LOG_WARNING] = "warning", [DK_LOG_NOTICE] = "notice",
	[DK_LOG_INFO] = "info",    [DK_LOG_DEBUG] = "debug",
};

int dk_log_set_level(int level)
{
	if (level < DK_LOG_EMERG || level > DK_LOG_DEBUG)
		return -EINVAL;
	__atomic_store_n(&g_user_level, level, __ATOMIC_RELAXED);
	return 0;
}

enum dk_log_level dk_log_get_level(void)
{
	int l = __atomic_load_n(&g_user_level, __ATOMIC_RELAXED);
	if (!l)
		l = __atomic_load_n(&g_level, __ATOMIC_RELAXED);
	return l ? (enum dk_log_level)l : DK_LOG_NOTICE;
}

int dk__log_user_level(void)
{
	return __atomic_load_n(&g_user_level, __ATOMIC_RELAXED);
}

void dk__log_set_user_level(int level)
{
	__atomic_store_n(&g_user_level, level, __ATOMIC_RELAXED);
}

int dk_log_level_parse(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	if (s[0] >= '1' && s[0] <= '8' && s[1] == '\0')
		return s[0] - '0';
	for (int i = DK_LOG_EMERG; i <= DK_LOG_DEBUG; i++)
		if (strcasecmp(s, g_names[i]) == 0)
			return i;
	if (strcasecmp(s, "error") == 0)
		return DK_LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return DK_LOG_WARNING;
	return -EINVAL;
}

const char *dk_log_level_name(int level)
{
	if (level < DK_LOG_EMERG || level > DK_LOG_DEBUG)
		return "unknown";
	return g_names[level];
}

void dk_log_set_sink(dk_log_sink_fn fn, void *arg)
{
	pthread_mutex_lock(&g_sink_lock);
	g_sink_fn = fn;
	g_sink_arg = arg;
	pthread_mutex_unlock(&g_sink_lock);
}

void dk_vlog(enum dk_log_level level, const char *component, const char *fmt, va_list ap)
{
	if ((int)level > (int)dk_log_get_level())
		return;
	char msg[1024];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	/* Strip one trailing newline so sinks get bare messages. */
	size_t len = strlen(msg);
	if (len && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	if (!component)
		component = "dmakit";

	pthread_mutex_lock(&g_sink_lock);
	dk_log_sink_fn fn = g_sink_fn;
	void *arg = g_sink_arg;
	pthread_mutex_unlock(&g_sink_lock);

	if (fn)
		fn(level, component, msg, arg);
	else
		fprintf(stderr, "dmakit: %s: %s\n", component, msg);
}

void dk_log(enum dk_log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dk_vlog(level, component, fmt, ap);
	va_end(ap);
}

void dk__log_reset(void)
{
	__atomic_store_n(&g_level, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g_user_level, 0, __ATOMIC_RELAXED);
}

int dk__log_init(int level)
{
	if (level) {
		if (level < DK_LOG_EMERG || level > DK_LOG_DEBUG) {
			dk_log(DK_LOG_ERR, "log",
			       "log_level %d is out of range: use 1 (emerg) .. 8 (debug)", level);
			return -EINVAL;
		}
		__atomic_store_n(&g_level, level, __ATOMIC_RELAXED);
		return 0;
	}
	const char *env = getenv("DMAKIT_LOG_LEVEL");
	if (!env || !*env)
		return 0;
	int l = dk_log_level_parse(env);
	if (l < 0) {
		dk_log(DK_LOG_ERR, "log",
		       "DMAKIT_LOG_LEVEL=\"%s\" is not a level: use emerg, alert, crit, err, warning, notice, info, debug or 1..8",
		       env);
		return -EINVAL;
	}
	__atomic_store_n(&g_level, l, __ATOMIC_RELAXED);
	return 0;
}
