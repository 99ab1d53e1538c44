/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for src/core/devargs.c: every rule of the grammar in dmakit/devargs.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/devargs.h>
#include <dmakit/log.h>

#include "tap.h"

static struct dk_devargs g_zero;

static int is_zeroed(const struct dk_devargs *da)
{
	return memcmp(da, &g_zero, sizeof(*da)) == 0;
}

/* Parse str into a struct filled with garbage first. */
static int parse_dirty(const char *str, struct dk_devargs *da)
{
	memset(da, 0x5a, sizeof(*da));
	return dk_devargs_parse(str, da);
}

/*
 * Expect parse(str) to fail with rc, leave *out zeroed, and log one error
 * that quotes the input and contains want (the position, ...).
 */
static void expect_fail_at(const char *file, int line, const char *str, int rc, const char *want)
{
	static struct dk_devargs da;
	dk_test_log_capture_start();
	int got = parse_dirty(str, &da);
	const char *log = dk_test_log_captured();
	if (got != rc)
		dk_test_fail(file, line, "parse(\"%s\") = %d, want %d", str, got, rc);
	if (!is_zeroed(&da))
		dk_test_fail(file, line, "parse(\"%s\") left *out non-zero", str);
	if (!strstr(log, "err: devargs: devargs \""))
		dk_test_fail(file, line, "parse(\"%s\") logged no devargs error: \"%s\"", str, log);
	if (want && !strstr(log, want))
		dk_test_fail(file, line, "parse(\"%s\") log \"%s\" lacks \"%s\"", str, log, want);
	if (!strstr(log, "(expected \"<device>[,key[=value]]...\")"))
		dk_test_fail(file, line, "parse(\"%s\") log \"%s\" lacks the grammar hint", str, log);
	dk_test_log_capture_stop();
}
#define EXPECT_FAIL_AT(str, rc, want) expect_fail_at(__FILE__, __LINE__, str, rc, want)

/* A string of n copies of c (n < sizeof buffer). */
static const char *rep(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- names -------------------------------------------------------------- */

DK_TEST(name_pci_short_form_normalized)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("03:00.0", &da), 0);
	CHECK_STR_EQ(da.name, "0000:03:00.0");
	CHECK_INT_EQ(da.n_kv, 0);
	REQUIRE_INT_EQ(parse_dirty("3:0.0", &da), 0);
	CHECK_STR_EQ(da.name, "0000:03:00.0");
	REQUIRE_INT_EQ(parse_dirty("0000:03:00.0", &da), 0);
	CHECK_STR_EQ(da.name, "0000:03:00.0");
	REQUIRE_INT_EQ(parse_dirty("0000:0A:1f.7", &da), 0);
	CHECK_STR_EQ(da.name, "0000:0a:1f.7");
	REQUIRE_INT_EQ(parse_dirty("10000:e1:00.1", &da), 0);
	CHECK_STR_EQ(da.name, "10000:e1:00.1");
	REQUIRE_INT_EQ(parse_dirty("af:00.0,queues=4", &da), 0);
	CHECK_STR_EQ(da.name, "0000:af:00.0");
	CHECK_INT_EQ(da.n_kv, 1);
	/* The normalized struct is what a parse of the long form gives. */
	struct dk_devargs l;
	REQUIRE_INT_EQ(parse_dirty("0000:af:00.0,queues=4", &l), 0);
	CHECK(memcmp(&da, &l, sizeof(da)) == 0);
}

DK_TEST(name_other_kept)
{
	struct dk_devargs da;
	const char *uuid = "6f1b7e4a-8c3d-4f2e-9a1b-0c2d3e4f5a6b";
	REQUIRE_INT_EQ(parse_dirty(uuid, &da), 0);
	CHECK_STR_EQ(da.name, uuid);
	const char *upper = "6F1B7E4A-8C3D-4F2E-9A1B-0C2D3E4F5A6B";
	REQUIRE_INT_EQ(parse_dirty(upper, &da), 0);
	CHECK_STR_EQ(da.name, upper);
	REQUIRE_INT_EQ(parse_dirty("6f1b7e4a-8c3d-4f2e-9a1b-0c2d3e4f5a6b,mode=ro", &da), 0);
	CHECK_STR_EQ(da.name, uuid);
	CHECK_INT_EQ(da.n_kv, 1);
	/* Not PCI addresses (device > 31, function > 7, no function): kept as given. */
	REQUIRE_INT_EQ(parse_dirty("0000:03:20.0", &da), 0);
	CHECK_STR_EQ(da.name, "0000:03:20.0");
	REQUIRE_INT_EQ(parse_dirty("03:00.8", &da), 0);
	CHECK_STR_EQ(da.name, "03:00.8");
	REQUIRE_INT_EQ(parse_dirty("03:00", &da), 0);
	CHECK_STR_EQ(da.name, "03:00");
	REQUIRE_INT_EQ(parse_dirty("nvme0", &da), 0);
	CHECK_STR_EQ(da.name, "nvme0");
	REQUIRE_INT_EQ(parse_dirty("net_tap[0]:x/y", &da), 0);
	CHECK_STR_EQ(da.name, "net_tap[0]:x/y");
}

DK_TEST(name_length_limit)
{
	char s[512];
	struct dk_devargs da;
	rep(s, 'n', DK_DEVARGS_NAME_MAX - 1);
	REQUIRE_INT_EQ(parse_dirty(s, &da), 0);
	CHECK_INT_EQ(strlen(da.name), DK_DEVARGS_NAME_MAX - 1);
	CHECK_STR_EQ(da.name, s);
	rep(s, 'n', DK_DEVARGS_NAME_MAX);
	EXPECT_FAIL_AT(s, -E2BIG, "device name longer than 63 characters");
	strcpy(s + DK_DEVARGS_NAME_MAX, ",a=1");
	EXPECT_FAIL_AT(s, -E2BIG, "device name longer than 63 characters");
}

DK_TEST(name_bad)
{
	EXPECT_FAIL_AT("", -EINVAL, "empty device name at character 0");
	EXPECT_FAIL_AT(",a=1", -EINVAL, "empty device name at character 0");
	EXPECT_FAIL_AT("my dev", -EINVAL, "character 2 is not allowed in a device name");
	EXPECT_FAIL_AT(" dev", -EINVAL, "character 0 is not allowed in a device name");
	EXPECT_FAIL_AT("dev\t", -EINVAL, "character 3 is not allowed in a device name");
	EXPECT_FAIL_AT("a=b", -EINVAL, "character 1 is not allowed in a device name");
	EXPECT_FAIL_AT("=x", -EINVAL, "character 0 is not allowed in a device name");
	EXPECT_FAIL_AT("dev\x01", -EINVAL, "character 3 is not allowed in a device name");
	EXPECT_FAIL_AT("de\x7fv", -EINVAL, "character 2 is not allowed in a device name");
}

DK_TEST(null_and_empty)
{
	struct dk_devargs da;
	dk_test_log_capture_start();
	CHECK_INT_EQ(parse_dirty(NULL, &da), -EINVAL);
	CHECK(is_zeroed(&da));
	CHECK_STR_CONTAINS(dk_test_log_captured(), "err: devargs: devargs: NULL string");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_devargs_parse("dev", NULL), -EINVAL);
	CHECK_INT_EQ(dk_devargs_parse(NULL, NULL), -EINVAL);
	EXPECT_FAIL_AT("", -EINVAL, "character 0");
}

/* ---- key=value pairs ---------------------------------------------------- */

DK_TEST(kv_example_from_header)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("0000:03:00.0,class=dma:compute,queues=4", &da), 0);
	CHECK_STR_EQ(da.name, "0000:03:00.0");
	REQUIRE_INT_EQ(da.n_kv, 2);
	CHECK_STR_EQ(da.kv[0].key, "class");
	CHECK_STR_EQ(da.kv[0].value, "dma:compute");
	CHECK_STR_EQ(da.kv[1].key, "queues");
	CHECK_STR_EQ(da.kv[1].value, "4");
	/* Unused entries are zero. */
	CHECK(memcmp(&da.kv[2], &g_zero.kv[2], sizeof(da.kv[2])) == 0);
}

DK_TEST(kv_flags_and_empty_values)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("dev,verbose,a=,noiommu", &da), 0);
	REQUIRE_INT_EQ(da.n_kv, 3);
	CHECK_STR_EQ(da.kv[0].key, "verbose");
	CHECK_STR_EQ(da.kv[0].value, "");
	CHECK_STR_EQ(da.kv[1].key, "a");
	CHECK_STR_EQ(da.kv[1].value, "");
	CHECK_STR_EQ(da.kv[2].key, "noiommu");
	CHECK_STR_EQ(da.kv[2].value, "");
	CHECK_STR_EQ(dk_devargs_get(&da, "verbose"), "");
	CHECK_STR_EQ(dk_devargs_get(&da, "a"), "");
}

DK_TEST(kv_key_characters)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("dev,Az_09.x-y=1,_=2,.=3,-=4", &da), 0);
	REQUIRE_INT_EQ(da.n_kv, 4);
	CHECK_STR_EQ(da.kv[0].key, "Az_09.x-y");
	CHECK_STR_EQ(da.kv[1].key, "_");
	CHECK_STR_EQ(da.kv[2].key, ".");
	CHECK_STR_EQ(da.kv[3].key, "-");
	CHECK_STR_EQ(da.kv[3].value, "4");
	EXPECT_FAIL_AT("dev,k!y=1", -EINVAL, "character 5 is not allowed in a key");
	EXPECT_FAIL_AT("dev,a b=1", -EINVAL, "character 5 is not allowed in a key");
	EXPECT_FAIL_AT("dev,q=1,[a]=1", -EINVAL, "character 8 is not allowed in a key");
	EXPECT_FAIL_AT("dev,key:x", -EINVAL, "character 7 is not allowed in a key");
	EXPECT_FAIL_AT("dev,=x", -EINVAL, "empty key at character 4");
	EXPECT_FAIL_AT("dev,a=1,=", -EINVAL, "empty key at character 8");
}

DK_TEST(kv_values_free_form)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("dev,a=b=c,s=x y,p=/dev/vfio/7", &da), 0);
	REQUIRE_INT_EQ(da.n_kv, 3);
	CHECK_STR_EQ(da.kv[0].value, "b=c");
	CHECK_STR_EQ(da.kv[1].value, "x y");
	CHECK_STR_EQ(da.kv[2].value, "/dev/vfio/7");
}

DK_TEST(kv_bracketed_values)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("dev,list=[1,2,3],x=1", &da), 0);
	REQUIRE_INT_EQ(da.n_kv, 2);
	CHECK_STR_EQ(da.kv[0].key, "list");
	CHECK_STR_EQ(da.kv[0].value, "[1,2,3]");
	CHECK_STR_EQ(da.kv[1].key, "x");
	CHECK_STR_EQ(da.kv[1].value, "1");
	REQUIRE_INT_EQ(parse_dirty("dev,m=[[1,2],[3,4]]", &da), 0);
	REQUIRE_INT_EQ(da.n_kv, 1);
	CHECK_STR_EQ(da.kv[0].value, "[[1,2],[3,4]]");
	REQUIRE_INT_EQ(parse_dirty("dev,q=pre[a,b]post,r", &da), 0);
	REQUIRE_INT_EQ(da.n_kv, 2);
	CHECK_STR_EQ(da.kv[0].value, "pre[a,b]post");
	CHECK_STR_EQ(da.kv[1].key, "r");
	REQUIRE_INT_EQ(parse_dirty("dev,e=[]", &da), 0);
	CHECK_STR_EQ(da.kv[0].value, "[]");
}

DK_TEST(kv_unbalanced_brackets)
{
	EXPECT_FAIL_AT("dev,a=[1,2", -EINVAL, "unbalanced '[' in the value at character 6");
	EXPECT_FAIL_AT("dev,a=[1,2,b=3", -EINVAL, "unbalanced '[' in the value at character 6");
	EXPECT_FAIL_AT("dev,x=1,a=[[1]", -EINVAL, "unbalanced '[' in the value at character 10");
	EXPECT_FAIL_AT("dev,a=]", -EINVAL, "unbalanced ']' at character 6");
	EXPECT_FAIL_AT("dev,a=[1]],b", -EINVAL, "unbalanced ']' at character 9");
	EXPECT_FAIL_AT("dev,a=1]", -EINVAL, "unbalanced ']' at character 7");
}

DK_TEST(kv_duplicate_keys)
{
	EXPECT_FAIL_AT("dev,a=1,a=2", -EINVAL, "key at character 8 is given twice");
	EXPECT_FAIL_AT("dev,flag,flag", -EINVAL, "key at character 9 is given twice");
	EXPECT_FAIL_AT("dev,a,b=1,a=", -EINVAL, "key at character 10 is given twice");
	/* Keys are case-sensitive: these differ. */
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("dev,a=1,A=2", &da), 0);
	CHECK_INT_EQ(da.n_kv, 2);
}

DK_TEST(kv_empty_pairs)
{
	EXPECT_FAIL_AT("dev,,a", -EINVAL, "empty key=value pair at character 4");
	EXPECT_FAIL_AT("dev,a=1,,b", -EINVAL, "empty key=value pair at character 8");
	EXPECT_FAIL_AT("dev,", -EINVAL, "empty key=value pair at character 4");
	EXPECT_FAIL_AT("dev,a=1,", -EINVAL, "empty key=value pair at character 8");
	EXPECT_FAIL_AT("dev,,", -EINVAL, "empty key=value pair at character 4");
}

DK_TEST(kv_length_limits)
{
	char key[64], val[512], s[1024];
	struct dk_devargs da;

	snprintf(s, sizeof(s), "dev,%s=1", rep(key, 'k', DK_DEVARGS_KEY_MAX - 1));
	REQUIRE_INT_EQ(parse_dirty(s, &da), 0);
	CHECK_STR_EQ(da.kv[0].key, key);
	snprintf(s, sizeof(s), "dev,%s=1", rep(key, 'k', DK_DEVARGS_KEY_MAX));
	EXPECT_FAIL_AT(s, -E2BIG, "key at character 4 is too long");
	snprintf(s, sizeof(s), "dev,a,%s", rep(key, 'k', DK_DEVARGS_KEY_MAX));
	EXPECT_FAIL_AT(s, -E2BIG, "key at character 6 is too long");

	snprintf(s, sizeof(s), "dev,v=%s", rep(val, 'x', DK_DEVARGS_VALUE_MAX - 1));
	REQUIRE_INT_EQ(parse_dirty(s, &da), 0);
	CHECK_STR_EQ(da.kv[0].value, val);
	CHECK_INT_EQ(strlen(da.kv[0].value), DK_DEVARGS_VALUE_MAX - 1);
	snprintf(s, sizeof(s), "dev,v=%s", rep(val, 'x', DK_DEVARGS_VALUE_MAX));
	EXPECT_FAIL_AT(s, -E2BIG, "value at character 6 is too long");
	/* Brackets count toward the length. */
	rep(val, 'x', DK_DEVARGS_VALUE_MAX - 2);
	val[0] = '[';
	val[DK_DEVARGS_VALUE_MAX - 3] = ']';
	snprintf(s, sizeof(s), "dev,b=1,v=%s", val);
	REQUIRE_INT_EQ(parse_dirty(s, &da), 0);
	CHECK_INT_EQ(strlen(da.kv[1].value), DK_DEVARGS_VALUE_MAX - 2);
	snprintf(s, sizeof(s), "dev,b=1,v=[%s]", rep(val, 'x', DK_DEVARGS_VALUE_MAX - 2));
	EXPECT_FAIL_AT(s, -E2BIG, "value at character 10 is too long");
}

/* "dev,k0=0,k1=1,..." with n pairs; returns the offset of pair n-1. */
static size_t many_pairs(char *s, size_t len, unsigned int n)
{
	size_t off = (size_t)snprintf(s, len, "dev");
	size_t last = 0;
	for (unsigned int i = 0; i < n; i++) {
		last = off + 1;
		off += (size_t)snprintf(s + off, len - off, ",k%u=%u", i, i);
	}
	return last;
}

DK_TEST(kv_too_many_pairs)
{
	char s[1024];
	struct dk_devargs da;
	many_pairs(s, sizeof(s), DK_DEVARGS_MAX_KV);
	REQUIRE_INT_EQ(parse_dirty(s, &da), 0);
	CHECK_INT_EQ(da.n_kv, DK_DEVARGS_MAX_KV);
	CHECK_STR_EQ(da.kv[DK_DEVARGS_MAX_KV - 1].key, "k31");
	CHECK_STR_EQ(da.kv[DK_DEVARGS_MAX_KV - 1].value, "31");
	CHECK_STR_EQ(dk_devargs_get(&da, "k17"), "17");
	many_pairs(s, sizeof(s), DK_DEVARGS_MAX_KV + 1);
	EXPECT_FAIL_AT(s, -E2BIG, "more than 32 key=value pairs");
}

/*
 * devargs.h: on failure "the message names the offending character
 * position". The name-too-long and too-many-pairs errors do not.
 */
DK_TEST(limit_errors_name_position)
{
	char s[1024];
	rep(s, 'n', DK_DEVARGS_NAME_MAX);
	EXPECT_FAIL_AT(s, -E2BIG, "character 63");
	size_t last = many_pairs(s, sizeof(s), DK_DEVARGS_MAX_KV + 1);
	char want[64];
	snprintf(want, sizeof(want), "character %zu", last);
	EXPECT_FAIL_AT(s, -E2BIG, want);
}

DK_TEST(out_zeroed_after_late_failure)
{
	/* Failures after a name and pairs were already stored. */
	static const char *const bad[] = {
		"0000:03:00.0,a=1,b=2,a=3", "03:00.0,queues=4,", "dev,x=1,y=[", "dev,x=1,y=]",
		"dev,x=1,b@d=1",            "dev,x=1,,",
	};
	for (size_t i = 0; i < DK_ARRAY_SIZE(bad); i++)
		EXPECT_FAIL_AT(bad[i], -EINVAL, "character");
}

/* ---- accessors ---------------------------------------------------------- */

DK_TEST(get_values)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("dev,queues=4,verbose,mode=ro", &da), 0);
	CHECK_STR_EQ(dk_devargs_get(&da, "queues"), "4");
	CHECK_STR_EQ(dk_devargs_get(&da, "mode"), "ro");
	CHECK_STR_EQ(dk_devargs_get(&da, "verbose"), "");
	errno = 0;
	CHECK(dk_devargs_get(&da, "missing") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	errno = 0;
	CHECK(dk_devargs_get(&da, "Queues") == NULL);
	CHECK_INT_EQ(errno, ENOENT);
	errno = 0;
	CHECK(dk_devargs_get(NULL, "queues") == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	errno = 0;
	CHECK(dk_devargs_get(&da, NULL) == NULL);
	CHECK_INT_EQ(errno, EINVAL);
	/* n_kv is trusted only up to the array size. */
	da.n_kv = 1000;
	CHECK(dk_devargs_get(&da, "nothere") == NULL);
}

DK_TEST(get_u64_values)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("dev,q=4,h=0x1000,o=0755,m=18446744073709551615,"
				   "big=18446744073709551616,neg=-1,k=4k,f,e=",
				   &da),
		       0);
	uint64_t v = 0;
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "q", &v), 0);
	CHECK_INT_EQ(v, 4);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "h", &v), 0);
	CHECK_INT_EQ(v, 4096);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "o", &v), 0);
	CHECK_INT_EQ(v, 0755);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "m", &v), 0);
	CHECK(v == UINT64_MAX);
	v = 123;
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "big", &v), -ERANGE);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "neg", &v), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "k", &v), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "f", &v), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "e", &v), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "absent", &v), -ENOENT);
	CHECK_INT_EQ(dk_devargs_get_u64(&da, "q", NULL), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_u64(NULL, "q", &v), -EINVAL);
	CHECK_INT_EQ(v, 123);
}

DK_TEST(get_list_values)
{
	struct dk_devargs da;
	char items[4][DK_DEVARGS_KEY_MAX];
	char longitem[64], s[256];
	snprintf(s, sizeof(s),
		 "dev,class=dma:compute,one=dma,empty=dma::compute,lead=:dma,trail=dma:,"
		 "many=a:b:c:d:e,four=a:b:c:d,f,e=,fit=%s:x,",
		 rep(longitem, 'i', DK_DEVARGS_KEY_MAX - 1));
	snprintf(s + strlen(s), sizeof(s) - strlen(s), "long=%s:x",
		 rep(longitem, 'i', DK_DEVARGS_KEY_MAX));
	REQUIRE_INT_EQ(parse_dirty(s, &da), 0);

	memset(items, 0x5a, sizeof(items));
	CHECK_INT_EQ(dk_devargs_get_list(&da, "class", ':', items, 4), 2);
	CHECK_STR_EQ(items[0], "dma");
	CHECK_STR_EQ(items[1], "compute");
	CHECK_INT_EQ(dk_devargs_get_list(&da, "one", ':', items, 4), 1);
	CHECK_STR_EQ(items[0], "dma");
	CHECK_INT_EQ(dk_devargs_get_list(&da, "class", ',', items, 4), 1);
	CHECK_STR_EQ(items[0], "dma:compute");
	CHECK_INT_EQ(dk_devargs_get_list(&da, "four", ':', items, 4), 4);
	CHECK_STR_EQ(items[3], "d");
	CHECK_INT_EQ(dk_devargs_get_list(&da, "fit", ':', items, 4), 2);
	CHECK_INT_EQ(strlen(items[0]), DK_DEVARGS_KEY_MAX - 1);
	CHECK_STR_EQ(items[1], "x");

	CHECK_INT_EQ(dk_devargs_get_list(&da, "empty", ':', items, 4), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "lead", ':', items, 4), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "trail", ':', items, 4), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "f", ':', items, 4), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "e", ':', items, 4), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "many", ':', items, 4), -E2BIG);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "class", ':', items, 1), -E2BIG);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "one", ':', items, 0), -E2BIG);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "long", ':', items, 4), -E2BIG);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "absent", ':', items, 4), -ENOENT);
	CHECK_INT_EQ(dk_devargs_get_list(&da, "class", ':', NULL, 4), -EINVAL);
	CHECK_INT_EQ(dk_devargs_get_list(NULL, "class", ':', items, 4), -EINVAL);
}

/* ---- format ------------------------------------------------------------- */

DK_TEST(format_output)
{
	struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty("03:00.0,class=dma:compute,verbose,list=[1,2,3],empty=", &da), 0);
	char buf[256];
	const char *want = "0000:03:00.0,class=dma:compute,verbose,list=[1,2,3],empty";
	CHECK_INT_EQ(dk_devargs_format(&da, buf, sizeof(buf)), strlen(want));
	CHECK_STR_EQ(buf, want);
	/* snprintf semantics: the full length, truncated and terminated output. */
	CHECK_INT_EQ(dk_devargs_format(&da, NULL, 0), strlen(want));
	memset(buf, 'Z', sizeof(buf));
	CHECK_INT_EQ(dk_devargs_format(&da, buf, 10), strlen(want));
	CHECK_STR_EQ(buf, "0000:03:0");
	memset(buf, 'Z', sizeof(buf));
	CHECK_INT_EQ(dk_devargs_format(&da, buf, 16), strlen(want));
	CHECK_STR_EQ(buf, "0000:03:00.0,cl");
	memset(buf, 'Z', sizeof(buf));
	CHECK_INT_EQ(dk_devargs_format(&da, buf, strlen(want)), strlen(want));
	CHECK_INT_EQ(strlen(buf), strlen(want) - 1);
	CHECK(strncmp(buf, want, strlen(want) - 1) == 0);
	CHECK_INT_EQ(dk_devargs_format(NULL, buf, sizeof(buf)), -EINVAL);
	CHECK_INT_EQ(dk_devargs_format(&da, NULL, 5), -EINVAL);
}

static void round_trip(const char *file, int line, const char *str)
{
	static struct dk_devargs x, y;
	static char s1[16384], s2[16384];
	if (parse_dirty(str, &x) != 0) {
		dk_test_fail(file, line, "parse(\"%s\") failed", str);
		return;
	}
	int n = dk_devargs_format(&x, s1, sizeof(s1));
	if (n < 0 || (size_t)n >= sizeof(s1) || (size_t)n != strlen(s1)) {
		dk_test_fail(file, line, "format(\"%s\") = %d", str, n);
		return;
	}
	if (parse_dirty(s1, &y) != 0) {
		dk_test_fail(file, line, "parse(format(\"%s\")) = parse(\"%s\") failed", str, s1);
		return;
	}
	if (memcmp(&x, &y, sizeof(x)) != 0)
		dk_test_fail(file, line, "parse(format(x)) != x for \"%s\" (formatted \"%s\")", str,
			     s1);
	dk_devargs_format(&y, s2, sizeof(s2));
	if (strcmp(s1, s2) != 0)
		dk_test_fail(file, line, "format not stable: \"%s\" then \"%s\"", s1, s2);
}
#define ROUND_TRIP(str) round_trip(__FILE__, __LINE__, str)

DK_TEST(format_round_trip)
{
	ROUND_TRIP("0000:03:00.0");
	ROUND_TRIP("03:00.0,class=dma:compute,queues=4");
	ROUND_TRIP("6f1b7e4a-8c3d-4f2e-9a1b-0c2d3e4f5a6b,mode=ro");
	ROUND_TRIP("dev,verbose,a=,b=x y,list=[1,2,[3,4]],e=[],z=a=b");
	ROUND_TRIP("0000:0A:1F.7,A_b.c-d=0x10");

	/* The largest struct the grammar allows. */
	static char big[16384];
	char name[DK_DEVARGS_NAME_MAX], key[DK_DEVARGS_KEY_MAX], val[DK_DEVARGS_VALUE_MAX];
	size_t off = (size_t)snprintf(big, sizeof(big), "%s", rep(name, 'N', sizeof(name) - 1));
	rep(val, 'v', sizeof(val) - 1);
	for (unsigned int i = 0; i < DK_DEVARGS_MAX_KV; i++) {
		rep(key, 'k', sizeof(key) - 1);
		snprintf(key + sizeof(key) - 4, 4, "%03u", i);
		off += (size_t)snprintf(big + off, sizeof(big) - off, ",%s=%s", key, val);
	}
	static struct dk_devargs da;
	REQUIRE_INT_EQ(parse_dirty(big, &da), 0);
	CHECK_INT_EQ(da.n_kv, DK_DEVARGS_MAX_KV);
	CHECK_INT_EQ(dk_devargs_format(&da, NULL, 0), (int)strlen(big));
	ROUND_TRIP(big);
}

/*
 * A PCI address whose domain is written with 8 digits normalizes to a
 * shorter name; the struct must still equal the one parsed from the
 * formatted string byte for byte.
 */
DK_TEST(format_round_trip_long_domain)
{
	ROUND_TRIP("00000000:03:00.0,a=1");
}
