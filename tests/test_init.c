/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/init.c: parameters, environment, failure rollback, re-init. */
#include <errno.h>
#include <stdlib.h>

#include <dmakit/dmakit.h>

#include "core/log_internal.h"
#include "fixture.h"
#include "tap.h"

static struct dk_fx *tree(void)
{
	struct dk_fx *fx = dk_fx_new();
	struct dk_fx_spec s = dk_fx_spec_endpoint();
	dk_fx_add(fx, "0000:00:02.0", NULL, &s);
	dk_fx_add(fx, "0000:00:03.0", NULL, &s);
	return fx;
}

DK_TEST(null_params_use_environment)
{
	struct dk_fx *fx = tree();
	setenv("DMAKIT_SYSFS_ROOT", dk_fx_root(fx), 1);
	REQUIRE_INT_EQ(dk_init(NULL), 0);
	CHECK_INT_EQ(dk_initialized(), 1);
	CHECK_STR_EQ(dk_sysfs_root(), dk_fx_root(fx));
	CHECK_INT_EQ(dk_pci_count(), 2);
	dk_cleanup();
	CHECK_INT_EQ(dk_initialized(), 0);
	CHECK_INT_EQ(dk_pci_count(), 0);
	unsetenv("DMAKIT_SYSFS_ROOT");
	dk_fx_free(fx);
}

DK_TEST(params_override_environment)
{
	struct dk_fx *fx = tree();
	setenv("DMAKIT_SYSFS_ROOT", "/nonexistent-dmakit-root", 1);
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	REQUIRE_INT_EQ(dk_init(&p), 0);
	CHECK_INT_EQ(dk_pci_count(), 2);
	dk_cleanup();
	unsetenv("DMAKIT_SYSFS_ROOT");
	dk_fx_free(fx);
}

DK_TEST(twice_is_ealready_and_reinit_after_cleanup_works)
{
	struct dk_fx *fx = tree();
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	REQUIRE_INT_EQ(dk_init(&p), 0);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_init(&p), -EALREADY);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "call dk_cleanup first");
	dk_cleanup();
	dk_cleanup(); /* a no-op */
	REQUIRE_INT_EQ(dk_init(&p), 0);
	CHECK_INT_EQ(dk_pci_count(), 2);
	dk_cleanup();
	dk_fx_free(fx);
}

DK_TEST(vfio_backend_parameter_and_environment_are_checked)
{
	struct dk_fx *fx = tree();
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	p.vfio_backend = 7;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_init(&p), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DK_VFIO_BACKEND_AUTO, _CONTAINER or _IOMMUFD");
	CHECK_INT_EQ(dk_initialized(), 0);
	p.vfio_backend = 0;
	setenv("DMAKIT_VFIO_BACKEND", "legacy", 1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_init(&p), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_VFIO_BACKEND=legacy: use auto, container or iommufd");
	CHECK_INT_EQ(dk_initialized(), 0);
	/* The parameter wins over a bad environment, and dk_cleanup forgets it. */
	p.vfio_backend = DK_VFIO_BACKEND_CONTAINER;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	char why[256];
	CHECK_INT_EQ(dk_vfio_backend_select("0000:00:02.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_EQ(why, "requested (dk_init parameter)");
	dk_cleanup();
	setenv("DMAKIT_VFIO_BACKEND", "container", 1);
	CHECK_INT_EQ(dk_vfio_backend_select("0000:00:02.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_EQ(why, "requested (DMAKIT_VFIO_BACKEND)");
	/* dk_init takes the environment as it finds it: a later change does not count. */
	p.vfio_backend = 0;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	setenv("DMAKIT_VFIO_BACKEND", "iommufd", 1);
	CHECK_INT_EQ(dk_vfio_backend_select("0000:00:02.0", why, sizeof(why)),
		     DK_VFIO_BACKEND_CONTAINER);
	CHECK_STR_EQ(why, "requested (DMAKIT_VFIO_BACKEND)");
	dk_cleanup();
	unsetenv("DMAKIT_VFIO_BACKEND");
	dk_fx_free(fx);
}

DK_TEST(missing_root_fails_and_can_retry)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = "/nonexistent-dmakit-root";
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_init(&p), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "/nonexistent-dmakit-root does not exist");
	CHECK_INT_EQ(dk_initialized(), 0);
	struct dk_fx *fx = tree();
	p.sysfs_root = dk_fx_root(fx);
	CHECK_INT_EQ(dk_init(&p), 0);
	dk_cleanup();
	dk_fx_free(fx);
}

DK_TEST(root_without_pci_bus_has_no_devices)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_test_tmpdir();
	REQUIRE_INT_EQ(dk_init(&p), 0);
	CHECK_INT_EQ(dk_pci_count(), 0);
	dk_cleanup();
}

DK_TEST(bad_params_are_einval)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	dk_test_log_capture_start();
	p.size = 0;
	CHECK_INT_EQ(dk_init(&p), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "dk_init_params_default");
	dk_init_params_default(&p);
	p.log_level = 42;
	CHECK_INT_EQ(dk_init(&p), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "out of range");
	dk_init_params_default(&p);
	const char *allow[] = { "0000:00:02.0", NULL };
	const char *deny[] = { "0000:00:03.0", NULL };
	p.allow = allow;
	p.deny = deny;
	CHECK_INT_EQ(dk_init(&p), -EINVAL);
	const char *bad[] = { "0000:00:02.0,=x", NULL };
	p.allow = bad;
	p.deny = NULL;
	CHECK_INT_EQ(dk_init(&p), -EINVAL);
	CHECK_INT_EQ(dk_initialized(), 0);
}

DK_TEST(newer_caller_struct_with_unknown_fields)
{
	struct {
		struct dk_init_params p;
		uint64_t future;
	} big;
	memset(&big, 0, sizeof(big));
	dk_init_params_default(&big.p);
	big.p.size = sizeof(big);
	struct dk_fx *fx = tree();
	big.p.sysfs_root = dk_fx_root(fx);
	CHECK_INT_EQ(dk_init(&big.p), 0); /* unknown tail is zero: fine */
	dk_cleanup();
	big.future = 1;
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_init(&big.p), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "upgrade libdmakit");
	dk_fx_free(fx);
}

DK_TEST(environment_lists_and_log_level)
{
	struct dk_fx *fx = tree();
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	setenv("DMAKIT_ALLOW", "0000:00:02.0,x=1; 00:03.0", 1);
	REQUIRE_INT_EQ(dk_init(&p), 0);
	const struct dk_devargs *da = NULL;
	CHECK_INT_EQ(dk_bus_device_policy("0000:00:02.0", &da), DK_DEV_POLICY_PROBE);
	CHECK(da && strcmp(dk_devargs_get(da, "x"), "1") == 0);
	CHECK_INT_EQ(dk_bus_device_policy("0000:00:03.0", NULL), DK_DEV_POLICY_PROBE);
	CHECK_INT_EQ(dk_bus_device_policy("0000:00:04.0", NULL), DK_DEV_POLICY_SKIP);
	dk_cleanup();
	unsetenv("DMAKIT_ALLOW");
	setenv("DMAKIT_LOG_LEVEL", "loud", 1);
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_init(&p), -EINVAL);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_LOG_LEVEL");
	dk_test_log_capture_stop();
	setenv("DMAKIT_LOG_LEVEL", "debug", 1);
	REQUIRE_INT_EQ(dk_init(&p), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_DEBUG);
	dk_cleanup();
	/* The application's own choice wins over the environment. */
	dk_log_set_level(DK_LOG_ERR);
	REQUIRE_INT_EQ(dk_init(&p), 0);
	CHECK_INT_EQ(dk_log_get_level(), DK_LOG_ERR);
	dk_cleanup();
	dk__log_reset();
	unsetenv("DMAKIT_LOG_LEVEL");
	dk_fx_free(fx);
}

DK_TEST(no_scan_flag_then_explicit_scan)
{
	struct dk_fx *fx = tree();
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.sysfs_root = dk_fx_root(fx);
	p.flags = DK_INIT_NO_SCAN;
	REQUIRE_INT_EQ(dk_init(&p), 0);
	CHECK_INT_EQ(dk_pci_count(), 0);
	CHECK_INT_EQ(dk_pci_scan(), 2);
	CHECK_INT_EQ(dk_pci_count(), 2);
	dk_cleanup();
	dk_fx_free(fx);
}
