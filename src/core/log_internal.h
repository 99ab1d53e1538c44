/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal logging shortcuts: each file defines DK_LOG_COMPONENT first. */
#ifndef DK_CORE_LOG_INTERNAL_H
#define DK_CORE_LOG_INTERNAL_H

#include <dmakit/log.h>

#define DK_ERR(...) dk_log(DK_LOG_ERR, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_WARN(...) dk_log(DK_LOG_WARNING, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_NOTICE(...) dk_log(DK_LOG_NOTICE, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_INFO(...) dk_log(DK_LOG_INFO, DK_LOG_COMPONENT, __VA_ARGS__)
#define DK_DEBUG(...) dk_log(DK_LOG_DEBUG, DK_LOG_COMPONENT, __VA_ARGS__)

/* Forget every level (application's and dk_init's): back to the default. */
void dk__log_reset(void);
/* The application's override (0: none), raw; for saving and restoring it. */
int dk__log_user_level(void);
void dk__log_set_user_level(int level);
/* Apply the level from params (0: unset) or DMAKIT_LOG_LEVEL. -EINVAL on a bad value. */
int dk__log_init(int level);

#endif
