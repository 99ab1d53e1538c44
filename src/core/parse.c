/* SPDX-License-Identifier: BSD-3-Clause */
/* Pure parsers (contract: src/core/parse.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

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

int dk__hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The digit's value, 99 for a character that is no digit in any base. */
static int digit_value(char c)
{
	int d = dk__hex_digit(c);
	return d < 0 ? 99 : d;
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

/* 1..max hex digits ending at term ('\0' included); *p moves past term. */
static int hex_field(const char **p, int max, char term, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;
	const char *s = *p;
	while (digit_value(*s) < 16) {
		if (++n > max)
			return -EINVAL;
		v = v << 4 | (uint32_t)digit_value(*s);
		s++;
	}
	if (n == 0 || *s != term)
		return -EINVAL;
	*p = s + (term ? 1 : 0);
	*out = v;
	return 0;
}

int dk__parse_pci_addr(const char *s, struct dk__pci_bdf *out)
{
	if (!s || !out)
		return -EINVAL;
	/* Count ':' to tell "DDDD:BB:DD.F" from "BB:DD.F". */
	int colons = 0;
	for (const char *c = s; *c; c++)
		colons += *c == ':';
	uint32_t dom = 0, bus, dev, fn;
	const char *p = s;
	if (colons == 2) {
		if (hex_field(&p, 8, ':', &dom) < 0)
			return -EINVAL;
	} else if (colons != 1) {
		return -EINVAL;
	}
	if (hex_field(&p, 2, ':', &bus) < 0 || hex_field(&p, 2, '.', &dev) < 0 ||
	    hex_field(&p, 1, '\0', &fn) < 0)
		return -EINVAL;
	if (dev > 31 || fn > 7)
		return -EINVAL;
	out->domain = dom;
	out->bus = (uint8_t)bus;
	out->dev = (uint8_t)dev;
	out->func = (uint8_t)fn;
	return 0;
}

int dk__format_pci_addr(const struct dk__pci_bdf *a, char *buf, size_t len)
{
	return snprintf(buf, len, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->func);
}

int dk__uuid_valid(const char *s)
{
	if (!s)
		return 0;
	for (int i = 0; i < DK__UUID_LEN - 1; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (digit_value(s[i]) >= 16) {
			return 0;
		}
	}
	return s[DK__UUID_LEN - 1] == '\0';
}
