/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal TAP test harness. Each test file defines tests with DK_TEST and
 * links tests/lib/tap.c, which supplies main(): it runs every test in
 * definition order (or only those named on the command line) and prints
 * TAP version 13 ("ok N - name", "not ok N - name", "# SKIP reason").
 *
 *   DK_TEST(parses_hex) { CHECK_INT_EQ(f(), 3); }
 *
 * CHECK*  record a failure and continue; REQUIRE* record and end the test;
 * SKIP("why") ends the test as skipped. The exit code is 1 when any test
 * failed.
 */
#ifndef DK_TESTS_TAP_H
#define DK_TESTS_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef void (*dk_test_fn)(void);
void dk_test_register(const char *name, dk_test_fn fn);
void dk_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void dk_test_end(void);
_Noreturn void dk_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Directory for scratch files of the running test binary (created on demand). */
const char *dk_test_tmpdir(void);

#define DK_TEST(name)                                                              \
	static void name(void);                                                    \
	__attribute__((constructor)) static void name##_register(void)             \
	{                                                                          \
		dk_test_register(#name, name);                                     \
	}                                                                          \
	static void name(void)

#define CHECK(c)                                                                   \
	do {                                                                       \
		if (!(c))                                                          \
			dk_test_fail(__FILE__, __LINE__, "CHECK(%s)", #c);         \
	} while (0)
#define REQUIRE(c)                                                                 \
	do {                                                                       \
		if (!(c)) {                                                        \
			dk_test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #c);       \
			dk_test_end();                                             \
		}                                                                  \
	} while (0)
#define CHECK_INT_EQ(a, b)                                                         \
	do {                                                                       \
		long long dk_a_ = (long long)(a), dk_b_ = (long long)(b);          \
		if (dk_a_ != dk_b_)                                                \
			dk_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, \
				     #b, dk_a_, dk_b_);                            \
	} while (0)
#define REQUIRE_INT_EQ(a, b)                                                       \
	do {                                                                       \
		long long dk_a_ = (long long)(a), dk_b_ = (long long)(b);          \
		if (dk_a_ != dk_b_) {                                              \
			dk_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, \
				     #b, dk_a_, dk_b_);                            \
			dk_test_end();                                             \
		}                                                                  \
	} while (0)
#define CHECK_STR_EQ(a, b)                                                         \
	do {                                                                       \
		const char *dk_a_ = (a), *dk_b_ = (b);                             \
		if (!dk_a_ || !dk_b_ || strcmp(dk_a_, dk_b_) != 0)                 \
			dk_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
				     #a, #b, dk_a_ ? dk_a_ : "(null)",             \
				     dk_b_ ? dk_b_ : "(null)");                    \
	} while (0)
#define CHECK_STR_CONTAINS(hay, needle)                                            \
	do {                                                                       \
		const char *dk_h_ = (hay), *dk_n_ = (needle);                      \
		if (!dk_h_ || !strstr(dk_h_, dk_n_))                               \
			dk_test_fail(__FILE__, __LINE__, "\"%s\" contains \"%s\"",  \
				     dk_h_ ? dk_h_ : "(null)", dk_n_);             \
	} while (0)
#define SKIP(...) dk_test_skip(__VA_ARGS__)

/*
 * Log capture: collects every dmakit log message of the running test into a
 * buffer, so tests can check that an error names what to fix.
 */
void dk_test_log_capture_start(void);
/* Everything logged since start, messages separated by '\n'. */
const char *dk_test_log_captured(void);
void dk_test_log_capture_stop(void);

#endif
