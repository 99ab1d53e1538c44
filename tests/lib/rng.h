/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deterministic pseudo-random numbers for tests (xorshift64*): the same seed
 * gives the same sequence on every run, so a failure reproduces. The state
 * must not be 0. Not for anything but tests.
 */
#ifndef DK_TESTS_RNG_H
#define DK_TESTS_RNG_H

#include <stdint.h>

static inline uint64_t dk_test_rng(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif
