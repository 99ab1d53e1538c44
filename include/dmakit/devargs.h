/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dmakit/devargs.h - device arguments: "<device>[,key[=value]]..."
 *
 * Grammar:
 *   devargs := name ( "," kv )*
 *   name    := a PCI address ("0000:03:00.0", or "03:00.0" meaning domain 0,
 *              normalized to the long form) or any other device name
 *              (an mdev UUID, ...): 1..63 characters, no "," "=" or spaces.
 *   kv      := key [ "=" value ]
 *   key     := 1..31 characters of [A-Za-z0-9_.-]
 *   value   := 0..255 characters; a value may be wrapped in "[...]" to hold
 *              commas ("list=[1,2,3]"); the brackets are kept in the value.
 * A key without "=" is a flag; its value is "". Keys are unique.
 * At most DK_DEVARGS_MAX_KV pairs.
 *
 * Example: "0000:03:00.0,class=dma:compute,queues=4"
 *
 * Thread-safety: parsing is reentrant; a parsed struct is immutable and
 * may be read from any thread.
 */
#ifndef DMAKIT_DEVARGS_H
#define DMAKIT_DEVARGS_H

#include <dmakit/common.h>

DK_BEGIN_DECLS

#define DK_DEVARGS_NAME_MAX 64
#define DK_DEVARGS_KEY_MAX 32
#define DK_DEVARGS_VALUE_MAX 256
#define DK_DEVARGS_MAX_KV 32
/* Most entries of an allow or a deny list (dk_init_params.allow/deny, dmakit/init.h). */
#define DK_INIT_MAX_DEVARGS 64

struct dk_devargs_kv {
	char key[DK_DEVARGS_KEY_MAX];
	char value[DK_DEVARGS_VALUE_MAX];
};

struct dk_devargs {
	char name[DK_DEVARGS_NAME_MAX]; /* normalized device name */
	unsigned int n_kv;
	struct dk_devargs_kv kv[DK_DEVARGS_MAX_KV];
};

/*
 * Parse str into *out (caller-owned storage; no allocation).
 * Errors (out is zeroed on failure; the message names the offending
 * character position and what to write instead):
 *   -EINVAL  NULL argument, empty string, empty name or key, bad key
 *            character, unbalanced "[", duplicate key, empty pair (",,")
 *   -E2BIG   name, key or value too long, or more than DK_DEVARGS_MAX_KV pairs
 */
DK_EXPORT int dk_devargs_parse(const char *str, struct dk_devargs *out);

/* Value of key, "" for a flag, NULL (errno ENOENT) when absent. */
DK_EXPORT const char *dk_devargs_get(const struct dk_devargs *da, const char *key);

/*
 * Unsigned integer value of key (decimal, 0x hex, 0 octal).
 * Returns 0; -ENOENT absent; -EINVAL not a number or a flag; -ERANGE overflow.
 */
DK_EXPORT int dk_devargs_get_u64(const struct dk_devargs *da, const char *key, uint64_t *out);

/*
 * Split the value of key on sep ("class=dma:compute" -> "dma", "compute")
 * into items[0..max-1], each of at most item_len bytes including NUL.
 * Returns the item count; -ENOENT absent; -EINVAL empty item or flag;
 * -E2BIG more than max items or an item too long.
 */
DK_EXPORT int dk_devargs_get_list(const struct dk_devargs *da, const char *key, char sep,
				  char (*items)[DK_DEVARGS_KEY_MAX], unsigned int max);

/* Format back to a string; returns the length that would be written (snprintf). */
DK_EXPORT int dk_devargs_format(const struct dk_devargs *da, char *buf, size_t len);

DK_END_DECLS

#endif
