/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: the iommufd backend, on the suite's own kernel (run.sh --kernel
 * iommufd; skipped where there is no /dev/iommu). The choice (auto: iommufd
 * for edu, which has a cdev; the container for what has none), edu opened
 * with no group at all, its IOAS's IOVA ranges at both widths, the IOAS
 * map/unmap primitives, edu DMA from heap and non-heap memory through the
 * IOAS (memory events and dk_dev_dma_map), DMAKIT_VFIO_BACKEND=container on
 * the same kernel, and bad input: a second IOAS, a group open while the
 * device is bound, a cdev the user may not open, a device bound by another
 * process. On Debian's kernel (no /dev/iommu) only the refusal of a requested
 * iommufd runs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dmakit/edu.h>

#include "dma/dma_domain.h"
#include "vm_common.h"

#define TMO 5000
#define IOVA 0x10000000ull
#define BUF_LEN (64u << 10)

static struct dk_pci_device *g_dev;
static struct dk_edu *g_edu;

static void need_iommufd(void)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	if (access("/dev/iommu", F_OK) != 0)
		SKIP("no /dev/iommu: this kernel has no IOMMUFD (run.sh --kernel iommufd)");
}

/* Bind edu, start the library with the edu driver (which opens edu). */
static void start(void)
{
	need_iommufd();
	vm_start_edu(&g_dev, &g_edu);
}

static struct dk_vfio_container *edu_ioas(void)
{
	struct dk_vfio_device *vd = dk_pci_vfio_device(g_dev);
	REQUIRE(vd != NULL);
	return dk_vfio_device_container(vd);
}

/* How many of this process's descriptors lead to paths starting with prefix. */
static int fds_to(const char *prefix)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[300], t[256];
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		ssize_t l = readlink(p, t, sizeof(t) - 1);
		if (l <= 0)
			continue;
		t[l] = '\0';
		n += strncmp(t, prefix, strlen(prefix)) == 0;
	}
	closedir(d);
	return n;
}

DK_TEST(auto_chooses_iommufd_for_edu_and_the_container_without_a_cdev)
{
	need_iommufd();
	vm_vfio_dev(VM_EDU);
	char why[512];
	CHECK_INT_EQ(dk_vfio_backend_select(VM_EDU, why, sizeof(why)), DK_VFIO_BACKEND_IOMMUFD);
	CHECK_STR_CONTAINS(why, "/dev/iommu and /dev/vfio/devices/vfio");
	printf("# %s: %s\n", VM_EDU, why);
	/* The NVMe is bound to nvme: no vfio-dev/, so the container. */
	CHECK_INT_EQ(dk_vfio_backend_select(VM_NVME, why, sizeof(why)), DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_CONTAINS(why, "has no vfio-dev/ in sysfs");
	printf("# %s: %s\n", VM_NVME, why);
}

DK_TEST(edu_is_open_with_no_group_at_all)
{
	start();
	struct dk_vfio_container *c = edu_ioas();
	REQUIRE(c != NULL);
	CHECK_INT_EQ(dk_vfio_container_backend(c), DK_VFIO_BACKEND_IOMMUFD);
	CHECK(c == dk_vfio_iommufd_default());
	CHECK_INT_EQ(fds_to("/dev/vfio/devices/vfio"), 1);
	CHECK_INT_EQ(fds_to("/dev/iommu"), 1);
	/* No group node and no container is open. */
	int groups = 0;
	for (int g = 0; g < 64; g++) {
		char p[32];
		snprintf(p, sizeof(p), "/dev/vfio/%d", g);
		groups += fds_to(p);
	}
	CHECK_INT_EQ(groups, 0);
	CHECK_INT_EQ(fds_to("/dev/vfio/vfio"), 0);
	/* Opening it again shares the binding (a device is bound once). */
	struct dk_vfio_device *again = dk_vfio_device_open(NULL, -1, VM_EDU);
	CHECK(again == dk_pci_vfio_device(g_dev));
	dk_vfio_device_close(again);
	CHECK_INT_EQ(fds_to("/dev/vfio/devices/vfio"), 1);
}

DK_TEST(ioas_ranges_follow_the_address_width)
{
	start();
	struct dk_vfio_iommu_info info;
	REQUIRE_INT_EQ(dk_vfio_iommu_info(edu_ioas(), &info), 0);
	CHECK_INT_EQ(info.iommu_type, DK_VFIO_IOMMU_IOAS);
	CHECK(info.flags & DK_VFIO_IOMMU_IOVA_RANGES);
	CHECK(!(info.flags & DK_VFIO_IOMMU_DMA_AVAIL));
	CHECK_INT_EQ(info.iova_pgsizes, 4096);
	REQUIRE(info.nr_ranges >= 1);
	for (uint32_t i = 0; i < info.nr_ranges; i++) {
		printf("# IOAS range %u: 0x%" PRIx64 "-0x%" PRIx64 "\n", i, info.ranges[i].start,
		       info.ranges[i].end);
		CHECK(!(info.ranges[i].start <= 0xfee00000ull && 0xfee00000ull <= info.ranges[i].end));
	}
	uint64_t end = info.ranges[info.nr_ranges - 1].end;
	CHECK_INT_EQ(end, vm_aw_bits() == 48 ? 0xffffffffffffull : 0x7fffffffffull);
	/* A NULL container means the default IOAS while it has devices. */
	struct dk_vfio_iommu_info same;
	REQUIRE_INT_EQ(dk_vfio_iommu_info(NULL, &same), 0);
	CHECK_INT_EQ(same.iommu_type, DK_VFIO_IOMMU_IOAS);
	CHECK_INT_EQ(same.nr_ranges, info.nr_ranges);
}

DK_TEST(ioas_map_and_unmap_primitives)
{
	start();
	struct dk_vfio_container *c = edu_ioas();
	void *buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(buf != MAP_FAILED);
	memset(buf, 0x5a, BUF_LEN);
	REQUIRE_INT_EQ(dk_vfio_dma_map(c, buf, IOVA, BUF_LEN), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_map(c, buf, IOVA, BUF_LEN), -EEXIST);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "overlaps an existing mapping of IOAS");
	CHECK_INT_EQ(dk_vfio_dma_unmap(c, IOVA + 4096, 4096), -ENOENT); /* splits it */
	CHECK_STR_CONTAINS(dk_test_log_captured(), "splits a mapping");
	CHECK_INT_EQ(dk_vfio_dma_map(c, buf, 1ull << 50, 4096), -ERANGE);
	CHECK_INT_EQ(dk_vfio_dma_map(c, (char *)buf + 8, IOVA, 4096), -EINVAL);
	dk_test_log_capture_stop();
	/* The device reads what the mapping holds. */
	CHECK_INT_EQ(dk_edu_dma(g_edu, 1, IOVA, 0, 1024, TMO), 0);
	memset(buf, 0, 2048);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 0, IOVA + 1024, 0, 1024, TMO), 0);
	unsigned char want[1024];
	memset(want, 0x5a, sizeof(want));
	CHECK(memcmp((char *)buf + 1024, want, sizeof(want)) == 0);
	CHECK_INT_EQ(dk_vfio_dma_unmap(c, IOVA, BUF_LEN), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_dma_unmap(c, IOVA, BUF_LEN), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "nothing is mapped there");
	munmap(buf, BUF_LEN);
	CHECK_INT_EQ(dk_vfio_dma_map(c, buf, IOVA, 4096), -EFAULT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is not mapped in this process");
	dk_test_log_capture_stop();
}

static void roundtrip(unsigned char *a, unsigned char *b, uint32_t len, unsigned int seed)
{
	for (uint32_t i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 13 + seed);
	memset(b, 0, len);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 1, a, 8, len, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma_va(g_edu, 0, b, 8, len, TMO), 0);
	CHECK(memcmp(a, b, len) == 0);
}

DK_TEST(edu_dma_from_heap_memory_through_the_ioas)
{
	start();
	CHECK_INT_EQ(dk_iova_mode(), vm_aw_bits() == 48 ? DK_IOVA_MODE_VA : DK_IOVA_MODE_REMAP);
	unsigned char *a = dk_malloc(NULL, 3000, 64), *b = dk_malloc(NULL, 3000, 64);
	REQUIRE(a && b);
	unsigned int before = dk__dma_domain_count(edu_ioas());
	CHECK(before > 0); /* the heap went into the IOAS */
	roundtrip(a, b, 3000, 1);
	/* A fresh heap region: its ALLOC event maps it into the IOAS. */
	unsigned char *big = dk_malloc(NULL, 48u << 20, 4096);
	REQUIRE(big != NULL);
	CHECK(dk__dma_domain_count(edu_ioas()) > before);
	roundtrip(big + (40u << 20), b, 2000, 2);
	dk_free(big);
	dk_free(a);
	dk_free(b);
}

DK_TEST(edu_dma_from_dev_dma_map_memory_through_the_ioas)
{
	start();
	size_t len = 64u << 10;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	uint64_t iova = vm_aw_bits() == 48 ? (uintptr_t)mem : 0x7100000000ull;
	struct dk_device *d = &g_dev->device;
	REQUIRE_INT_EQ(dk_dev_dma_map(d, mem, iova, len), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_dev_dma_map(d, mem, iova, len), -EEXIST);
	dk_test_log_capture_stop();
	for (size_t i = 0; i < 1024; i++)
		mem[4096 + i] = (unsigned char)(i ^ 0x5a);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 1, iova + 4096, 0, 1024, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma(g_edu, 0, iova + 8192, 0, 1024, TMO), 0);
	CHECK(memcmp(mem + 4096, mem + 8192, 1024) == 0);
	CHECK_INT_EQ(dk_dev_dma_unmap(d, mem, iova, len), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_dev_dma_unmap(d, mem, iova, len), -ENOENT);
	dk_test_log_capture_stop();
	munmap(mem, len);
}

DK_TEST(container_requested_on_the_same_kernel)
{
	need_iommufd();
	setenv("DMAKIT_VFIO_BACKEND", "container", 1);
	start();
	unsetenv("DMAKIT_VFIO_BACKEND");
	struct dk_vfio_container *c = edu_ioas();
	CHECK_INT_EQ(dk_vfio_container_backend(c), DK_VFIO_BACKEND_CONTAINER);
	CHECK(c == dk_vfio_container_default());
	struct dk_vfio_iommu_info info;
	REQUIRE_INT_EQ(dk_vfio_iommu_info(NULL, &info), 0);
	CHECK_INT_EQ(info.iommu_type, 3); /* type1v2 */
	unsigned char *a = dk_malloc(NULL, 2000, 64), *b = dk_malloc(NULL, 2000, 64);
	REQUIRE(a && b);
	roundtrip(a, b, 2000, 5);
	dk_free(a);
	dk_free(b);
}

DK_TEST(bad_input_second_ioas_and_group_open)
{
	start();
	struct dk_vfio_container *other = dk_vfio_iommufd_create();
	REQUIRE(other != NULL);
	CHECK_INT_EQ(dk_vfio_container_backend(other), DK_VFIO_BACKEND_IOMMUFD);
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_vfio_device_open(other, -1, VM_EDU) == NULL);
	CHECK_INT_EQ(errno, EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "attached to another IOAS of this process");
	/* An IOAS without devices has no IOMMU yet. */
	struct dk_vfio_iommu_info info;
	CHECK_INT_EQ(dk_vfio_iommu_info(other, &info), -ENXIO);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "open a device in it first");
	/* Groups join containers, not an IOAS. */
	errno = 0;
	CHECK(dk_vfio_group_open(other, g_dev->iommu_group) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	/* The group of a device bound through its cdev cannot be opened. */
	errno = 0;
	CHECK(dk_vfio_group_open(NULL, g_dev->iommu_group) == NULL);
	CHECK_INT_EQ(errno, EBUSY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "open through its cdev (the iommufd backend)");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_vfio_container_destroy(other), 0);
}

/* In a child as user nobody: 0 when both refusals came as expected. */
static int child_as_nobody(const char *cdev)
{
	if (setgid(65534) != 0 || setuid(65534) != 0)
		return 10;
	errno = 0;
	struct dk_vfio_container *c = dk_vfio_iommufd_create();
	if (!c)
		return 11;
	errno = 0;
	if (dk_vfio_device_open(c, -1, VM_EDU) != NULL || errno != EACCES)
		return 12;
	int fd = open(cdev, O_RDWR);
	return fd < 0 && errno == EACCES ? 0 : 13;
}

DK_TEST(bad_input_cdev_the_user_may_not_open)
{
	need_iommufd();
	vm_vfio_dev(VM_EDU);
	vm_init();
	DIR *d = opendir("/sys/bus/pci/devices/" VM_EDU "/vfio-dev");
	REQUIRE(d != NULL);
	char node[256] = "";
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "vfio", 4) == 0)
			snprintf(node, sizeof(node), "%s", e->d_name);
	closedir(d);
	REQUIRE(node[0] != '\0');
	char cdev[300];
	snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s", node);
	struct stat st;
	REQUIRE_INT_EQ(stat("/dev/iommu", &st), 0);
	mode_t iommu_mode = st.st_mode & 07777;
	REQUIRE_INT_EQ(chmod("/dev/iommu", 0666), 0); /* the IOAS may be made; the cdev is 0600 */
	dk_test_log_capture_start();
	fflush(NULL);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(child_as_nobody(cdev));
	int status = 0;
	waitpid(pid, &status, 0);
	chmod("/dev/iommu", iommu_mode);
	CHECK(WIFEXITED(status));
	CHECK_INT_EQ(WEXITSTATUS(status), 0);
	dk_test_log_capture_stop();
}

/* Run cmd through the shell; its output (stdout and stderr) into out. */
static int run_cmd(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	size_t n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

DK_TEST(dmakit_iommu_shows_the_backend_and_another_process_is_refused)
{
	need_iommufd();
	if (access("/usr/bin/dmakit", X_OK) != 0)
		SKIP("no /usr/bin/dmakit (run.sh --tool build/vm-static/tools/dmakit/dmakit)");
	vm_vfio_dev(VM_EDU);
	static char out[16384];
	int rc = run_cmd("dmakit iommu 2>&1", out, sizeof(out));
	printf("%s", out);
	CHECK_INT_EQ(rc, 0);
	CHECK_STR_CONTAINS(out, "backend         iommufd (/dev/iommu and /dev/vfio/devices/vfio");
	CHECK_STR_CONTAINS(out, "IOMMU           iommufd");
	CHECK_STR_CONTAINS(out, "devices         " VM_EDU);
	CHECK_STR_CONTAINS(out, vm_aw_bits() == 48 ? "-0x0000ffffffffffff" : "-0x0000007fffffffff");
	rc = run_cmd("DMAKIT_VFIO_BACKEND=container dmakit iommu --json 2>&1", out, sizeof(out));
	CHECK_INT_EQ(rc, 0);
	CHECK_STR_CONTAINS(out, "\"backend\": \"container\"");
	CHECK_STR_CONTAINS(out, "\"iommu_type\": \"type1v2\"");
	/* While this process holds edu, another one cannot bind it. */
	dk_cleanup(); /* vm_vfio_dev started the library without the edu driver */
	start();
	REQUIRE(dk_pci_vfio_device(g_dev) != NULL);
	rc = run_cmd("dmakit iommu 2>&1", out, sizeof(out));
	printf("%s", out);
	CHECK_INT_EQ(rc, 1);
	CHECK_STR_CONTAINS(out, "VFIO_DEVICE_BIND_IOMMUFD refused");
	CHECK_STR_CONTAINS(out, "close it there first");
}

DK_TEST(iommufd_requested_on_a_kernel_without_it)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	if (access("/dev/iommu", F_OK) == 0)
		SKIP("this kernel has /dev/iommu: the refusal is tested on Debian's kernel");
	REQUIRE_INT_EQ(dk_pci_bind(VM_EDU, "vfio-pci"), 0);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE | DK_INIT_IN_MEMORY;
	p.vfio_backend = DK_VFIO_BACKEND_IOMMUFD;
	dk_test_log_capture_start();
	/* The IOVA plan cannot ask the IOMMU: auto falls back to va with a warning. */
	REQUIRE_INT_EQ(dk_init(&p), 0);
	struct dk_pci_device *d = dk_pci_find(VM_EDU);
	REQUIRE(d != NULL);
	CHECK_INT_EQ(dk_pci_vfio_open(d), -ENOTSUP);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "VFIO backend iommufd for " VM_EDU " refused");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "CONFIG_IOMMUFD");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_VFIO_BACKEND=auto or container");
	CHECK(!dk_pci_vfio_is_open(d));
	errno = 0;
	CHECK(dk_vfio_iommufd_create() == NULL);
	CHECK_INT_EQ(errno, ENOTSUP);
	dk_test_log_capture_stop();
	/* The container path still works once asked for. */
	dk_cleanup();
	p.vfio_backend = DK_VFIO_BACKEND_AUTO;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	d = dk_pci_find(VM_EDU);
	REQUIRE(d != NULL);
	CHECK_INT_EQ(dk_pci_vfio_open(d), 0);
	CHECK_INT_EQ(dk_vfio_container_backend(dk_vfio_device_container(dk_pci_vfio_device(d))),
		     DK_VFIO_BACKEND_CONTAINER);
}
