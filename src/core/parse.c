/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdint.h>

#include "core/parse.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Digits of s[0..len) in base; no sign, no prefix. */
static int parse_digits(const char *s, size_t len, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)digit_value(s[i]);
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int dk__parse_u64(const char *s, size_t len, int base, uint64_t *out)
{
	if (!s || !out || (base != 0 && base != 8 && base != 10 && base != 16))
		return -EINVAL;
	trim(&s, &len);
	int has_0x = len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	if (base == 16 || (base == 0 && has_0x)) {
		if (has_0x) {
			s += 2;
			len -= 2;
		}
		return parse_digits(s, len, 16, out);
	}
	if (base == 0 && len > 1 && s[0] == '0')
		return parse_digits(s + 1, len - 1, 8, out);
	return parse_digits(s, len, base ? (unsigned)base : 10, out);
}

int dk__parse_i64(const char *s, size_t len, int64_t *out)
{
	if (!s || !out)
		return -EINVAL;
	trim(&s, &len);
	int neg = 0;
	if (len && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		s++;
		len--;
	}
	uint64_t v;
	int rc = parse_digits(s, len, 10, &v);
	if (rc < 0)
		return rc;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)v;
	}
	return 0;
}

/* Next whitespace-separated token of a line; advances *p. */
static int next_token(const char **p, const char *end, const char **tok, size_t *tlen)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	const char *t = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	if (s == t)
		return -EINVAL;
	*tok = t;
	*tlen = (size_t)(s - t);
	*p = s;
	return 0;
}

int dk__parse_resource(const char *s, size_t len, struct dk__resource_line *lines, unsigned int max)
{
	if (!s || (!lines && max))
		return -EINVAL;
	const char *p = s, *end = s + len;
	unsigned int n = 0;
	while (p < end) {
		const char *eol = p;
		while (eol < end && *eol != '\n')
			eol++;
		if (eol == end)
			return -EINVAL; /* sysfs lines always end in '\n': a partial line is truncation */
		if (eol == p)
			return -EINVAL; /* empty line */
		if (n < max) {
			uint64_t v[3];
			const char *q = p;
			for (int i = 0; i < 3; i++) {
				const char *tok;
				size_t tl;
				if (next_token(&q, eol, &tok, &tl) < 0)
					return -EINVAL;
				int rc = dk__parse_u64(tok, tl, 16, &v[i]);
				if (rc < 0)
					return rc;
			}
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (q != eol)
				return -EINVAL;
			if (v[1] < v[0] && !(v[0] == 0 && v[1] == 0))
				return -EINVAL;
			lines[n].start = v[0];
			lines[n].end = v[1];
			lines[n].flags = v[2];
		}
		n++;
		p = eol + 1;
	}
	return (int)(n < max ? n : max);
}
