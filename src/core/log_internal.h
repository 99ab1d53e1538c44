/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal logging: the level bookkeeping dk_init needs. The shortcuts (DK_ERR,
 * ...; each file defines DK_LOG_COMPONENT first) are public, in dmakit/log.h.
 */
#ifndef DK_CORE_LOG_INTERNAL_H
#define DK_CORE_LOG_INTERNAL_H

#include <dmakit/log.h>

/* Forget every level (application's and dk_init's): back to the default. */
void dk__log_reset(void);
/* The application's override (0: none), raw; for saving and restoring it. */
int dk__log_user_level(void);
void dk__log_set_user_level(int level);
/* Apply the level from params (0: unset) or DMAKIT_LOG_LEVEL. -EINVAL on a bad value. */
int dk__log_init(int level);

#endif
