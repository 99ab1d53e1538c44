/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for src/vfio/vfio_backend.c and the host-side paths of the iommufd
 * backend (vfio_iommufd.c, vfio_device.c): the backend choice from a fixture
 * sysfs (vfio-dev/ entries) and a fixture /dev (iommu, vfio/devices/vfioN),
 * the request from dk_init and DMAKIT_VFIO_BACKEND, each refusal with its
 * reason, and opens that must fail cleanly. Binding and mapping through a
 * real /dev/iommu are covered by the VM suite (tests/vm, --kernel iommufd).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmakit/dmakit.h>

#include "core/sysfs.h"
#include "fixture.h"
#include "tap.h"
#include "vfio/vfio_internal.h"

static struct dk_fx *g_fx;
static char g_dev[PATH_MAX]; /* the fixture's /dev */

static void mkpath(const char *path)
{
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		abort(); /* a fixture path never gets this long */
	memcpy(buf, path, strlen(path) + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

static void path_in(char *buf, size_t len, const char *base, const char *rel)
{
	int n = snprintf(buf, len, "%s/%s", base, rel);
	if (n < 0 || (size_t)n >= len)
		abort(); /* a fixture path never gets this long */
}

/* 0000:04:00.0 has a cdev (vfio3), 0000:05:00.0 is bound to vfio-pci without
 * one (a kernel without VFIO_DEVICE_CDEV), an mdev has vfio4; /dev has
 * iommu when with_iommu. */
static void setup(int with_iommu)
{
	g_fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	s.driver = "vfio-pci";
	s.iommu_group = 7;
	dk_fx_add(g_fx, "0000:04:00.0", NULL, &s);
	s.iommu_group = 8;
	dk_fx_add(g_fx, "0000:05:00.0", NULL, &s);
	char p[PATH_MAX];
	path_in(p, sizeof(p), dk_fx_root(g_fx), "bus/pci/devices/0000:04:00.0/vfio-dev/vfio3");
	mkpath(p);
	path_in(p, sizeof(p), dk_fx_root(g_fx),
		"bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/vfio-dev/vfio4");
	mkpath(p);
	path_in(g_dev, sizeof(g_dev), dk_fx_root(g_fx), "dev");
	path_in(p, sizeof(p), g_dev, "vfio/devices");
	mkpath(p);
	path_in(p, sizeof(p), g_dev, "vfio/devices/vfio3");
	touch(p);
	path_in(p, sizeof(p), g_dev, "vfio/devices/vfio4");
	touch(p);
	if (with_iommu) {
		path_in(p, sizeof(p), g_dev, "iommu");
		touch(p);
	}
	dk__sysfs_set_root(dk_fx_root(g_fx));
	dk__vfio_set_dev_root(g_dev);
	unsetenv("DMAKIT_VFIO_BACKEND");
	dk__vfio_set_backend(DK_VFIO_BACKEND_AUTO);
}

static void teardown(void)
{
	dk__vfio_set_backend(DK_VFIO_BACKEND_AUTO);
	unsetenv("DMAKIT_VFIO_BACKEND");
	dk__vfio_set_dev_root(NULL);
	dk__sysfs_set_root(NULL);
	dk_fx_free(g_fx);
}

DK_TEST(names_and_parse)
{
	CHECK_STR_EQ(dk_vfio_backend_name(DK_VFIO_BACKEND_AUTO), "auto");
	CHECK_STR_EQ(dk_vfio_backend_name(DK_VFIO_BACKEND_CONTAINER), "container");
	CHECK_STR_EQ(dk_vfio_backend_name(DK_VFIO_BACKEND_IOMMUFD), "iommufd");
	CHECK(dk_vfio_backend_name(3) == NULL);
	CHECK(dk_vfio_backend_name(-1) == NULL);
	CHECK_INT_EQ(dk__vfio_backend_parse("iommufd"), DK_VFIO_BACKEND_IOMMUFD);
	CHECK_INT_EQ(dk__vfio_backend_parse("container"), DK_VFIO_BACKEND_CONTAINER);
	CHECK_INT_EQ(dk__vfio_backend_parse("auto"), DK_VFIO_BACKEND_AUTO);
	CHECK_INT_EQ(dk__vfio_backend_parse("IOMMUFD"), -EINVAL);
	CHECK_INT_EQ(dk__vfio_backend_parse(""), -EINVAL);
	CHECK_INT_EQ(dk__vfio_backend_parse(NULL), -EINVAL);
}

DK_TEST(cdev_path_from_sysfs_vfio_dev)
{
	setup(1);
	char path[PATH_MAX], want[PATH_MAX];
	REQUIRE_INT_EQ(dk__vfio_cdev_path("0000:04:00.0", path, sizeof(path)), 0);
	path_in(want, sizeof(want), g_dev, "vfio/devices/vfio3");
	CHECK_STR_EQ(path, want);
	REQUIRE_INT_EQ(dk__vfio_cdev_path("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", path, sizeof(path)), 0);
	path_in(want, sizeof(want), g_dev, "vfio/devices/vfio4");
	CHECK_STR_EQ(path, want);
	CHECK_INT_EQ(dk__vfio_cdev_path("0000:05:00.0", path, sizeof(path)), -ENOENT);
	CHECK_INT_EQ(dk__vfio_cdev_path("0000:09:00.0", path, sizeof(path)), -ENOENT);
	CHECK_INT_EQ(dk__vfio_cdev_path("../../etc", path, sizeof(path)), -EINVAL);
	CHECK_INT_EQ(dk__vfio_cdev_path("", path, sizeof(path)), -EINVAL);
	CHECK_INT_EQ(dk__vfio_cdev_path("0000:04:00.0", path, 8), -ENAMETOOLONG);
	teardown();
}

DK_TEST(auto_picks_iommufd_where_both_nodes_exist)
{
	setup(1);
	char why[512];
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_IOMMUFD);
	CHECK_STR_CONTAINS(why, "/dev/iommu and ");
	CHECK_STR_CONTAINS(why, "/dev/vfio/devices/vfio3 exist");
	/* No vfio-dev/: the container, with the reason. */
	CHECK_INT_EQ(dk_vfio_backend_select("0000:05:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_CONTAINS(why, "0000:05:00.0 has no vfio-dev/ in sysfs");
	CHECK_STR_CONTAINS(why, "VFIO_DEVICE_CDEV");
	/* why is optional */
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", NULL, 0), DK_VFIO_BACKEND_IOMMUFD);
	teardown();
}

DK_TEST(auto_falls_back_without_dev_iommu)
{
	setup(0);
	char why[512];
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_CONTAINS(why, "/dev/iommu: the kernel has no IOMMUFD (CONFIG_IOMMUFD)");
	teardown();
}

DK_TEST(auto_falls_back_when_the_node_is_missing)
{
	setup(1);
	char p[PATH_MAX], why[512];
	path_in(p, sizeof(p), g_dev, "vfio/devices/vfio3");
	unlink(p);
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_CONTAINS(why, "vfio/devices/vfio3 although sysfs lists it");
	CHECK_STR_CONTAINS(why, "devtmpfs");
	teardown();
}

DK_TEST(iommufd_requested_is_refused_with_the_reason)
{
	setup(0);
	char why[512];
	REQUIRE_INT_EQ(dk__vfio_set_backend(DK_VFIO_BACKEND_IOMMUFD), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)), -ENOTSUP);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "VFIO backend iommufd for 0000:04:00.0 refused");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "CONFIG_IOMMUFD");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_VFIO_BACKEND=auto or container");
	teardown();

	setup(1); /* a kernel with /dev/iommu, a device without its cdev */
	REQUIRE_INT_EQ(dk__vfio_set_backend(DK_VFIO_BACKEND_IOMMUFD), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_backend_select("0000:05:00.0", why, sizeof(why)), -ENOTSUP);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "bind it to vfio-pci (dmakit bind 0000:05:00.0)");
	teardown();
}

DK_TEST(the_request_comes_from_dk_init_then_the_environment)
{
	setup(1);
	char why[512];
	setenv("DMAKIT_VFIO_BACKEND", "container", 1);
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_EQ(why, "requested (DMAKIT_VFIO_BACKEND)");
	/* The dk_init parameter wins over the environment. */
	REQUIRE_INT_EQ(dk__vfio_set_backend(DK_VFIO_BACKEND_IOMMUFD), 0);
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_IOMMUFD);
	REQUIRE_INT_EQ(dk__vfio_set_backend(DK_VFIO_BACKEND_CONTAINER), 0);
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_EQ(why, "requested (dk_init parameter)");
	dk__vfio_set_backend(DK_VFIO_BACKEND_AUTO);
	setenv("DMAKIT_VFIO_BACKEND", "iommufd", 1);
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_IOMMUFD);
	teardown();
}

DK_TEST(bad_requests_are_einval_with_the_words)
{
	setup(1);
	char why[512];
	setenv("DMAKIT_VFIO_BACKEND", "fast", 1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_backend_select("0000:04:00.0", why, sizeof(why)), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_VFIO_BACKEND=fast: use auto, container or iommufd");
	unsetenv("DMAKIT_VFIO_BACKEND");
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__vfio_set_backend(3), -EINVAL);
	CHECK_INT_EQ(dk__vfio_set_backend(-1), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DK_VFIO_BACKEND_AUTO, _CONTAINER or _IOMMUFD");
	/* A refused request changed nothing. */
	CHECK_INT_EQ(dk__vfio_backend_request(), DK_VFIO_BACKEND_AUTO);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_vfio_backend_select(NULL, why, sizeof(why)), -EINVAL);
	CHECK_INT_EQ(dk_vfio_backend_select("", why, sizeof(why)), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "give a device name");
	CHECK_INT_EQ(dk_vfio_backend_select("a/b", why, sizeof(why)), -EINVAL);
	CHECK_STR_CONTAINS(why, "is not a device name");
	teardown();
}

DK_TEST(no_dev_iommu_refuses_an_ioas)
{
	setup(0);
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_vfio_iommufd_create() == NULL);
	CHECK_INT_EQ(errno, ENOTSUP);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "the kernel has no IOMMUFD");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "use the container backend");
	errno = 0;
	CHECK(dk_vfio_iommufd_default() == NULL);
	CHECK_INT_EQ(errno, ENOTSUP);
	/* A device open with iommufd requested fails the same way, nothing stays open. */
	REQUIRE_INT_EQ(dk__vfio_set_backend(DK_VFIO_BACKEND_IOMMUFD), 0);
	errno = 0;
	CHECK(dk_vfio_device_open(NULL, 7, "0000:04:00.0") == NULL);
	CHECK_INT_EQ(errno, ENOTSUP);
	teardown();
}

DK_TEST(a_dev_iommu_that_is_no_iommufd_fails_the_ioas_alloc)
{
	setup(1); /* a regular file: the IOAS allocation ioctl fails */
	dk_test_log_capture_start();
	errno = 0;
	CHECK(dk_vfio_iommufd_create() == NULL);
	CHECK_INT_EQ(errno, ENOTTY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "IOMMU_IOAS_ALLOC");
	teardown();
}

DK_TEST(container_functions_refuse_null)
{
	CHECK_INT_EQ(dk_vfio_container_backend(NULL), -EINVAL);
}
