/* SPDX-License-Identifier: BSD-3-Clause */
/* The memory layer's kernel calls (contract: src/mem/mem_os.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mem/mem_os.h"

#define DK_LOG_COMPONENT "pages"
#include "core/log_internal.h"

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MPOL_PREFERRED_ 1
#define NODE_BITS       1024

/* ---- hugepages ---------------------------------------------------------- */

size_t dk__os_default_huge_size(void)
{
	size_t sz = (size_t)2 << 20;
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return sz;
	char line[128];
	while (fgets(line, sizeof(line), f)) {
		unsigned long kb;
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1 && kb) {
			sz = (size_t)kb << 10;
			break;
		}
	}
	fclose(f);
	return sz;
}

long dk__os_huge_counter(size_t sz, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/%s", sz >> 10, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	long v = -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

long dk__os_huge_available(size_t sz)
{
	long fr = dk__os_huge_counter(sz, "free_hugepages");
	long rs = dk__os_huge_counter(sz, "resv_hugepages");
	if (fr < 0)
		return -1;
	if (rs > 0)
		fr -= rs;
	return fr < 0 ? 0 : fr;
}

/* ---- physical addresses ------------------------------------------------- */

int dk__os_pagemap_open(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int dk__os_pagemap_pa(int fd, uintptr_t va, uint64_t *pa)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t e;
	if (pread(fd, &e, sizeof(e), (off_t)(va / psz * sizeof(e))) != (ssize_t)sizeof(e))
		return -EIO;
	if (!(e >> 63))
		return -ENOENT;
	uint64_t pfn = e & (((uint64_t)1 << 55) - 1);
	if (!pfn)
		return -EPERM;
	*pa = pfn * psz + (va & (psz - 1));
	return 0;
}

int dk__os_pa_check(void)
{
	int fd = dk__os_pagemap_open();
	if (fd < 0) {
		DK_ERR("IOVA mode pa: cannot open /proc/self/pagemap (%s): physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va",
		       strerror(-fd));
		return -ENOTSUP;
	}
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	volatile char *p =
	    mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		close(fd);
		DK_ERR("IOVA mode pa: cannot map a probe page: %s", strerror(errno));
		return -ENOMEM;
	}
	p[0] = 1;
	uint64_t pa;
	int rc = dk__os_pagemap_pa(fd, (uintptr_t)p, &pa);
	munmap((void *)p, psz);
	close(fd);
	if (rc < 0) {
		DK_ERR("IOVA mode pa: /proc/self/pagemap gives no physical address (%s): physical addresses need root: run as root or use DMAKIT_IOVA_MODE=va",
		       rc == -EPERM ? "PFN 0" : strerror(-rc));
		return -ENOTSUP;
	}
	return 0;
}

/* ---- backing files ------------------------------------------------------ */

int dk__os_memfd(const char *name, size_t page_sz, int huge, size_t len, int *sized)
{
	unsigned int flags = MFD_CLOEXEC;
	if (huge)
		flags |= MFD_HUGETLB | ((unsigned int)__builtin_ctzll(page_sz) << MFD_HUGE_SHIFT);
	*sized = 0;
	int fd = memfd_create(name, flags);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0) {
		int e = errno;
		close(fd);
		*sized = 1;
		return -e;
	}
	return fd;
}

int dk__os_file_id(int fd, uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

int dk__os_open_peer_fd(int pid, int fd, uint64_t dev, uint64_t ino)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	int f = open(path, O_RDWR | O_CLOEXEC);
	if (f < 0)
		return -ENOENT;
	uint64_t d = 0, i = 0;
	if (dk__os_file_id(f, &d, &i) == 0 && d == dev && i == ino)
		return f;
	close(f);
	return -ENOENT;
}

int dk__os_file_alloc(int fd, size_t off, size_t len)
{
	if (fallocate(fd, 0, (off_t)off, (off_t)len) == 0)
		return 0;
	int e = errno;
	dk__os_file_punch(fd, off, len);
	return -e;
}

int dk__os_file_punch(int fd, size_t off, size_t len)
{
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
		return -errno;
	return 0;
}

/* ---- address space ------------------------------------------------------ */

void *dk__os_reserve_at(uintptr_t a, size_t len)
{
	void *q = mmap((void *)a, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (q == (void *)a)
		return q;
	if (q != MAP_FAILED) {
		munmap(q, len); /* a kernel without NOREPLACE put it elsewhere */
		errno = EEXIST;
	}
	return NULL;
}

void *dk__os_reserve_aligned(size_t len, size_t align)
{
	size_t total = len + align;
	char *p = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = a - (uintptr_t)p;
	if (head)
		munmap(p, head);
	if (total - head - len)
		munmap((char *)a + len, total - head - len);
	return (void *)a;
}

int dk__os_map_file(uintptr_t base, size_t len, int fd, int noreplace)
{
	int flags = MAP_SHARED | MAP_NORESERVE | (noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED);
	void *p = mmap((void *)base, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (p != (void *)base) {
		munmap(p, len); /* a kernel without NOREPLACE put it elsewhere */
		return -EEXIST;
	}
	return 0;
}

void dk__os_populate(void *p, size_t len, size_t page_sz, int touch)
{
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0 || !touch)
		return;
	for (size_t o = 0; o < len; o += page_sz)
		((volatile char *)p)[o] = 0;
}

int dk__os_prefer_node(uintptr_t va, size_t len, int node)
{
	if (node < 0 || node >= NODE_BITS)
		return -EINVAL;
	unsigned long mask[NODE_BITS / (8 * sizeof(unsigned long))] = {0};
	mask[(unsigned int)node / (8 * sizeof(unsigned long))] |=
	    1ul << ((unsigned int)node % (8 * sizeof(unsigned long)));
	if (syscall(SYS_mbind, (void *)va, len, MPOL_PREFERRED_, mask, (unsigned long)NODE_BITS, 0) <
	    0)
		return -errno;
	return 0;
}
