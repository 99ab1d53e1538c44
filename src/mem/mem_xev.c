/* SPDX-License-Identifier: BSD-3-Clause */
/* Memory events across processes (contract: src/mem/mem_xev.h). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/pshared.h"
#include "mem/heap.h"
#include "mem/mem_config.h"
#include "mem/mem_event.h"
#include "mem/mem_xev.h"
#include "mem/pages.h"

#define DK_LOG_COMPONENT "mem"
#include "core/log_internal.h"

#define WAIT_MS 5000

static int g_slot = -1;
static pthread_t g_thread;
static int g_running;
static int g_stop;

static void futex_wait(uint32_t *addr, uint32_t val, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	syscall(SYS_futex, addr, FUTEX_WAIT, val, ms >= 0 ? &ts : NULL, NULL, 0);
}

static void futex_wake(uint32_t *addr)
{
	__atomic_add_fetch(addr, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Lock the ring. A dead owner leaves nothing to repair: an entry counts
 * once head moves past it and a slot once its pid is stored, both last. */
static void xev_lock(struct dk__xev *x)
{
	if (dk__pmutex_lock(&x->lock) == DK__PLOCK_REPAIR) {
		DK_WARN("a process died while appending a memory event: nothing was half-published");
		dk__pmutex_consistent(&x->lock);
	}
}

void dk__mem_xev_init(struct dk__xev *x)
{
	memset(x, 0, sizeof(*x));
	dk__mutex_init_pshared(&x->lock);
	x->head = 1;
}

/* The ring when the memory layer is bound to a config file, else NULL. */
static struct dk__xev *ring(void)
{
	return dk__mem_sh->bound ? &dk__mem_sh->xev : NULL;
}

/* One event of another process: an ALLOC first attaches the page lists
 * this process lacks, so that it holds their backing files before the
 * publisher goes on (the memory outlives the publisher), then the local
 * callbacks run. */
static void deliver(const struct dk__xev_entry *e)
{
	if (e->type == DK_MEM_EVENT_ALLOC) {
		int rc = dk__mem_pages_attach_all();
		if (rc < 0)
			DK_WARN("memory event of process %d: cannot attach its pages [%#llx, +%llu) here (%s)",
				(int)e->origin, (unsigned long long)e->va, (unsigned long long)e->len,
				strerror(-rc));
	}
	dk__mem_event_fire((enum dk_mem_event)e->type, (const void *)(uintptr_t)e->va,
			   (size_t)e->len);
}

static void *service(void *arg)
{
	(void)arg;
	struct dk__xev *x = ring();
	int me = getpid();
	uint64_t next = __atomic_load_n(&x->procs[g_slot].acked, __ATOMIC_ACQUIRE) + 1;
	time_t last_reap = 0;
	while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE)) {
		uint32_t w = __atomic_load_n(&x->wake, __ATOMIC_ACQUIRE);
		uint64_t head = __atomic_load_n(&x->head, __ATOMIC_ACQUIRE);
		while (next < head) {
			struct dk__xev_entry e = x->ring[next % DK__XEV_RING];
			if (e.seq == next && e.origin != me)
				deliver(&e);
			__atomic_store_n(&x->procs[g_slot].acked, next, __ATOMIC_RELEASE);
			next++;
			futex_wake(&x->ackwake);
		}
		/* Once a second at most: the thread caches of processes that
		 * died go back to their heaps. */
		futex_wait(&x->wake, w, 1000);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec != last_reap) {
			last_reap = now.tv_sec;
			dk__heap_reap_dead(1);
		}
	}
	return NULL;
}

int dk__mem_xev_start(void)
{
	struct dk__xev *x = ring();
	if (!x || g_running)
		return 0;
	int me = getpid();
	xev_lock(x);
	int slot = -1;
	for (int i = 0; i < DK__XEV_PROCS && slot < 0; i++)
		if (!x->procs[i].pid || !alive(x->procs[i].pid))
			slot = i;
	if (slot >= 0) {
		x->procs[slot].acked = x->head - 1; /* older events are in the layout already */
		__atomic_store_n(&x->procs[slot].pid, me, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&x->lock);
	if (slot < 0) {
		DK_WARN("all %d listener slots of the instance are taken: this process hears only its own memory events (its VFIO containers miss memory other processes add)",
			DK__XEV_PROCS);
		return -ENOSPC;
	}
	g_slot = slot;
	g_stop = 0;
	int rc = -pthread_create(&g_thread, NULL, service, NULL);
	if (rc < 0) {
		__atomic_store_n(&x->procs[slot].pid, 0, __ATOMIC_RELEASE);
		g_slot = -1;
		DK_ERR("cannot start the memory event thread: %s", strerror(-rc));
		return rc;
	}
	pthread_setname_np(g_thread, "dmakit-mem-ev");
	g_running = 1;
	return 0;
}

void dk__mem_xev_stop(void)
{
	if (!g_running)
		return;
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
	struct dk__xev *x = ring();
	futex_wake(&x->wake);
	pthread_join(g_thread, NULL);
	__atomic_store_n(&x->procs[g_slot].pid, 0, __ATOMIC_RELEASE);
	futex_wake(&x->ackwake); /* publishers waiting for this process */
	g_slot = -1;
	g_running = 0;
}

void dk__mem_xev_publish(enum dk_mem_event ev, const void *va, size_t len)
{
	struct dk__xev *x = ring();
	if (!x)
		return;
	int me = getpid();
	xev_lock(x);
	int others = 0;
	for (int i = 0; i < DK__XEV_PROCS; i++)
		others += x->procs[i].pid && x->procs[i].pid != me;
	if (!others) {
		pthread_mutex_unlock(&x->lock);
		return;
	}
	uint64_t seq = x->head;
	struct dk__xev_entry *e = &x->ring[seq % DK__XEV_RING];
	e->type = (uint32_t)ev;
	e->origin = me;
	e->va = (uintptr_t)va;
	e->len = len;
	__atomic_store_n(&e->seq, seq, __ATOMIC_RELEASE);
	__atomic_store_n(&x->head, seq + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&x->lock);
	futex_wake(&x->wake);

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < DK__XEV_PROCS; i++) {
		for (;;) {
			uint32_t w = __atomic_load_n(&x->ackwake, __ATOMIC_ACQUIRE);
			int pid = __atomic_load_n(&x->procs[i].pid, __ATOMIC_ACQUIRE);
			if (!pid || pid == me ||
			    __atomic_load_n(&x->procs[i].acked, __ATOMIC_ACQUIRE) >= seq)
				break;
			if (!alive(pid)) {
				__atomic_compare_exchange_n(&x->procs[i].pid, &pid, 0, 0,
							    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
				break;
			}
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= WAIT_MS) {
				DK_WARN("process %d did not take the memory event [%p, +%zu) within %d ms: its callbacks (VFIO mappings) may lag behind",
					pid, va, len, WAIT_MS);
				break;
			}
			futex_wait(&x->ackwake, w, 50);
		}
	}
}
