/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Primary and secondary processes: the shared config file (mem_config.h) and
 * the primary lock in the runtime directory (core/runtime.h). Contract in
 * mem_config.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmakit/memory.h>
#include <dmakit/malloc.h>

#include "core/runtime.h"
#include "mem/heap.h"
#include "mem/mem_config.h"
#include "mem/memseg.h"
#include "mem/pages.h"

#define DK_LOG_COMPONENT "mem"
#include "core/log_internal.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CFG_PAGE ((uint64_t)4096)

static struct {
	int active; /* bound to a config file */
	int secondary;
	int lock_fd;
	struct dk__mem_config *cfg;
	size_t size;
	char cfg_path[DK__RUNTIME_PATH_MAX];
} g_mp = {.lock_fd = -1};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void layout_sizes(uint64_t *table_off, uint64_t *bitmap_off, uint64_t *size)
{
	*table_off = align_up(sizeof(struct dk__mem_config), (uint64_t)2 << 20);
	*bitmap_off = *table_off + (uint64_t)DK__MAX_MEMSEG_LISTS * DK__MEMCFG_TABLE_AREA;
	*size = *bitmap_off + (uint64_t)DK__MAX_MEMSEG_LISTS * DK__MEMCFG_BITMAP_AREA;
	/* then the thread-cache slots (malloc.c) */
	*size += (uint64_t)DK__TC_SLOTS * DK__TC_SLOT_BYTES;
}

/* The process-private default of the shared state (mem_config.h): what
 * dk__mem_sh points at without a config file. All zero but the static lock
 * initialisers, so it takes no room in the library file (a zero IOVA mode
 * reads as VA). Heaps set up their table lock in dk__heap_init; the event
 * ring is not used. */
static struct dk__mem_shared g_private = {
    .layout = {.lock = PTHREAD_MUTEX_INITIALIZER},
    .pages = {.lock = PTHREAD_MUTEX_INITIALIZER},
    .memzones = {.lock = PTHREAD_MUTEX_INITIALIZER},
};
struct dk__mem_shared *dk__mem_sh = &g_private;
void (*dk__mem_test_point)(const char *where);

/* The primary: initialise the shared state of a new config file. */
static void shared_init(struct dk__mem_config *c)
{
	struct dk__mem_shared *sh = &c->sh;
	memset(sh, 0, sizeof(*sh));
	dk__memseg_layout_init(&sh->layout);
	dk__mem_pages_shared_init(&sh->pages);
	dk__memzone_table_init(&sh->memzones);
	dk__mem_xev_init(&sh->xev);
	/* The heap table is set up by dk__heap_init. */
	sh->iova_arena = (char *)c + c->table_off;
	sh->iova_area = c->table_area;
	sh->bm_arena = (char *)c + c->bitmap_off;
	sh->bm_area = c->bitmap_area;
	sh->tc_arena = (char *)c + c->tc_off;
	sh->bound = 1;
}

/* Point the memory layer at the shared state sh (NULL: the default). Called
 * with no list attached in this process and no other thread in the layer. */
static void shared_bind(struct dk__mem_shared *sh)
{
	dk__mem_sh = sh ? sh : &g_private;
	/* A lookup that misses in a shared layout attaches what other
	 * processes mapped. */
	dk__memseg_set_sync_hook(sh ? dk__mem_pages_attach_all : NULL);
}

static int pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* The pid written in the lock file by its primary, or 0. */
static int lock_owner(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	int pid = 0;
	return sscanf(buf, "%d", &pid) == 1 ? pid : 0;
}

/* Live processes of the instance whose config is open at fd (header h
 * checked): the primary first when alive, then every process in a listener
 * slot of the event ring (every process registers there). Up to max pids,
 * skipping the caller; returns how many there are. */
static int config_procs(int fd, const struct dk__mem_config *h, int *pids, unsigned int max)
{
	struct dk__xev x;
	if (pread(fd, &x, sizeof(x), (off_t)offsetof(struct dk__mem_config, sh.xev)) !=
	    (ssize_t)sizeof(x))
		return 0;
	int n = 0, me = getpid();
	if (h->primary_pid != me && pid_alive(h->primary_pid)) {
		if ((unsigned int)n < max)
			pids[n] = h->primary_pid;
		n++;
	}
	for (int i = 0; i < DK__XEV_PROCS; i++) {
		int pid = x.procs[i].pid;
		if (pid == me || pid == h->primary_pid || !pid_alive(pid))
			continue;
		if ((unsigned int)n < max)
			pids[n] = pid;
		n++;
	}
	return n;
}

/* A new primary holds the lock: a config left behind belongs to a primary
 * that died. Refuse while processes of that instance live (they still use
 * its memory). 0 or -EBUSY (logged, naming them). */
static int refuse_live_instance(const struct dk__runtime *rt)
{
	int fd = open(g_mp.cfg_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct dk__mem_config h;
	int pids[DK__XEV_PROCS + 1], n = 0;
	ssize_t got = pread(fd, &h, offsetof(struct dk__mem_config, sh), 0);
	if (got == (ssize_t)offsetof(struct dk__mem_config, sh) && h.magic == DK__MEMCFG_MAGIC &&
	    h.version == DK__MEMCFG_VERSION && h.hdr_size == sizeof(struct dk__mem_config))
		n = config_procs(fd, &h, pids, DK__XEV_PROCS + 1);
	close(fd);
	if (n == 0)
		return 0;
	char list[256] = "";
	size_t off = 0;
	for (int i = 0; i < n && i < DK__XEV_PROCS + 1 && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%d", i ? ", " : "", pids[i]);
	DK_ERR("the instance of prefix \"%s\" in %s is still used by process(es) %s (its primary, pid %d, is gone): stop them first (`dmakit heaps %s` lists them), or use another DMAKIT_PREFIX",
	       rt->prefix, rt->dir, list, h.primary_pid, rt->prefix);
	return -EBUSY;
}

static int setup_primary(const struct dk__runtime *rt)
{
	uint64_t table_off, bitmap_off, size;
	layout_sizes(&table_off, &bitmap_off, &size);
	/* A config left by a primary that died is stale once its processes are
	 * gone: we hold the lock. */
	int rc = refuse_live_instance(rt);
	if (rc < 0)
		return rc;
	unlink(g_mp.cfg_path);
	int fd = open(g_mp.cfg_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		DK_ERR("cannot create %s (%s): check the permissions of the runtime directory %s",
		       g_mp.cfg_path, strerror(e), rt->dir);
		return -e;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		DK_ERR("cannot size %s to %llu bytes (a sparse file) (%s): put the runtime directory on tmpfs (DMAKIT_RUNTIME_DIR)",
		       g_mp.cfg_path, (unsigned long long)size, strerror(e));
		close(fd);
		unlink(g_mp.cfg_path);
		return -e;
	}
	/* At the hint (pages.h) when free, else anywhere. */
	void *p = mmap((void *)DK__VA_HINT, (size_t)size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE | MAP_FIXED_NOREPLACE, fd, 0);
	if (p != MAP_FAILED && p != (void *)DK__VA_HINT) {
		munmap(p, (size_t)size);
		p = MAP_FAILED;
	}
	if (p == MAP_FAILED)
		p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		DK_ERR("cannot map %s (%llu bytes of address space) (%s): raise ulimit -v",
		       g_mp.cfg_path, (unsigned long long)size, strerror(e));
		unlink(g_mp.cfg_path);
		return -e;
	}
	struct dk__mem_config *c = p;
	c->magic = DK__MEMCFG_MAGIC;
	c->version = DK__MEMCFG_VERSION;
	c->size = size;
	c->addr = (uint64_t)(uintptr_t)p;
	c->primary_pid = getpid();
	c->hdr_size = sizeof(*c);
	snprintf(c->prefix, sizeof(c->prefix), "%s", rt->prefix);
	c->table_off = table_off;
	c->table_area = DK__MEMCFG_TABLE_AREA;
	c->bitmap_off = bitmap_off;
	c->bitmap_area = DK__MEMCFG_BITMAP_AREA;
	c->tc_off = size - (uint64_t)DK__TC_SLOTS * DK__TC_SLOT_BYTES;
	shared_init(c);
	shared_bind(&c->sh);
	g_mp.cfg = c;
	g_mp.size = (size_t)size;
	g_mp.secondary = 0;
	g_mp.active = 1;
	return 0;
}

/* Read and check the header of the config file at fd. */
static int read_header(int fd, const char *path, struct dk__mem_config *h)
{
	ssize_t n = pread(fd, h, offsetof(struct dk__mem_config, sh), 0);
	if (n != (ssize_t)offsetof(struct dk__mem_config, sh) || h->magic != DK__MEMCFG_MAGIC) {
		DK_ERR("%s is not a dmakit memory config: remove it, or point DMAKIT_RUNTIME_DIR elsewhere",
		       path);
		return -EPROTO;
	}
	if (h->version != DK__MEMCFG_VERSION || h->hdr_size != sizeof(struct dk__mem_config)) {
		DK_ERR("%s was written by another dmakit version (config version %u, %u bytes; this one: %u, %zu): run the primary and the secondaries from the same build",
		       path, h->version, h->hdr_size, DK__MEMCFG_VERSION,
		       sizeof(struct dk__mem_config));
		return -EPROTO;
	}
	return 0;
}

static int setup_secondary(const struct dk__runtime *rt)
{
	int fd = open(g_mp.cfg_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		DK_ERR("secondary: cannot open %s (%s): the primary of prefix \"%s\" has not set up its memory yet, or runs as another user",
		       g_mp.cfg_path, strerror(e), rt->prefix);
		return e == ENOENT ? -ENOENT : -e;
	}
	struct dk__mem_config h;
	int rc = read_header(fd, g_mp.cfg_path, &h);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (!__atomic_load_n(&h.ready, __ATOMIC_ACQUIRE) || !pid_alive(h.primary_pid)) {
		close(fd);
		DK_ERR("secondary: the primary of prefix \"%s\" (pid %d) is %s: start the primary first and wait for its dk_init to return",
		       rt->prefix, h.primary_pid,
		       pid_alive(h.primary_pid) ? "still setting up" : "gone");
		return -ENOENT;
	}
	void *want = (void *)(uintptr_t)h.addr;
	void *p = mmap(want, (size_t)h.size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE | MAP_FIXED_NOREPLACE, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED || p != want) {
		if (p != MAP_FAILED)
			munmap(p, (size_t)h.size); /* a kernel without NOREPLACE */
		if (p != MAP_FAILED || e == EEXIST) {
			DK_ERR("secondary: the primary's shared memory config lives at [%p, +%llu) and that range is taken in this process: call dk_init before mapping other memory, or start the primary and its secondaries with ASLR off (setarch -R)",
			       want, (unsigned long long)h.size);
			return -EADDRINUSE;
		}
		DK_ERR("secondary: cannot map %s (%s): raise ulimit -v", g_mp.cfg_path, strerror(e));
		return -e;
	}
	struct dk__mem_config *c = p;
	shared_bind(&c->sh);
	g_mp.cfg = c;
	g_mp.size = (size_t)h.size;
	g_mp.secondary = 1;
	g_mp.active = 1;
	rc = dk__mem_pages_attach_all();
	if (rc < 0) {
		dk__mem_mp_teardown();
		return rc;
	}
	dk__mem_xev_start(); /* a full table only costs this process other processes' events */
	return 1;
}

int dk__mem_mp_setup(const char *runtime_dir, const char *prefix, int proc, int in_memory)
{
	if (g_mp.active || g_mp.lock_fd >= 0) {
		DK_ERR("the memory layer is bound to a runtime directory already: dk_cleanup first");
		return -EBUSY;
	}
	struct dk__runtime rt;
	int rc = dk__runtime_resolve(runtime_dir, prefix, &rt);
	if (rc < 0)
		return rc;
	if (in_memory) {
		if (proc == DK_PROC_SECONDARY) {
			DK_ERR("a secondary process cannot run in memory (DK_INIT_IN_MEMORY / DMAKIT_IN_MEMORY): drop one of the two");
			return -EINVAL;
		}
		return 0;
	}
	char lock_path[DK__RUNTIME_PATH_MAX];
	if (dk__runtime_path(&rt, "primary.lock", lock_path, sizeof(lock_path)) < 0 ||
	    dk__runtime_path(&rt, "config", g_mp.cfg_path, sizeof(g_mp.cfg_path)) < 0) {
		DK_ERR("runtime directory path %s is too long: use a shorter DMAKIT_RUNTIME_DIR", rt.dir);
		return -ENAMETOOLONG;
	}
	rc = dk__runtime_mkdir(&rt);
	if (rc < 0)
		return rc;
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		DK_ERR("cannot open %s (%s): check the permissions of %s or set DMAKIT_RUNTIME_DIR",
		       lock_path, strerror(e), rt.dir);
		return -e;
	}
	int locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
	if (!locked && errno != EWOULDBLOCK) {
		int e = errno;
		DK_ERR("cannot lock %s (%s): put the runtime directory on a local file system",
		       lock_path, strerror(e));
		close(fd);
		return -e;
	}
	if (proc == DK_PROC_AUTO)
		proc = locked ? DK_PROC_PRIMARY : DK_PROC_SECONDARY;
	if (proc == DK_PROC_PRIMARY) {
		if (!locked) {
			int owner = lock_owner(fd);
			close(fd);
			DK_ERR("another primary process (pid %d) runs with prefix \"%s\" in %s: give this one another DMAKIT_PREFIX, or make it a secondary (DMAKIT_PROC_TYPE=secondary)",
			       owner, rt.prefix, rt.dir);
			return -EBUSY;
		}
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
			DK_WARN("cannot write the pid into %s: %s", lock_path, strerror(errno));
		g_mp.lock_fd = fd;
		rc = setup_primary(&rt);
		if (rc < 0) {
			close(fd);
			g_mp.lock_fd = -1;
		}
		return rc;
	}
	/* Secondary. */
	if (locked) {
		flock(fd, LOCK_UN);
		close(fd);
		DK_ERR("secondary: no primary process runs with prefix \"%s\" in %s: start the primary first (same DMAKIT_PREFIX and DMAKIT_RUNTIME_DIR)",
		       rt.prefix, rt.dir);
		return -ENOENT;
	}
	close(fd);
	return setup_secondary(&rt);
}

void dk__mem_mp_ready(void)
{
	if (g_mp.active && !g_mp.secondary) {
		dk__mem_xev_start();
		__atomic_store_n(&g_mp.cfg->ready, 1, __ATOMIC_RELEASE);
	}
}

int dk__mem_mp_is_secondary(void)
{
	return g_mp.active && g_mp.secondary;
}

int dk__mem_mp_path(const char *name, char *out, size_t n)
{
	if (!g_mp.active)
		return -ENOENT;
	const char *slash = strrchr(g_mp.cfg_path, '/'); /* <dir>/config */
	int dl = (int)(slash - g_mp.cfg_path);
	int k = snprintf(out, n, "%.*s/%s", dl, g_mp.cfg_path, name);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

void dk__mem_mp_teardown(void)
{
	dk__mem_xev_stop();
	if (g_mp.active) {
		if (g_mp.secondary) {
			dk__heap_detach(); /* gives cached blocks back: heaps still mapped */
			dk__mem_pages_detach();
			dk__memseg_detach_all();
		} else {
			__atomic_store_n(&g_mp.cfg->ready, 0, __ATOMIC_RELEASE);
			unlink(g_mp.cfg_path);
		}
		shared_bind(NULL);
		munmap(g_mp.cfg, g_mp.size);
		g_mp.cfg = NULL;
		g_mp.active = 0;
		g_mp.secondary = 0;
	}
	if (g_mp.lock_fd >= 0) {
		if (ftruncate(g_mp.lock_fd, 0) < 0)
			DK_DEBUG("cannot clear the primary lock file: %s", strerror(errno));
		close(g_mp.lock_fd); /* releases the lock */
		g_mp.lock_fd = -1;
	}
}

/* Open the config file of an instance for a peek (*rt and path: which) and
 * read its header: the fd (the caller closes it), or a negative errno
 * (logged; none_msg says what is missing when there is no such file). */
static int peek_open(const char *prefix, const char *runtime_dir, const char *none_msg,
		     struct dk__runtime *rt, char path[DK__RUNTIME_PATH_MAX],
		     struct dk__mem_config *h)
{
	int rc = dk__runtime_resolve(runtime_dir, prefix, rt);
	if (rc < 0)
		return rc;
	if (dk__runtime_path(rt, "config", path, DK__RUNTIME_PATH_MAX) < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			DK_ERR("no %s with prefix \"%s\" in %s: start one, or name its instance (DMAKIT_PREFIX, DMAKIT_RUNTIME_DIR)",
			       none_msg, rt->prefix, rt->dir);
		else
			DK_ERR("cannot read %s (%s): run as the user of the primary", path, strerror(e));
		return -e;
	}
	rc = read_header(fd, path, h);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int dk_instance_procs_peek(const char *prefix, const char *runtime_dir, int *pids,
			   unsigned int max)
{
	if (!pids && max) {
		DK_ERR("dk_instance_procs_peek: NULL output with max %u: pass an array or max 0", max);
		return -EINVAL;
	}
	struct dk__runtime rt;
	char path[DK__RUNTIME_PATH_MAX];
	struct dk__mem_config h;
	int fd = peek_open(prefix, runtime_dir, "instance", &rt, path, &h);
	if (fd < 0)
		return fd;
	int rc = config_procs(fd, &h, pids, max);
	close(fd);
	return rc;
}

int dk_heap_stats_peek(const char *prefix, const char *runtime_dir, struct dk_heap_stats *out,
		       unsigned int max)
{
	if (!out && max) {
		DK_ERR("dk_heap_stats_peek: NULL output with max %u: pass an array or max 0", max);
		return -EINVAL;
	}
	struct dk__runtime rt;
	char path[DK__RUNTIME_PATH_MAX];
	struct dk__mem_config h;
	int fd = peek_open(prefix, runtime_dir, "primary process runs", &rt, path, &h);
	if (fd < 0)
		return fd;
	int rc = 0;
	if (!h.ready || !pid_alive(h.primary_pid)) {
		int pids[8], n = pid_alive(h.primary_pid) ? 0 : config_procs(fd, &h, pids, 8);
		char list[128] = "";
		size_t off = 0;
		for (int i = 0; i < n && i < 8 && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%d", i ? ", " : "",
						pids[i]);
		if (n > 0)
			DK_ERR("the primary of prefix \"%s\" (pid %d) is gone and %d process(es) still hold its instance (%s%s): stop them before starting a new primary",
			       rt.prefix, h.primary_pid, n, list, n > 8 ? ", ..." : "");
		else
			DK_ERR("the primary of prefix \"%s\" (pid %d) is %s: start one, or wait for its dk_init to return",
			       rt.prefix, h.primary_pid,
			       pid_alive(h.primary_pid) ? "still setting up" : "gone");
		rc = -ENOENT;
	}
	struct dk__heap_table *t = NULL;
	if (rc == 0 && !(t = malloc(sizeof(*t))))
		rc = -ENOMEM;
	if (rc == 0 && pread(fd, t, sizeof(*t), (off_t)offsetof(struct dk__mem_config, sh.heaps)) !=
			   (ssize_t)sizeof(*t)) {
		DK_ERR("%s is shorter than its header says: the primary is damaged or gone", path);
		rc = -EPROTO;
	}
	close(fd);
	if (rc < 0) {
		free(t);
		return rc;
	}
	unsigned int n = 0;
	for (int i = 0; i < DK_MAX_HEAPS; i++) {
		const struct dk__heap *hp = &t->heaps[i];
		if (!hp->in_use)
			continue;
		if (n < max) {
			struct dk_heap_stats *s = &out[n];
			memset(s, 0, sizeof(*s));
			memcpy(s->name, hp->name, sizeof(s->name));
			s->name[sizeof(s->name) - 1] = 0;
			s->socket_id = hp->socket_id;
			s->heap_bytes = hp->tlsf.region_bytes;
			s->alloc_bytes = dk__heap_alloc_bytes(hp);
			s->free_bytes = hp->tlsf.region_bytes >= s->alloc_bytes
					    ? hp->tlsf.region_bytes - s->alloc_bytes
					    : 0;
			s->greatest_free = dk__tlsf_largest_free_class(&hp->tlsf);
			s->alloc_count = dk__heap_alloc_count(hp);
		}
		n++;
	}
	free(t);
	return (int)n;
}
