/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for device arguments (dmakit/devargs.h). The input,
 * cut at its first NUL, is a devargs string. When it parses, every
 * accessor runs on every key, and format followed by parse must give back
 * the very same struct (byte for byte, as the struct is documented to be
 * zeroed and filled by parse).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmakit/devargs.h>
#include <dmakit/log.h>
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* Parse errors are logged; keep them (formatted) but off stderr. */
static void quiet_sink(enum dk_log_level level, const char *comp, const char *msg, void *arg)
{
	(void)level;
	(void)comp;
	(void)msg;
	(void)arg;
}

/* name + DK_DEVARGS_MAX_KV times ",key=value" */
#define FORMAT_MAX                                                                                 \
	(DK_DEVARGS_NAME_MAX + DK_DEVARGS_MAX_KV * (DK_DEVARGS_KEY_MAX + DK_DEVARGS_VALUE_MAX + 2))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	static struct dk_devargs da, again;
	static char str[8192], out[FORMAT_MAX];
	if (!once) {
		dk_log_set_sink(quiet_sink, NULL);
		once = 1;
	}
	if (size >= sizeof(str))
		size = sizeof(str) - 1;
	memcpy(str, data, size);
	str[size] = '\0';

	int rc = dk_devargs_parse(str, &da);
	REQUIRE(rc == 0 || rc == -EINVAL || rc == -E2BIG);
	if (rc < 0) {
		static const struct dk_devargs zero;
		REQUIRE(memcmp(&da, &zero, sizeof(da)) == 0);
		return 0;
	}
	REQUIRE(da.name[0] != '\0' && memchr(da.name, '\0', sizeof(da.name)));
	REQUIRE(da.n_kv <= DK_DEVARGS_MAX_KV);

	for (unsigned int i = 0; i < da.n_kv; i++) {
		const struct dk_devargs_kv *kv = &da.kv[i];
		REQUIRE(kv->key[0] != '\0' && memchr(kv->key, '\0', sizeof(kv->key)));
		REQUIRE(memchr(kv->value, '\0', sizeof(kv->value)));
		const char *v = dk_devargs_get(&da, kv->key);
		REQUIRE(v == kv->value); /* keys are unique */

		uint64_t u;
		int urc = dk_devargs_get_u64(&da, kv->key, &u);
		REQUIRE(urc == 0 || urc == -EINVAL || urc == -ERANGE);
		if (!kv->value[0])
			REQUIRE(urc == -EINVAL);

		char items[8][DK_DEVARGS_KEY_MAX];
		static const char seps[] = {':', ','};
		for (size_t j = 0; j < sizeof(seps); j++) {
			int n = dk_devargs_get_list(&da, kv->key, seps[j], items, 8);
			REQUIRE(n == -EINVAL || n == -E2BIG || (n >= 1 && n <= 8));
			for (int k = 0; k < n; k++) {
				size_t l = strnlen(items[k], sizeof(items[k]));
				REQUIRE(l > 0 && l < sizeof(items[k]));
				REQUIRE(!memchr(items[k], seps[j], l));
			}
		}
	}
	errno = 0;
	REQUIRE(dk_devargs_get(&da, "no such key!") == NULL && errno == ENOENT);
	uint64_t dummy;
	REQUIRE(dk_devargs_get_u64(&da, "no such key!", &dummy) == -ENOENT);

	int len = dk_devargs_format(&da, out, sizeof(out));
	REQUIRE(len > 0 && (size_t)len < sizeof(out) && strlen(out) == (size_t)len);
	/* a short buffer: same length reported, truncated NUL-terminated text */
	char small[8];
	REQUIRE(dk_devargs_format(&da, small, sizeof(small)) == len);
	REQUIRE(strlen(small) == ((size_t)len < sizeof(small) ? (size_t)len : sizeof(small) - 1));
	REQUIRE(strncmp(small, out, sizeof(small) - 1) == 0);
	REQUIRE(dk_devargs_format(&da, NULL, 0) == len);

	REQUIRE(dk_devargs_parse(out, &again) == 0);
	REQUIRE(memcmp(&da, &again, sizeof(da)) == 0);
	return 0;
}
