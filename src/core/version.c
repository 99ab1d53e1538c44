/* SPDX-License-Identifier: BSD-3-Clause */
#include <dmakit/common.h>

#define DK_STR2(x) #x
#define DK_STR(x) DK_STR2(x)

const char *dk_version(void)
{
	return DK_STR(DK_VERSION_MAJOR) "." DK_STR(DK_VERSION_MINOR) "." DK_STR(DK_VERSION_PATCH);
}
