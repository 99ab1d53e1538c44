/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.c - streaming JSON writer (see json.h): commas, nesting, indentation
 * and RFC 8259 string escaping with UTF-8 validation.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"

void cli_json_init(struct cli_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void indent(struct cli_json *j, unsigned int depth)
{
	fputc('\n', j->out);
	for (unsigned int i = 0; i < depth; i++)
		fputs("  ", j->out);
}

/*
 * Before any value: a value inside an object must follow a key; inside an
 * array it is a new element (comma, newline, indent). At depth 0 only one
 * value is allowed.
 */
static bool value_prefix(struct cli_json *j)
{
	if (j->failed)
		return false;
	if (j->depth == 0) {
		if (j->has_members[0]) {
			j->failed = true;
			return false;
		}
		j->has_members[0] = true;
		return true;
	}
	unsigned int d = j->depth;
	if (j->kind[d] == 'o') {
		if (!j->key_pending) {
			j->failed = true;
			return false;
		}
		j->key_pending = false;
		return true;
	}
	if (j->has_members[d])
		fputc(',', j->out);
	j->has_members[d] = true;
	indent(j, d);
	return true;
}

static void begin(struct cli_json *j, char kind)
{
	if (!value_prefix(j))
		return;
	if (j->depth + 1 >= CLI_JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	j->depth++;
	j->kind[j->depth] = kind;
	j->has_members[j->depth] = false;
	fputc(kind == 'o' ? '{' : '[', j->out);
}

static void end(struct cli_json *j, char kind)
{
	if (j->failed)
		return;
	if (j->depth == 0 || j->kind[j->depth] != kind || j->key_pending) {
		j->failed = true;
		return;
	}
	if (j->has_members[j->depth])
		indent(j, j->depth - 1);
	j->depth--;
	fputc(kind == 'o' ? '}' : ']', j->out);
}

void cli_json_obj_begin(struct cli_json *j)
{
	begin(j, 'o');
}

void cli_json_obj_end(struct cli_json *j)
{
	end(j, 'o');
}

void cli_json_arr_begin(struct cli_json *j)
{
	begin(j, 'a');
}

void cli_json_arr_end(struct cli_json *j)
{
	end(j, 'a');
}

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there
 * are not one (overlong forms, surrogates and code points above U+10FFFF
 * are rejected, as RFC 3629 requires).
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t n;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0fu;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL terminator */
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void write_string(struct cli_json *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	FILE *f = j->out;
	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, f);
			} else {
				size_t n = utf8_len(s);
				if (n == 0) {
					fputs("\\ufffd", f);
				} else {
					fwrite(s, 1, n, f);
					s += n - 1;
				}
			}
			break;
		}
		s++;
	}
	fputc('"', f);
}

void cli_json_key(struct cli_json *j, const char *key)
{
	if (j->failed)
		return;
	unsigned int d = j->depth;
	if (d == 0 || j->kind[d] != 'o' || j->key_pending || !key) {
		j->failed = true;
		return;
	}
	if (j->has_members[d])
		fputc(',', j->out);
	j->has_members[d] = true;
	indent(j, d);
	write_string(j, key);
	fputs(": ", j->out);
	j->key_pending = true;
}

void cli_json_str(struct cli_json *j, const char *s)
{
	if (!value_prefix(j))
		return;
	if (s)
		write_string(j, s);
	else
		fputs("null", j->out);
}

void cli_json_int(struct cli_json *j, long long v)
{
	if (value_prefix(j))
		fprintf(j->out, "%lld", v);
}

void cli_json_uint(struct cli_json *j, unsigned long long v)
{
	if (value_prefix(j))
		fprintf(j->out, "%llu", v);
}

void cli_json_bool(struct cli_json *j, bool v)
{
	if (value_prefix(j))
		fputs(v ? "true" : "false", j->out);
}

void cli_json_null(struct cli_json *j)
{
	if (value_prefix(j))
		fputs("null", j->out);
}

void cli_json_hex(struct cli_json *j, uint64_t v, int width)
{
	if (width < 1 || width > 16) {
		j->failed = true;
		return;
	}
	if (width < 16)
		v &= (UINT64_C(1) << (4 * width)) - 1;
	if (value_prefix(j))
		fprintf(j->out, "\"%0*" PRIx64 "\"", width, v);
}

void cli_json_kv_str(struct cli_json *j, const char *key, const char *s)
{
	cli_json_key(j, key);
	cli_json_str(j, s);
}

void cli_json_kv_int(struct cli_json *j, const char *key, long long v)
{
	cli_json_key(j, key);
	cli_json_int(j, v);
}

void cli_json_kv_uint(struct cli_json *j, const char *key, unsigned long long v)
{
	cli_json_key(j, key);
	cli_json_uint(j, v);
}

void cli_json_kv_bool(struct cli_json *j, const char *key, bool v)
{
	cli_json_key(j, key);
	cli_json_bool(j, v);
}

void cli_json_kv_null(struct cli_json *j, const char *key)
{
	cli_json_key(j, key);
	cli_json_null(j);
}

void cli_json_kv_hex(struct cli_json *j, const char *key, uint64_t v, int width)
{
	cli_json_key(j, key);
	cli_json_hex(j, v, width);
}

int cli_json_finish(struct cli_json *j)
{
	if (j->failed || j->depth != 0 || j->key_pending || !j->has_members[0])
		return -EINVAL;
	fputc('\n', j->out);
	if (fflush(j->out) != 0 || ferror(j->out))
		return -EIO;
	return 0;
}
