/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the fuzz targets: a broken promise names itself, then aborts so
 * libFuzzer keeps the input. */
#ifndef DK_FUZZ_CHECK_H
#define DK_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
