/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for src/core/sysfs.c against a scratch directory used as root. */
#include <errno.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmakit/init.h>
#include <dmakit/log.h>

#include "core/sysfs.h"
#include "tap.h"

static char g_root[1024];

/* A fresh directory <tmpdir>/<name> as the sysfs root. */
static void use_root(const char *name)
{
	snprintf(g_root, sizeof(g_root), "%s/%s", dk_test_tmpdir(), name);
	if (mkdir(g_root, 0755) != 0 && errno != EEXIST) {
		dk_test_fail(__FILE__, __LINE__, "mkdir %s: %s", g_root, strerror(errno));
		dk_test_end();
	}
	if (dk__sysfs_set_root(g_root) != 0) {
		dk_test_fail(__FILE__, __LINE__, "dk__sysfs_set_root(%s) failed", g_root);
		dk_test_end();
	}
}

/* Create <root>/rel (parent directories must exist) with len bytes of data. */
static void put(const char *rel, const void *data, size_t len)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", g_root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		dk_test_fail(__FILE__, __LINE__, "create %s: %s", path, strerror(errno));
		dk_test_end();
	}
	close(fd);
}

static void put_str(const char *rel, const char *s)
{
	put(rel, s, strlen(s));
}

static void mkdir_rel(const char *rel)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", g_root, rel);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		dk_test_fail(__FILE__, __LINE__, "mkdir %s: %s", path, strerror(errno));
		dk_test_end();
	}
}

static void symlink_rel(const char *target, const char *rel)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", g_root, rel);
	unlink(path);
	if (symlink(target, path) != 0) {
		dk_test_fail(__FILE__, __LINE__, "symlink %s: %s", path, strerror(errno));
		dk_test_end();
	}
}

/* Whole content of <root>/rel into buf (NUL-terminated); returns its length. */
static ssize_t slurp(const char *rel, char *buf, size_t len)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", g_root, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* ---- root --------------------------------------------------------------- */

DK_TEST(root_set_and_path)
{
	use_root("root_set");
	CHECK_STR_EQ(dk_sysfs_root(), g_root);
	char path[DK__PATH_MAX];
	CHECK_INT_EQ(dk__sysfs_path(path, sizeof(path), "bus/pci/devices"), 0);
	char want[2048];
	snprintf(want, sizeof(want), "%s/bus/pci/devices", g_root);
	CHECK_STR_EQ(path, want);
	/* Too small a buffer. */
	CHECK_INT_EQ(dk__sysfs_path(path, 8, "bus"), -ENAMETOOLONG);
	CHECK_INT_EQ(dk__sysfs_path(path, strlen(want), "bus/pci/devices"), -ENAMETOOLONG);
	CHECK_INT_EQ(dk__sysfs_path(path, strlen(want) + 1, "bus/pci/devices"), 0);
}

DK_TEST(root_trailing_slashes_trimmed)
{
	use_root("root_slash");
	char with[1100];
	snprintf(with, sizeof(with), "%s///", g_root);
	REQUIRE_INT_EQ(dk__sysfs_set_root(with), 0);
	CHECK_STR_EQ(dk_sysfs_root(), g_root);
	snprintf(with, sizeof(with), "%s/", g_root);
	REQUIRE_INT_EQ(dk__sysfs_set_root(with), 0);
	CHECK_STR_EQ(dk_sysfs_root(), g_root);
	put_str("attr", "v\n");
	char buf[16];
	CHECK_INT_EQ(dk__sysfs_read_str("attr", buf, sizeof(buf)), 1);
	CHECK_STR_EQ(buf, "v");
	/* "/" itself is kept. */
	REQUIRE_INT_EQ(dk__sysfs_set_root("/"), 0);
	CHECK_STR_EQ(dk_sysfs_root(), "/");
	REQUIRE_INT_EQ(dk__sysfs_set_root("///"), 0);
	CHECK_STR_EQ(dk_sysfs_root(), "/");
	dk__sysfs_set_root(NULL);
}

DK_TEST(root_from_environment)
{
	use_root("root_env");
	const char *old = getenv("DMAKIT_SYSFS_ROOT");
	char saved[1024];
	snprintf(saved, sizeof(saved), "%s", old ? old : "");

	char with[1100];
	snprintf(with, sizeof(with), "%s/", g_root);
	setenv("DMAKIT_SYSFS_ROOT", with, 1);
	REQUIRE_INT_EQ(dk__sysfs_set_root("/elsewhere"), 0);
	CHECK_STR_EQ(dk_sysfs_root(), "/elsewhere"); /* explicit root wins */
	REQUIRE_INT_EQ(dk__sysfs_set_root(NULL), 0);
	CHECK_STR_EQ(dk_sysfs_root(), g_root);
	put_str("from_env", "1\n");
	CHECK_INT_EQ(dk__sysfs_exists("from_env"), 1);

	/* Unset or empty: "/sys". */
	unsetenv("DMAKIT_SYSFS_ROOT");
	REQUIRE_INT_EQ(dk__sysfs_set_root(NULL), 0);
	CHECK_STR_EQ(dk_sysfs_root(), "/sys");
	setenv("DMAKIT_SYSFS_ROOT", "", 1);
	REQUIRE_INT_EQ(dk__sysfs_set_root(NULL), 0);
	CHECK_STR_EQ(dk_sysfs_root(), "/sys");

	if (old)
		setenv("DMAKIT_SYSFS_ROOT", saved, 1);
	else
		unsetenv("DMAKIT_SYSFS_ROOT");
	dk__sysfs_set_root(NULL);
}

/* sysfs.h: "Set the root (NULL: environment or "/sys"). -ENAMETOOLONG, -EINVAL (empty)." */
DK_TEST(root_empty_string_rejected)
{
	use_root("root_empty");
	CHECK_INT_EQ(dk__sysfs_set_root(""), -EINVAL);
	CHECK_STR_EQ(dk_sysfs_root(), g_root); /* unchanged */
	dk__sysfs_set_root(NULL);
}

DK_TEST(root_too_long)
{
	use_root("root_long");
	static char longroot[5000];
	longroot[0] = '/';
	memset(longroot + 1, 'a', sizeof(longroot) - 2);
	longroot[sizeof(longroot) - 1] = '\0';
	enum dk_log_level level = dk_log_get_level();
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk__sysfs_set_root(longroot), -ENAMETOOLONG);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "err: sysfs: sysfs root \"/aaaa");
	CHECK_STR_CONTAINS(dk_test_log_captured(), "is too long: use a path shorter than 3840 bytes");
	/* The previous root stays in force. */
	CHECK_STR_EQ(dk_sysfs_root(), g_root);
	/* Exactly DK__PATH_MAX bytes: also too long. */
	longroot[DK__PATH_MAX] = '\0';
	CHECK_INT_EQ(dk__sysfs_set_root(longroot), -ENAMETOOLONG);
	CHECK_STR_EQ(dk_sysfs_root(), g_root);
	dk_test_log_capture_stop();
	dk_log_set_level(level);
	/* A short root padded with many trailing slashes is fine once trimmed. */
	static char slashes[4500];
	int n = snprintf(slashes, sizeof(slashes), "%s", g_root);
	memset(slashes + n, '/', sizeof(slashes) - 1 - (size_t)n);
	slashes[sizeof(slashes) - 1] = '\0';
	CHECK_INT_EQ(dk__sysfs_set_root(slashes), 0);
	CHECK_STR_EQ(dk_sysfs_root(), g_root);
	dk__sysfs_set_root(NULL);
}

DK_TEST(rel_path_too_long)
{
	use_root("rel_long");
	static char rel[DK__PATH_MAX + 10];
	memset(rel, 'r', sizeof(rel) - 1);
	rel[sizeof(rel) - 1] = '\0';
	char buf[16];
	uint64_t u;
	CHECK_INT_EQ(dk__sysfs_read_str(rel, buf, sizeof(buf)), -ENAMETOOLONG);
	CHECK_INT_EQ(dk__sysfs_read_u64(rel, 0, &u), -ENAMETOOLONG);
	CHECK_INT_EQ(dk__sysfs_write_str(rel, "1"), -ENAMETOOLONG);
	CHECK_INT_EQ(dk__sysfs_read_bin(rel, buf, 4, 0), -ENAMETOOLONG);
	CHECK_INT_EQ(dk__sysfs_exists(rel), 0);
	dk__sysfs_set_root(NULL);
}

/* ---- text reads --------------------------------------------------------- */

DK_TEST(read_str_strips_newline)
{
	use_root("read_str");
	char buf[64];
	put_str("a", "hello\n");
	CHECK_INT_EQ(dk__sysfs_read_str("a", buf, sizeof(buf)), 5);
	CHECK_STR_EQ(buf, "hello");
	put_str("b", "no newline");
	CHECK_INT_EQ(dk__sysfs_read_str("b", buf, sizeof(buf)), 10);
	CHECK_STR_EQ(buf, "no newline");
	put_str("c", "crlf\r\n");
	CHECK_INT_EQ(dk__sysfs_read_str("c", buf, sizeof(buf)), 4);
	CHECK_STR_EQ(buf, "crlf");
	put_str("d", "");
	CHECK_INT_EQ(dk__sysfs_read_str("d", buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "");
	put_str("e", "\n");
	CHECK_INT_EQ(dk__sysfs_read_str("e", buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "");
	put_str("f", "two words \n");
	CHECK_INT_EQ(dk__sysfs_read_str("f", buf, sizeof(buf)), 10);
	CHECK_STR_EQ(buf, "two words ");
	/* Inner newlines stay. */
	put_str("g", "l1\nl2\n");
	CHECK_INT_EQ(dk__sysfs_read_str("g", buf, sizeof(buf)), 5);
	CHECK_STR_EQ(buf, "l1\nl2");
	/* In a subdirectory. */
	mkdir_rel("dev");
	put_str("dev/vendor", "0x8086\n");
	CHECK_INT_EQ(dk__sysfs_read_str("dev/vendor", buf, sizeof(buf)), 6);
	CHECK_STR_EQ(buf, "0x8086");
	dk__sysfs_set_root(NULL);
}

DK_TEST(read_str_missing)
{
	use_root("read_missing");
	char buf[16];
	CHECK_INT_EQ(dk__sysfs_read_str("nope", buf, sizeof(buf)), -ENOENT);
	CHECK_INT_EQ(dk__sysfs_read_str("no/such/dir", buf, sizeof(buf)), -ENOENT);
	put_str("x", "1\n");
	CHECK_INT_EQ(dk__sysfs_read_str("x", buf, 0), -EINVAL);
	dk__sysfs_set_root(NULL);
}

DK_TEST(read_str_overflow)
{
	use_root("read_overflow");
	char buf[8];
	put_str("big", "0123456789\n");
	CHECK_INT_EQ(dk__sysfs_read_str("big", buf, sizeof(buf)), -EOVERFLOW);
	/* Exactly the buffer size, no room for the NUL. */
	put_str("eight", "01234567");
	CHECK_INT_EQ(dk__sysfs_read_str("eight", buf, sizeof(buf)), -EOVERFLOW);
	/* One less fits. */
	put_str("seven", "0123456");
	CHECK_INT_EQ(dk__sysfs_read_str("seven", buf, sizeof(buf)), 7);
	CHECK_STR_EQ(buf, "0123456");
	put_str("six_nl", "012345\n");
	CHECK_INT_EQ(dk__sysfs_read_str("six_nl", buf, sizeof(buf)), 6);
	CHECK_STR_EQ(buf, "012345");
	dk__sysfs_set_root(NULL);
}

DK_TEST(read_u64_values)
{
	use_root("read_u64");
	uint64_t v = 0;
	put_str("hex", "0x1af\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("hex", 16, &v), 0);
	CHECK_INT_EQ(v, 0x1af);
	CHECK_INT_EQ(dk__sysfs_read_u64("hex", 0, &v), 0);
	CHECK_INT_EQ(v, 0x1af);
	CHECK_INT_EQ(dk__sysfs_read_u64("hex", 10, &v), -EINVAL);
	put_str("barehex", "8086\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("barehex", 16, &v), 0);
	CHECK_INT_EQ(v, 0x8086);
	put_str("dec", "4096\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("dec", 10, &v), 0);
	CHECK_INT_EQ(v, 4096);
	CHECK_INT_EQ(dk__sysfs_read_u64("dec", 0, &v), 0);
	CHECK_INT_EQ(v, 4096);
	put_str("max", "18446744073709551615\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("max", 10, &v), 0);
	CHECK(v == UINT64_MAX);

	v = 77;
	put_str("garbage", "zz\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("garbage", 0, &v), -EINVAL);
	put_str("empty", "\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("empty", 0, &v), -EINVAL);
	put_str("neg", "-1\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("neg", 10, &v), -EINVAL);
	put_str("over", "18446744073709551616\n");
	CHECK_INT_EQ(dk__sysfs_read_u64("over", 10, &v), -ERANGE);
	/* Longer than any number: malformed rather than overflow. */
	char big[200];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put_str("huge", big);
	CHECK_INT_EQ(dk__sysfs_read_u64("huge", 10, &v), -EINVAL);
	CHECK_INT_EQ(dk__sysfs_read_u64("missing", 10, &v), -ENOENT);
	CHECK_INT_EQ(v, 77);
	dk__sysfs_set_root(NULL);
}

DK_TEST(read_i64_values)
{
	use_root("read_i64");
	int64_t v = 0;
	put_str("numa_node", "-1\n");
	CHECK_INT_EQ(dk__sysfs_read_i64("numa_node", &v), 0);
	CHECK_INT_EQ(v, -1);
	put_str("pos", "3\n");
	CHECK_INT_EQ(dk__sysfs_read_i64("pos", &v), 0);
	CHECK_INT_EQ(v, 3);
	put_str("min", "-9223372036854775808\n");
	CHECK_INT_EQ(dk__sysfs_read_i64("min", &v), 0);
	CHECK(v == INT64_MIN);
	v = 55;
	put_str("garbage", "minus one\n");
	CHECK_INT_EQ(dk__sysfs_read_i64("garbage", &v), -EINVAL);
	put_str("hex", "0x10\n");
	CHECK_INT_EQ(dk__sysfs_read_i64("hex", &v), -EINVAL);
	put_str("under", "-9223372036854775809\n");
	CHECK_INT_EQ(dk__sysfs_read_i64("under", &v), -ERANGE);
	CHECK_INT_EQ(dk__sysfs_read_i64("missing", &v), -ENOENT);
	CHECK_INT_EQ(v, 55);
	dk__sysfs_set_root(NULL);
}

/* ---- links -------------------------------------------------------------- */

DK_TEST(read_link_relative)
{
	use_root("links");
	mkdir_rel("devices");
	mkdir_rel("devices/0000:03:00.0");
	const char *target = "../../bus/pci/drivers/vfio-pci";
	symlink_rel(target, "devices/0000:03:00.0/driver");
	char buf[256];
	CHECK_INT_EQ(dk__sysfs_read_link("devices/0000:03:00.0/driver", buf, sizeof(buf)),
		     (int)strlen(target));
	CHECK_STR_EQ(buf, target);
	/* The target need not exist: the link is read as stored. */
	CHECK_INT_EQ(dk__sysfs_exists("devices/0000:03:00.0/driver"), 1);

	CHECK_INT_EQ(dk__sysfs_read_link_name("devices/0000:03:00.0/driver", buf, sizeof(buf)), 8);
	CHECK_STR_EQ(buf, "vfio-pci");
	/* Buffer sizes: the name needs 9 bytes with its NUL. */
	CHECK_INT_EQ(dk__sysfs_read_link_name("devices/0000:03:00.0/driver", buf, 8), -EOVERFLOW);
	CHECK_INT_EQ(dk__sysfs_read_link_name("devices/0000:03:00.0/driver", buf, 9), 8);
	CHECK_STR_EQ(buf, "vfio-pci");
	CHECK_INT_EQ(dk__sysfs_read_link("devices/0000:03:00.0/driver", buf, strlen(target)),
		     -EOVERFLOW);
	CHECK_INT_EQ(dk__sysfs_read_link("devices/0000:03:00.0/driver", buf, strlen(target) + 1),
		     (int)strlen(target));
	CHECK_INT_EQ(dk__sysfs_read_link("devices/0000:03:00.0/driver", buf, 0), -EINVAL);

	/* A target without a slash is its own name. */
	symlink_rel("iommu_group7", "devices/plain");
	CHECK_INT_EQ(dk__sysfs_read_link_name("devices/plain", buf, sizeof(buf)), 12);
	CHECK_STR_EQ(buf, "iommu_group7");
	/* A target ending in '/' has no last component. */
	symlink_rel("../groups/", "devices/slash");
	CHECK_INT_EQ(dk__sysfs_read_link_name("devices/slash", buf, sizeof(buf)), -EINVAL);

	/* Not a link / missing. */
	put_str("devices/file", "x\n");
	CHECK_INT_EQ(dk__sysfs_read_link("devices/file", buf, sizeof(buf)), -EINVAL);
	CHECK_INT_EQ(dk__sysfs_read_link_name("devices/file", buf, sizeof(buf)), -EINVAL);
	CHECK_INT_EQ(dk__sysfs_read_link("devices/none", buf, sizeof(buf)), -ENOENT);
	CHECK_INT_EQ(dk__sysfs_read_link_name("devices/none", buf, sizeof(buf)), -ENOENT);
	dk__sysfs_set_root(NULL);
}

/* ---- binary and writes -------------------------------------------------- */

DK_TEST(read_bin_offsets)
{
	use_root("bin");
	unsigned char data[16], buf[32];
	for (int i = 0; i < 16; i++)
		data[i] = (unsigned char)(0xa0 + i);
	put("config", data, sizeof(data));

	memset(buf, 0, sizeof(buf));
	CHECK_INT_EQ(dk__sysfs_read_bin("config", buf, 16, 0), 16);
	CHECK(memcmp(buf, data, 16) == 0);
	memset(buf, 0, sizeof(buf));
	CHECK_INT_EQ(dk__sysfs_read_bin("config", buf, 8, 4), 8);
	CHECK(memcmp(buf, data + 4, 8) == 0);
	CHECK_INT_EQ(buf[8], 0);
	/* Short at EOF. */
	memset(buf, 0, sizeof(buf));
	CHECK_INT_EQ(dk__sysfs_read_bin("config", buf, 8, 12), 4);
	CHECK(memcmp(buf, data + 12, 4) == 0);
	CHECK_INT_EQ(buf[4], 0);
	CHECK_INT_EQ(dk__sysfs_read_bin("config", buf, 32, 0), 16);
	CHECK_INT_EQ(dk__sysfs_read_bin("config", buf, 8, 16), 0);
	CHECK_INT_EQ(dk__sysfs_read_bin("config", buf, 8, 1000), 0);
	CHECK_INT_EQ(dk__sysfs_read_bin("config", buf, 0, 0), 0);
	CHECK_INT_EQ(dk__sysfs_read_bin("missing", buf, 8, 0), -ENOENT);
	dk__sysfs_set_root(NULL);
}

DK_TEST(write_bin_at_offset)
{
	use_root("wbin");
	unsigned char data[16], buf[32];
	memset(data, 0, sizeof(data));
	put("config", data, sizeof(data));
	const unsigned char cmd[4] = { 0x06, 0x04, 0x10, 0x00 };
	CHECK_INT_EQ(dk__sysfs_write_bin("config", cmd, sizeof(cmd), 4), 4);
	CHECK_INT_EQ(slurp("config", (char *)buf, sizeof(buf)), 16);
	CHECK(memcmp(buf, data, 4) == 0);
	CHECK(memcmp(buf + 4, cmd, 4) == 0);
	CHECK(memcmp(buf + 8, data + 8, 8) == 0);
	CHECK_INT_EQ(dk__sysfs_write_bin("config", cmd, 0, 0), 0);
	CHECK_INT_EQ(dk__sysfs_write_bin("missing", cmd, sizeof(cmd), 0), -ENOENT);
	dk__sysfs_set_root(NULL);
}

DK_TEST(write_str_truncates)
{
	use_root("wstr");
	char buf[64];
	put_str("driver_override", "a much longer old value\n");
	CHECK_INT_EQ(dk__sysfs_write_str("driver_override", "vfio-pci"), 0);
	CHECK_INT_EQ(slurp("driver_override", buf, sizeof(buf)), 8);
	CHECK_STR_EQ(buf, "vfio-pci");
	CHECK_INT_EQ(dk__sysfs_read_str("driver_override", buf, sizeof(buf)), 8);
	CHECK_STR_EQ(buf, "vfio-pci");
	CHECK_INT_EQ(dk__sysfs_write_str("driver_override", ""), 0);
	CHECK_INT_EQ(slurp("driver_override", buf, sizeof(buf)), 0);
	/* No file is created: sysfs attributes exist or they do not. */
	CHECK_INT_EQ(dk__sysfs_write_str("new_id", "8086 1234"), -ENOENT);
	CHECK_INT_EQ(dk__sysfs_exists("new_id"), 0);
	mkdir_rel("dir");
	CHECK_INT_EQ(dk__sysfs_write_str("dir", "1"), -EISDIR);
	dk__sysfs_set_root(NULL);
}

DK_TEST(exists_cases)
{
	use_root("exists");
	put_str("file", "1\n");
	mkdir_rel("dir");
	symlink_rel("does/not/exist", "dangling");
	CHECK_INT_EQ(dk__sysfs_exists("file"), 1);
	CHECK_INT_EQ(dk__sysfs_exists("dir"), 1);
	CHECK_INT_EQ(dk__sysfs_exists("dangling"), 1); /* the link itself exists */
	CHECK_INT_EQ(dk__sysfs_exists("missing"), 0);
	CHECK_INT_EQ(dk__sysfs_exists("dir/missing"), 0);
	dk__sysfs_set_root(NULL);
}

/* ---- *_at variants ------------------------------------------------------ */

DK_TEST(at_variants)
{
	use_root("at");
	mkdir_rel("dev");
	mkdir_rel("dev/sub");
	put_str("dev/vendor", "0x8086\n");
	put_str("dev/sub/irq", "42\n");
	put_str("dev/garbage", "0xzz\n");
	symlink_rel("../../../bus/pci/drivers/nvme", "dev/driver");

	char path[2048];
	snprintf(path, sizeof(path), "%s/dev", g_root);
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	REQUIRE(dfd >= 0);

	/* The root does not matter for *_at. */
	REQUIRE_INT_EQ(dk__sysfs_set_root("/nonexistent-root"), 0);

	char buf[64];
	CHECK_INT_EQ(dk__sysfs_read_str_at(dfd, "vendor", buf, sizeof(buf)), 6);
	CHECK_STR_EQ(buf, "0x8086");
	CHECK_INT_EQ(dk__sysfs_read_str_at(dfd, "missing", buf, sizeof(buf)), -ENOENT);
	CHECK_INT_EQ(dk__sysfs_read_str_at(dfd, "vendor", buf, 4), -EOVERFLOW);

	uint64_t v = 0;
	CHECK_INT_EQ(dk__sysfs_read_u64_at(dfd, "vendor", 16, &v), 0);
	CHECK_INT_EQ(v, 0x8086);
	CHECK_INT_EQ(dk__sysfs_read_u64_at(dfd, "sub/irq", 10, &v), 0);
	CHECK_INT_EQ(v, 42);
	v = 9;
	CHECK_INT_EQ(dk__sysfs_read_u64_at(dfd, "garbage", 0, &v), -EINVAL);
	CHECK_INT_EQ(dk__sysfs_read_u64_at(dfd, "missing", 0, &v), -ENOENT);
	CHECK_INT_EQ(v, 9);

	CHECK_INT_EQ(dk__sysfs_read_link_name_at(dfd, "driver", buf, sizeof(buf)), 4);
	CHECK_STR_EQ(buf, "nvme");
	CHECK_INT_EQ(dk__sysfs_read_link_name_at(dfd, "vendor", buf, sizeof(buf)), -EINVAL);
	CHECK_INT_EQ(dk__sysfs_read_link_name_at(dfd, "missing", buf, sizeof(buf)), -ENOENT);

	/* An absolute name ignores dirfd, as openat does. */
	char abs[2100];
	snprintf(abs, sizeof(abs), "%s/vendor", path);
	CHECK_INT_EQ(dk__sysfs_read_str_at(-1, abs, buf, sizeof(buf)), 6);
	CHECK_STR_EQ(buf, "0x8086");
	/* A bad dirfd with a relative name. */
	CHECK_INT_EQ(dk__sysfs_read_str_at(-1, "vendor", buf, sizeof(buf)), -EBADF);
	close(dfd);
	dk__sysfs_set_root(NULL);
}

/* ---- permissions -------------------------------------------------------- */

DK_TEST(unreadable_file_eacces)
{
	use_root("perm");
	put_str("secret", "1\n");
	put_str("readonly", "1\n");
	char path[2048];
	snprintf(path, sizeof(path), "%s/secret", g_root);
	REQUIRE(chmod(path, 0) == 0);
	snprintf(path, sizeof(path), "%s/readonly", g_root);
	REQUIRE(chmod(path, 0444) == 0);
	CHECK_INT_EQ(dk__sysfs_exists("secret"), 1);
	/*
	 * root (CAP_DAC_OVERRIDE) reads and writes a mode-000 file, so as root
	 * the checks run in a child that drops to nobody (65534), with the
	 * scratch directories opened up for it to traverse.
	 */
	pid_t pid = -1;
	if (geteuid() == 0) {
		char dir[2048];
		snprintf(dir, sizeof(dir), "%s", g_root);
		for (char *slash = dir + strlen(dir); slash > dir; slash = strrchr(dir, '/')) {
			if (strcmp(dir, "/tmp") == 0 || strlen(dir) <= 1)
				break;
			chmod(dir, 0755);
			*slash = '\0';
		}
		fflush(stdout);
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(99);
		}
	}
	if (pid <= 0) {
		char buf[16];
		uint64_t v;
		int bad = 0;
		bad += dk__sysfs_read_str("secret", buf, sizeof(buf)) != -EACCES;
		bad += dk__sysfs_read_u64("secret", 0, &v) != -EACCES;
		bad += dk__sysfs_read_bin("secret", buf, 1, 0) != -EACCES;
		bad += dk__sysfs_write_str("readonly", "0") != -EACCES;
		bad += dk__sysfs_write_bin("readonly", "0", 1, 0) != -EACCES;
		if (pid == 0)
			_exit(bad);
		CHECK_INT_EQ(bad, 0);
	} else {
		int st = 0;
		REQUIRE(waitpid(pid, &st, 0) == pid);
		REQUIRE(WIFEXITED(st));
		CHECK_INT_EQ(WEXITSTATUS(st), 0); /* number of accesses that were not -EACCES */
	}
	dk__sysfs_set_root(NULL);
}
