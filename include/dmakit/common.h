/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/common.h - macros and conventions shared by every public header.
 *
 * Error convention (all layers):
 *   - functions returning int return 0 (or a count) on success and a
 *     negative errno on failure;
 *   - functions returning a pointer return NULL and set errno on failure;
 *   - every failure is also reported through the log (dmakit/log.h) at
 *     DK_LOG_ERR or DK_LOG_WARNING with a message that names the fix.
 */
#ifndef DMAKIT_COMMON_H
#define DMAKIT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
#define DK_BEGIN_DECLS extern "C" {
#define DK_END_DECLS }
#else
#define DK_BEGIN_DECLS
#define DK_END_DECLS
#endif

/* Symbols the library exports; everything else is hidden (-fvisibility=hidden). */
#if defined(DK_BUILDING_LIBRARY) && defined(__GNUC__)
#define DK_EXPORT __attribute__((visibility("default")))
#else
#define DK_EXPORT
#endif

#define DK_VERSION_MAJOR 0
#define DK_VERSION_MINOR 1
#define DK_VERSION_PATCH 0

#define DK_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))

/* Number of elements of a true array. */
#define DK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

DK_BEGIN_DECLS

/* Version string "MAJOR.MINOR.PATCH". Never NULL. Thread-safe. */
DK_EXPORT const char *dk_version(void);

DK_END_DECLS

#endif
