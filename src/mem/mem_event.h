/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory event delivery (public API in dmakit/memory.h). The callback list
 * is process-local (function pointers). Fire without holding the layout lock.
 */
#ifndef DK_MEM_MEM_EVENT_H
#define DK_MEM_MEM_EVENT_H

#include <dmakit/memory.h>

/* Call every callback, in registration order, for [va, va+len). */
void dk__mem_event_fire(enum dk_mem_event ev, const void *va, size_t len);
/* Forget every callback (dk_cleanup). */
void dk__mem_event_cleanup(void);

#endif
