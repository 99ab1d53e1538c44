/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MR caches across processes (contract: dmakit/mr.h, "Multi-process";
 * what the cache calls: mr/mr_mp.h).
 *
 * The primary's server is one thread per shared cache. It takes one
 * connection at a time, gives the client SERVE_WAIT_MS to send its request
 * and never waits to send the answer (MSG_DONTWAIT: an answer the client
 * is no longer there for is dropped), so no client can hold it.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <dmakit/memzone.h>
#include <dmakit/mr.h>

#include "mem/mem_config.h"
#include "mr/mr_cache.h"
#include "mr/mr_mp.h"

#define DK_LOG_COMPONENT "mr"
#include "core/log_internal.h"

#define SHARED_MAGIC 0x6465726168736d72ull /* "rmshared" */
#define REQ_MAGIC 0x71726d64u
#define SERVE_WAIT_MS 100
#define PG ((uintptr_t)4096)

/* The memzone "mr.<hash of the name>". */
struct dk__mr_shared {
	uint64_t magic;
	uint64_t gen;  /* bumped by every invalidation, in any process */
	int32_t owner; /* pid of the primary serving the cache, 0: none */
	uint32_t pad;
	char name[DK_MR_NAME_MAX]; /* written once, before magic */
};

struct req {
	uint32_t magic;
	uint32_t pad;
	uint64_t va;
};

struct ans {
	int32_t rc;
	uint32_t key;
	uint64_t start, end, iova;
};

struct dk__mr_mp {
	struct dk__mr_shared *sh;
	struct dk_mr_cache *c;
	int client; /* 1: a secondary's attachment */
	unsigned int timeout_ms;
	int lfd;     /* primary: the listening socket */
	int stop[2]; /* primary: a byte in stop[1] ends the server */
	pthread_t thr;
	char name[DK_MR_NAME_MAX];
	struct sockaddr_un addr;
};

/* Shares of this process: one at a time, so a name is checked and taken at
 * once. */
static pthread_mutex_t g_share_lock = PTHREAD_MUTEX_INITIALIZER;

static int name_ok(const char *n)
{
	size_t len = n ? strlen(n) : 0;
	if (len == 0 || len >= DK_MR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || strchr("_.:-", n[i])))
			return 0;
	return 1;
}

/* "mr.<16 hex digits of FNV-1a of name>": fits a memzone name and a short
 * socket path whatever the name (a device's name may be a 36-character
 * UUID). The shared part keeps the name, so a collision is seen. */
static void zone_name(const char *name, char out[DK_MEMZONE_NAME_MAX])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	snprintf(out, DK_MEMZONE_NAME_MAX, "mr.%016llx", (unsigned long long)h);
}

/* <instance dir>/mr.<name>.sock into m->addr. 0, -ENOENT (no instance
 * directory), -ENAMETOOLONG (logged). */
static int sock_addr(struct dk__mr_mp *m)
{
	char file[DK_MEMZONE_NAME_MAX + 8];
	zone_name(m->name, file);
	strcat(file, ".sock");
	m->addr.sun_family = AF_UNIX;
	int rc = dk__mem_mp_path(file, m->addr.sun_path, sizeof(m->addr.sun_path));
	if (rc == -ENAMETOOLONG)
		DK_ERR("MR cache \"%s\": the socket path in the runtime directory is longer than a unix socket address (%zu bytes): use a shorter DMAKIT_RUNTIME_DIR",
		       m->name, sizeof(m->addr.sun_path) - 1);
	return rc;
}

void dk__mr_mp_bump(struct dk__mr_mp *m)
{
	__atomic_add_fetch(&m->sh->gen, 1, __ATOMIC_RELEASE);
}

/* ---- the primary: share and serve ---------------------------------------- */

/* The shared part for name: the existing memzone of an earlier share, or a
 * new one. 0, -EEXIST (served), -EPROTO, -ENOSPC/-ENOMEM (logged). */
static int shared_get(const char *name, struct dk__mr_shared **out)
{
	char zn[DK_MEMZONE_NAME_MAX];
	zone_name(name, zn);
	const struct dk_memzone *mz = dk_memzone_lookup(zn);
	if (!mz) {
		mz = dk_memzone_reserve(zn, sizeof(struct dk__mr_shared), DK_SOCKET_ANY, 0, 64);
		if (!mz) {
			int e = errno;
			DK_ERR("dk_mr_cache_share(\"%s\"): no memzone for the shared generation (%s): free memzones or memory",
			       name, strerror(e));
			return -e;
		}
		struct dk__mr_shared *sh = mz->addr;
		memset(sh, 0, sizeof(*sh));
		snprintf(sh->name, sizeof(sh->name), "%s", name);
		__atomic_store_n(&sh->magic, SHARED_MAGIC, __ATOMIC_RELEASE);
	}
	struct dk__mr_shared *sh = mz->addr;
	if (mz->len < sizeof(*sh) || sh->magic != SHARED_MAGIC || strcmp(sh->name, name)) {
		DK_ERR("dk_mr_cache_share(\"%s\"): the memzone %s is taken by something else: pick another name",
		       name, zn);
		return -EPROTO;
	}
	if (__atomic_load_n(&sh->owner, __ATOMIC_ACQUIRE)) {
		DK_ERR("dk_mr_cache_share(\"%s\"): another cache is shared under this name: destroy it first or pick another name",
		       name);
		return -EEXIST;
	}
	*out = sh;
	return 0;
}

static int listen_on(struct dk__mr_mp *m)
{
	m->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (m->lfd < 0) {
		int e = errno;
		DK_ERR("dk_mr_cache_share(\"%s\"): no socket (%s): raise the open-file limit",
		       m->name, strerror(e));
		return -e;
	}
	unlink(m->addr.sun_path); /* left by a primary that died */
	if (bind(m->lfd, (struct sockaddr *)&m->addr, sizeof(m->addr)) < 0 ||
	    listen(m->lfd, 64) < 0) {
		int e = errno;
		DK_ERR("dk_mr_cache_share(\"%s\"): cannot listen on %s (%s): check the runtime directory's permissions",
		       m->name, m->addr.sun_path, strerror(e));
		close(m->lfd);
		m->lfd = -1;
		return -e;
	}
	return 0;
}

static void serve_one(struct dk__mr_mp *m, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct req r;
	if (poll(&p, 1, SERVE_WAIT_MS) <= 0 ||
	    recv(fd, &r, sizeof(r), MSG_DONTWAIT) != (ssize_t)sizeof(r) || r.magic != REQ_MAGIC) {
		DK_DEBUG("MR cache \"%s\": a secondary left or sent no request within %d ms: dropped",
			 m->name, SERVE_WAIT_MS);
		return;
	}
	struct ans a = {0};
	struct dk__mr_entry e;
	a.rc = dk__mr_cache_find(m->c, (uintptr_t)r.va, &e);
	if (a.rc == 0) {
		a.start = e.start;
		a.end = e.end;
		a.iova = e.iova;
		a.key = e.key;
	}
	if (send(fd, &a, sizeof(a), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(a))
		DK_DEBUG("MR cache \"%s\": the secondary left before its answer", m->name);
}

static void *serve(void *arg)
{
	struct dk__mr_mp *m = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = m->lfd, .events = POLLIN},
				      {.fd = m->stop[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			DK_ERR("MR cache \"%s\": the server stops (poll: %s): secondaries' misses fail until the cache is shared again",
			       m->name, strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* the client left already, or out of files for now */
		serve_one(m, fd);
		close(fd);
	}
	return NULL;
}

static int server_start(struct dk__mr_mp *m)
{
	if (pipe2(m->stop, O_CLOEXEC) < 0) {
		int e = errno;
		DK_ERR("dk_mr_cache_share(\"%s\"): no pipe (%s): raise the open-file limit", m->name,
		       strerror(e));
		return -e;
	}
	int rc = pthread_create(&m->thr, NULL, serve, m);
	if (rc) {
		DK_ERR("dk_mr_cache_share(\"%s\"): no server thread (%s): raise the thread limit",
		       m->name, strerror(rc));
		close(m->stop[0]);
		close(m->stop[1]);
		return -rc;
	}
	pthread_setname_np(m->thr, "dmakit-mr-srv");
	return 0;
}

static void server_stop(struct dk__mr_mp *m)
{
	char b = 0;
	while (write(m->stop[1], &b, 1) < 0 && errno == EINTR)
		;
	pthread_join(m->thr, NULL);
	close(m->stop[0]);
	close(m->stop[1]);
}

static void listener_close(struct dk__mr_mp *m)
{
	close(m->lfd);
	unlink(m->addr.sun_path);
}

/* Checks of dk_mr_cache_share before anything is made. */
static int share_check(struct dk_mr_cache *c, const char *name)
{
	if (!c || !name_ok(name)) {
		DK_ERR("dk_mr_cache_share(%p, \"%s\"): give a cache and a name of 1..%d characters of A-Z a-z 0-9 _ . : -",
		       (void *)c, name ? name : "(null)", DK_MR_NAME_MAX - 1);
		return -EINVAL;
	}
	if (!dk__mr_mp_primary()) {
		DK_ERR("dk_mr_cache_share(\"%s\"): only the primary process of a multi-process instance shares caches (in a secondary use dk_mr_cache_attach; in memory there is nobody to share with)",
		       name);
		return -EPERM;
	}
	if (dk__mr_cache_mp(c)) {
		DK_ERR("dk_mr_cache_share(\"%s\"): the cache is shared or attached already: share a cache once, and only in the primary",
		       name);
		return -EALREADY;
	}
	return 0;
}

static int share_locked(struct dk_mr_cache *c, const char *name)
{
	int rc = share_check(c, name);
	if (rc < 0)
		return rc;
	struct dk__mr_mp *m = calloc(1, sizeof(*m));
	if (!m) {
		DK_ERR("dk_mr_cache_share(\"%s\"): out of memory", name);
		return -ENOMEM;
	}
	m->c = c;
	m->lfd = -1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	rc = sock_addr(m);
	if (rc < 0)
		goto fail_free;
	rc = shared_get(name, &m->sh);
	if (rc < 0)
		goto fail_free;
	rc = listen_on(m);
	if (rc < 0)
		goto fail_free;
	rc = server_start(m);
	if (rc < 0)
		goto fail_listener;
	rc = dk__mr_cache_set_mp(c, m, NULL);
	if (rc < 0) {
		DK_ERR("dk_mr_cache_share(\"%s\"): the cache was shared meanwhile: share it once",
		       name);
		goto fail_server;
	}
	__atomic_store_n(&m->sh->owner, (int32_t)getpid(), __ATOMIC_RELEASE);
	return 0;

fail_server:
	server_stop(m);
fail_listener:
	listener_close(m);
fail_free:
	free(m);
	return rc;
}

int dk__mr_mp_primary(void)
{
	char probe[sizeof(((struct sockaddr_un *)0)->sun_path)];
	return !dk__mem_mp_is_secondary() && dk__mem_mp_path("", probe, sizeof(probe)) != -ENOENT;
}

int dk_mr_cache_share(struct dk_mr_cache *c, const char *name)
{
	pthread_mutex_lock(&g_share_lock);
	int rc = share_locked(c, name);
	pthread_mutex_unlock(&g_share_lock);
	return rc;
}

/* ---- a secondary: attach and ask ----------------------------------------- */

static int client_reg(void *ctx, void *va, size_t len, uint32_t *key, dk_iova_t *iova)
{
	(void)ctx, (void)len, (void)key, (void)iova;
	DK_ERR("MR cache: an attached cache registered %p itself: report this bug", va);
	return -ENOTSUP;
}

static void client_dereg(void *ctx, void *va, size_t len, uint32_t key)
{
	(void)ctx, (void)va, (void)len, (void)key; /* the primary owns registrations */
}

static const struct dk_mr_ops g_client_ops = {client_reg, client_dereg};

static struct dk__mr_shared *shared_find(const char *name)
{
	char zn[DK_MEMZONE_NAME_MAX];
	zone_name(name, zn);
	const struct dk_memzone *mz = dk_memzone_lookup(zn);
	struct dk__mr_shared *sh = mz && mz->len >= sizeof(*sh) ? mz->addr : NULL;
	if (!sh || __atomic_load_n(&sh->magic, __ATOMIC_ACQUIRE) != SHARED_MAGIC ||
	    strcmp(sh->name, name) || !__atomic_load_n(&sh->owner, __ATOMIC_ACQUIRE))
		return NULL;
	return sh;
}

struct dk_mr_cache *dk_mr_cache_attach(const char *name, unsigned int timeout_ms)
{
	if (!name_ok(name)) {
		DK_ERR("dk_mr_cache_attach(\"%s\"): give a name of 1..%d characters of A-Z a-z 0-9 _ . : -",
		       name ? name : "(null)", DK_MR_NAME_MAX - 1);
		errno = EINVAL;
		return NULL;
	}
	if (!dk__mem_mp_is_secondary()) {
		DK_ERR("dk_mr_cache_attach(\"%s\"): this process is not a secondary: attach in a secondary process; the primary uses its cache itself",
		       name);
		errno = EPERM;
		return NULL;
	}
	struct dk__mr_shared *sh = shared_find(name);
	if (!sh) {
		DK_ERR("dk_mr_cache_attach(\"%s\"): the primary shares no MR cache under this name: share it there (dk_mr_cache_share, or probe the device) before attaching",
		       name);
		errno = ENOENT;
		return NULL;
	}
	struct dk__mr_mp *m = calloc(1, sizeof(*m));
	if (!m) {
		DK_ERR("dk_mr_cache_attach(\"%s\"): out of memory", name);
		errno = ENOMEM;
		return NULL;
	}
	m->sh = sh;
	m->client = 1;
	m->lfd = -1;
	m->timeout_ms = timeout_ms ? timeout_ms : DK_MR_ATTACH_TIMEOUT_MS;
	snprintf(m->name, sizeof(m->name), "%s", name);
	int rc = sock_addr(m);
	if (rc < 0)
		goto fail_free;
	m->c = dk_mr_cache_create(&g_client_ops, NULL);
	if (!m->c) {
		rc = -errno;
		goto fail_free;
	}
	dk__mr_cache_set_mp(m->c, m, &sh->gen); /* a new cache: cannot fail */
	return m->c;

fail_free:
	free(m);
	errno = -rc;
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Give fd's next send and receive until deadline. 0, -ETIMEDOUT. */
static int set_deadline(int fd, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	if (left <= 0)
		return -ETIMEDOUT;
	struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

/* One request on a new connection: 0 with *a, or a negative errno (not
 * logged: the caller says what it means). */
static int exchange(struct dk__mr_mp *m, uintptr_t va, struct ans *a)
{
	int64_t deadline = now_ms() + m->timeout_ms;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct req r = {.magic = REQ_MAGIC, .va = va};
	int rc = set_deadline(fd, deadline);
	if (rc == 0 && connect(fd, (struct sockaddr *)&m->addr, sizeof(m->addr)) < 0)
		rc = errno == ENOENT || errno == ECONNREFUSED ? -ENOTCONN : -errno;
	if (rc == 0 && send(fd, &r, sizeof(r), MSG_NOSIGNAL) != (ssize_t)sizeof(r))
		rc = errno == EPIPE || errno == ECONNRESET ? -ENOTCONN : -errno;
	if (rc == 0)
		rc = set_deadline(fd, deadline);
	if (rc == 0) {
		ssize_t n = recv(fd, a, sizeof(*a), 0);
		rc = n == (ssize_t)sizeof(*a) ? 0 : n == 0 ? -ENOTCONN : n > 0 ? -EPROTO : -errno;
	}
	close(fd);
	return rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINPROGRESS ? -ETIMEDOUT : rc;
}

int dk__mr_mp_ask(struct dk__mr_mp *m, uintptr_t a, struct dk__mr_entry *e)
{
	struct ans r;
	int rc = exchange(m, a, &r);
	if (rc == -ENOTCONN) {
		DK_ERR("MR cache \"%s\": no primary serves it (the primary exited or destroyed the cache): restart the primary and attach again",
		       m->name);
		return rc;
	}
	if (rc == -ETIMEDOUT) {
		DK_ERR("MR cache \"%s\": the primary did not answer for %p within %u ms: check that it runs, or give a longer timeout to dk_mr_cache_attach",
		       m->name, (void *)a, m->timeout_ms);
		return rc;
	}
	if (rc < 0) {
		DK_ERR("MR cache \"%s\": asking the primary for %p failed (%s): check the runtime directory",
		       m->name, (void *)a, strerror(-rc));
		return rc;
	}
	if (r.rc == -ENOENT) {
		uint64_t quiet;
		if (dk__mr_unknown_log_now(m->c, &quiet))
			DK_ERR("MR cache \"%s\": the primary does not know the memory at %p: attach or register it in the primary too (dk_heap_memory_attach, dk_extmem_register) (%" PRIu64
			       " more such lookups since the last message)",
			       m->name, (void *)a, quiet);
		return -ENOENT;
	}
	if (r.rc < 0) {
		DK_ERR("MR cache \"%s\": the primary could not register %p (%s): see the primary's log",
		       m->name, (void *)a, strerror(-r.rc));
		return r.rc;
	}
	if (r.start > a || a >= r.end || (r.start | r.end) & (PG - 1)) {
		DK_ERR("MR cache \"%s\": the primary answered [%#llx, %#llx) for %p: run the same dmakit version in every process",
		       m->name, (unsigned long long)r.start, (unsigned long long)r.end, (void *)a);
		return -EPROTO;
	}
	*e = (struct dk__mr_entry){.start = r.start, .end = r.end, .iova = r.iova, .key = r.key};
	return 0;
}

void dk__mr_mp_fini(struct dk__mr_mp *m)
{
	if (!m)
		return;
	if (!m->client) {
		server_stop(m);
		listener_close(m);
		__atomic_store_n(&m->sh->owner, 0, __ATOMIC_RELEASE);
		dk__mr_mp_bump(m); /* the secondaries' copies are of registrations that go */
	}
	free(m);
}
