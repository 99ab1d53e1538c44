/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.h - a small streaming JSON writer for the dmakit CLI.
 *
 * Values are written straight to a FILE as they are produced; the writer
 * only remembers, per nesting level, whether a comma is due. Output is
 * indented by two spaces per level (still one valid JSON document).
 *
 *   struct cli_json j;
 *   cli_json_init(&j, stdout);
 *   cli_json_obj_begin(&j);
 *   cli_json_kv_int(&j, "version", 1);
 *   cli_json_key(&j, "devices");
 *   cli_json_arr_begin(&j);
 *   ...
 *   cli_json_arr_end(&j);
 *   cli_json_obj_end(&j);
 *   rc = cli_json_finish(&j);    0, or -EINVAL on misuse, -EIO on a write error
 *
 * Strings are escaped per RFC 8259: '"' and '\\', control characters
 * (\b \f \n \r \t, others as \u00XX); bytes that are not valid UTF-8 are
 * replaced by U+FFFD so the output is always valid UTF-8.
 *
 * Misuse (a value where a key is due, closing the wrong container, nesting
 * deeper than CLI_JSON_MAX_DEPTH) does not abort: it marks the writer as
 * failed and cli_json_finish() reports -EINVAL.
 *
 * Thread-safety: a writer belongs to one thread.
 */
#ifndef DMAKIT_CLI_JSON_H
#define DMAKIT_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_MAX_DEPTH 1024

struct cli_json {
	FILE *out;
	unsigned int depth;
	bool failed;
	bool key_pending; /* a key was written; its value comes next */
	/* Per level: 'o' object or 'a' array, and whether a member was written
	 * (level 0: whether the top-level value was written). */
	char kind[CLI_JSON_MAX_DEPTH];
	bool has_members[CLI_JSON_MAX_DEPTH];
};

void cli_json_init(struct cli_json *j, FILE *out);

void cli_json_obj_begin(struct cli_json *j);
void cli_json_obj_end(struct cli_json *j);
void cli_json_arr_begin(struct cli_json *j);
void cli_json_arr_end(struct cli_json *j);

/* Object member name; the next call writes its value. */
void cli_json_key(struct cli_json *j, const char *key);

/* Values. cli_json_str(j, NULL) writes null. */
void cli_json_str(struct cli_json *j, const char *s);
void cli_json_int(struct cli_json *j, long long v);
void cli_json_uint(struct cli_json *j, unsigned long long v);
void cli_json_bool(struct cli_json *j, bool v);
void cli_json_null(struct cli_json *j);
/* A lower-case hex string of exactly width digits, no "0x": "1af4". */
void cli_json_hex(struct cli_json *j, uint64_t v, int width);

/* key + value in one call. */
void cli_json_kv_str(struct cli_json *j, const char *key, const char *s);
void cli_json_kv_int(struct cli_json *j, const char *key, long long v);
void cli_json_kv_uint(struct cli_json *j, const char *key, unsigned long long v);
void cli_json_kv_bool(struct cli_json *j, const char *key, bool v);
void cli_json_kv_null(struct cli_json *j, const char *key);
void cli_json_kv_hex(struct cli_json *j, const char *key, uint64_t v, int width);

/*
 * End the document: write the final newline and flush.
 * Returns 0; -EINVAL when containers are still open or the writer was
 * misused; -EIO when writing failed (disk full, closed pipe).
 */
int cli_json_finish(struct cli_json *j);

#endif
