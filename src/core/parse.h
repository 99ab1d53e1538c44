/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pure parsers for sysfs values. No I/O: every function takes a buffer and
 * its length (not necessarily NUL-terminated), so they can be fuzzed.
 * Leading/trailing whitespace (including the sysfs newline) is ignored.
 *
 * Errors: -EINVAL empty or malformed (message-free: callers name the path);
 *         -ERANGE value does not fit.
 * Thread-safety: reentrant.
 */
#ifndef DK_CORE_PARSE_H
#define DK_CORE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Unsigned integer; base 0 accepts "0x" hex, leading-0 octal, decimal; base 16 accepts an optional "0x". */
int dk__parse_u64(const char *s, size_t len, int base, uint64_t *out);
/* The value of a hex digit (either case), or -1. */
int dk__hex_digit(char c);
/* Signed decimal integer ("-1" for numa_node). */
int dk__parse_i64(const char *s, size_t len, int64_t *out);

/* One line of a sysfs "resource" file: "0x<start> 0x<end> 0x<flags>". */
struct dk__resource_line {
	uint64_t start;
	uint64_t end;
	uint64_t flags;
};
/*
 * Parse a whole "resource" file into up to max lines; returns the number of
 * lines parsed (a trailing partial line is an error), -EINVAL malformed.
 */
int dk__parse_resource(const char *s, size_t len, struct dk__resource_line *lines, unsigned int max);

/* Kernel IORESOURCE_* bits used to decode resource flags. */
#define DK__IORESOURCE_IO 0x00000100ull
#define DK__IORESOURCE_MEM 0x00000200ull
#define DK__IORESOURCE_PREFETCH 0x00002000ull
#define DK__IORESOURCE_MEM_64 0x00100000ull

/*
 * The two names below take a NUL-terminated string with nothing around it
 * (no whitespace trimmed): they check names, not sysfs values.
 */

/* A PCI address: domain, bus, device 0..31, function 0..7. */
struct dk__pci_bdf {
	uint32_t domain;
	uint8_t bus;
	uint8_t dev;
	uint8_t func;
};
/* "DDDD:BB:DD.F" (1..8 domain digits) or "BB:DD.F" (domain 0); hex digits of
 * either case, 1..2 for bus and device, 1 for the function. 0 or -EINVAL. */
int dk__parse_pci_addr(const char *s, struct dk__pci_bdf *out);
/* Format as "%04x:%02x:%02x.%x"; returns snprintf's result. */
int dk__format_pci_addr(const struct dk__pci_bdf *a, char *buf, size_t len);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and its NUL (an mdev's name). */
#define DK__UUID_LEN 37
/* 1 when s (may be NULL) is a UUID in that form, hex digits of either case; else 0. */
int dk__uuid_valid(const char *s);

#endif
