/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/log.h - leveled logging with a registrable sink.
 *
 * Levels follow syslog numbering. The threshold comes from, in order of
 * precedence: dk_log_set_level(), dk_init_params.log_level, the
 * DMAKIT_LOG_LEVEL environment variable (a name such as "debug" or a
 * number 1..8), and the default DK_LOG_NOTICE.
 *
 * The default sink writes "dmakit: <component>: <message>\n" to stderr.
 * A registered sink receives every message at or below the threshold,
 * already formatted, without trailing newline.
 *
 * Thread-safety: every function may be called from any thread. The sink
 * is called without any dmakit lock held, so it may call into dmakit
 * (but must not call dk_log_set_sink from inside itself).
 */
#ifndef DMAKIT_LOG_H
#define DMAKIT_LOG_H

#include <stdarg.h>
#include <dmakit/common.h>

DK_BEGIN_DECLS

enum dk_log_level {
	DK_LOG_EMERG = 1,
	DK_LOG_ALERT,
	DK_LOG_CRIT,
	DK_LOG_ERR,
	DK_LOG_WARNING,
	DK_LOG_NOTICE,
	DK_LOG_INFO,
	DK_LOG_DEBUG,
};

/* Sink callback: level, component ("pci", "sysfs", ...), formatted message. */
typedef void (*dk_log_sink_fn)(enum dk_log_level level, const char *component,
			       const char *msg, void *arg);

/*
 * Set the threshold. Returns 0, or -EINVAL when level is outside
 * DK_LOG_EMERG..DK_LOG_DEBUG.
 */
DK_EXPORT int dk_log_set_level(int level);
DK_EXPORT enum dk_log_level dk_log_get_level(void);

/*
 * Parse a level name ("emerg", "alert", "crit", "err"/"error",
 * "warning"/"warn", "notice", "info", "debug", case-insensitive) or
 * number "1".."8". Returns the level, or -EINVAL.
 */
DK_EXPORT int dk_log_level_parse(const char *s);

/* Name of a level ("err", ...), or "unknown". */
DK_EXPORT const char *dk_log_level_name(int level);

/* Install a sink; NULL restores the default stderr sink. */
DK_EXPORT void dk_log_set_sink(dk_log_sink_fn fn, void *arg);

/* Emit a message (dropped when above the threshold). */
DK_EXPORT void dk_log(enum dk_log_level level, const char *component, const char *fmt, ...)
	DK_PRINTF(3, 4);
DK_EXPORT void dk_vlog(enum dk_log_level level, const char *component, const char *fmt,
		       va_list ap) DK_PRINTF(3, 0);

/*
 * Shortcuts for code that logs under one component name (the library's layers,
 * drivers): #define DK_LOG_COMPONENT "name" before using them. DK_ERR(fmt, ...)
 * is dk_log(DK_LOG_ERR, DK_LOG_COMPONENT, fmt, ...). Per-device shortcuts that
 * prefix the device's name are in dmakit/bus.h (DK_DEV_ERR, ...).
 */
#define DK_ERR(...) dk_log(DK_LOG_ERR, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_WARN(...) dk_log(DK_LOG_WARNING, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_NOTICE(...) dk_log(DK_LOG_NOTICE, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_INFO(...) dk_log(DK_LOG_INFO, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_DEBUG(...) dk_log(DK_LOG_DEBUG, DK_LOG_COMPONENT, __VA_ARGS__)

DK_END_DECLS

#endif
