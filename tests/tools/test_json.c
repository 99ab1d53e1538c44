/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of the CLI's streaming JSON writer (tools/dmakit/json.c): commas
 * and nesting, indentation, string escaping, UTF-8 handling, hex values,
 * and misuse detection. Output goes to an open_memstream buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem *m, struct cli_json *j)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	REQUIRE(m->f != NULL);
	cli_json_init(j, m->f);
}

/* Finish j, close the stream; returns cli_json_finish's result. */
static int mem_close(struct mem *m, struct cli_json *j)
{
	int rc = cli_json_finish(j);
	fclose(m->f);
	return rc;
}

DK_TEST(empty_containers)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_obj_begin(&j);
	cli_json_key(&j, "a");
	cli_json_arr_begin(&j);
	cli_json_arr_end(&j);
	cli_json_key(&j, "o");
	cli_json_obj_begin(&j);
	cli_json_obj_end(&j);
	cli_json_obj_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), 0);
	CHECK_STR_EQ(m.buf, "{\n  \"a\": [],\n  \"o\": {}\n}\n");
	free(m.buf);
}

DK_TEST(commas_and_nesting)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_obj_begin(&j);
	cli_json_kv_int(&j, "version", 1);
	cli_json_key(&j, "list");
	cli_json_arr_begin(&j);
	cli_json_int(&j, -3);
	cli_json_uint(&j, 18446744073709551615ull);
	cli_json_bool(&j, true);
	cli_json_null(&j);
	cli_json_obj_begin(&j);
	cli_json_kv_str(&j, "k", NULL);
	cli_json_kv_bool(&j, "f", false);
	cli_json_obj_end(&j);
	cli_json_arr_end(&j);
	cli_json_kv_null(&j, "n");
	cli_json_obj_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), 0);
	CHECK_STR_EQ(m.buf, "{\n"
			    "  \"version\": 1,\n"
			    "  \"list\": [\n"
			    "    -3,\n"
			    "    18446744073709551615,\n"
			    "    true,\n"
			    "    null,\n"
			    "    {\n"
			    "      \"k\": null,\n"
			    "      \"f\": false\n"
			    "    }\n"
			    "  ],\n"
			    "  \"n\": null\n"
			    "}\n");
	free(m.buf);
}

DK_TEST(string_escapes)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_str(&j, "q\" b\\ /\b\f\n\r\t\x01\x1f\x7f");
	CHECK_INT_EQ(mem_close(&m, &j), 0);
	CHECK_STR_EQ(m.buf, "\"q\\\" b\\\\ /\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"\n");
	free(m.buf);
}

DK_TEST(keys_are_escaped)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_obj_begin(&j);
	cli_json_kv_str(&j, "a\"b", "");
	cli_json_obj_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), 0);
	CHECK_STR_EQ(m.buf, "{\n  \"a\\\"b\": \"\"\n}\n");
	free(m.buf);
}

DK_TEST(utf8_kept_and_invalid_replaced)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_arr_begin(&j);
	cli_json_str(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* é € 😀 */
	cli_json_str(&j, "a\xff"
			 "b");                /* invalid byte */
	cli_json_str(&j, "\xc0\xaf");         /* overlong "/" */
	cli_json_str(&j, "\xed\xa0\x80");     /* UTF-16 surrogate */
	cli_json_str(&j, "\xe2\x82");         /* truncated at the end */
	cli_json_str(&j, "\xf4\x90\x80\x80"); /* above U+10FFFF */
	cli_json_arr_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), 0);
	CHECK_STR_EQ(m.buf, "[\n"
			    "  \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\n"
			    "  \"a\\ufffdb\",\n"
			    "  \"\\ufffd\\ufffd\",\n"
			    "  \"\\ufffd\\ufffd\\ufffd\",\n"
			    "  \"\\ufffd\\ufffd\",\n"
			    "  \"\\ufffd\\ufffd\\ufffd\\ufffd\"\n"
			    "]\n");
	free(m.buf);
}

DK_TEST(hex_fixed_width)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_obj_begin(&j);
	cli_json_kv_hex(&j, "vendor", 0x1af4, 4);
	cli_json_kv_hex(&j, "device", 0x10, 4);
	cli_json_kv_hex(&j, "class", 0xffff00, 6);
	cli_json_kv_hex(&j, "revision", 0x1, 2);
	cli_json_kv_hex(&j, "cut", 0x12345, 4);
	cli_json_kv_hex(&j, "addr", 0x3800000000ull, 16);
	cli_json_obj_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), 0);
	CHECK_STR_EQ(m.buf, "{\n"
			    "  \"vendor\": \"1af4\",\n"
			    "  \"device\": \"0010\",\n"
			    "  \"class\": \"ffff00\",\n"
			    "  \"revision\": \"01\",\n"
			    "  \"cut\": \"2345\",\n"
			    "  \"addr\": \"0000003800000000\"\n"
			    "}\n");
	free(m.buf);
}

DK_TEST(misuse_value_without_key)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_obj_begin(&j);
	cli_json_int(&j, 1);
	cli_json_obj_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), -EINVAL);
	free(m.buf);
}

DK_TEST(misuse_key_in_array)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_arr_begin(&j);
	cli_json_key(&j, "k");
	cli_json_arr_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), -EINVAL);
	free(m.buf);
}

DK_TEST(misuse_wrong_close_and_unclosed)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_obj_begin(&j);
	cli_json_arr_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), -EINVAL);
	free(m.buf);

	mem_open(&m, &j);
	cli_json_arr_begin(&j);
	CHECK_INT_EQ(mem_close(&m, &j), -EINVAL);
	free(m.buf);

	mem_open(&m, &j);
	cli_json_obj_begin(&j);
	cli_json_key(&j, "dangling");
	cli_json_obj_end(&j);
	CHECK_INT_EQ(mem_close(&m, &j), -EINVAL);
	free(m.buf);
}

DK_TEST(misuse_two_top_level_values_and_nothing)
{
	struct mem m;
	struct cli_json j;
	mem_open(&m, &j);
	cli_json_int(&j, 1);
	cli_json_int(&j, 2);
	CHECK_INT_EQ(mem_close(&m, &j), -EINVAL);
	free(m.buf);

	mem_open(&m, &j);
	CHECK_INT_EQ(mem_close(&m, &j), -EINVAL);
	free(m.buf);
}

DK_TEST(deep_nesting_limit)
{
	struct mem m;
	struct cli_json *j = malloc(sizeof(*j));
	REQUIRE(j != NULL);
	mem_open(&m, j);
	for (int i = 0; i < CLI_JSON_MAX_DEPTH - 1; i++)
		cli_json_arr_begin(j);
	for (int i = 0; i < CLI_JSON_MAX_DEPTH - 1; i++)
		cli_json_arr_end(j);
	CHECK_INT_EQ(mem_close(&m, j), 0);
	free(m.buf);

	mem_open(&m, j);
	for (int i = 0; i < CLI_JSON_MAX_DEPTH; i++)
		cli_json_arr_begin(j);
	CHECK(j->failed);
	CHECK_INT_EQ(mem_close(&m, j), -EINVAL);
	free(m.buf);
	free(j);
}

DK_TEST(write_error_reported)
{
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		SKIP("no /dev/full");
	setvbuf(f, NULL, _IONBF, 0);
	struct cli_json j;
	cli_json_init(&j, f);
	cli_json_str(&j, "x");
	CHECK_INT_EQ(cli_json_finish(&j), -EIO);
	fclose(f);
}
