/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for src/bus/pci/pci_ids.c (the index) and pci_names.c (dmakit/pci_ids.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dmakit/pci_ids.h>

#include "bus/pci/pci_ids.h"
#include "tap.h"

/* A small database in the file's own style: comments, tabs, classes. */
static const char g_db[] =
    "#\n"
    "#\tList of PCI ID's\n"
    "#\n"
    "\n"
    "1234  First Vendor\n"
    "\t0001  Widget\n"
    "\t\t1234 0001  Widget (self)\n"
    "\t\t5678 00aa  Widget for Second\n"
    "# a comment between devices\n"
    "\t0002  Gadget \n"
    "\t0003\n"
    "\t\t5678 0003  belongs to nothing\n"
    "\t00Ff  Upper Case\n"
    "5678  Second Vendor, Inc.\t\n"
    "\t0010  Thing\r\n"
    "\t0020  Thing 2\n"
    "\t\t\tdeep  three tabs\n"
    "1234  Duplicate Vendor\n"
    "\t0001  Duplicate Widget\n"
    "12z4  Bad Vendor\n"
    "\t0001  under a bad vendor\n"
    "S 5678\n"
    "\t00bb  Generic Second Sub\n"
    "X 1234  something else\n"
    "\t0001  nested in X\n"
    "C 01  Mass storage controller\n"
    "\t08  Non-Volatile memory controller\n"
    "\t\t02  NVM Express\n"
    "\tzz  bad subclass\n"
    "\t\t03  progif of the bad subclass\n"
    "C ff  Unassigned class\n"
    "C 06  Bridge\n"
    "\t\t05  progif directly under the class\n"
    "\t04  PCI bridge\n"
    "\t\t00  Normal decode\n";

static struct dk__pci_ids *index_str(const char *s)
{
	struct dk__pci_ids *db = dk__pci_ids_index(s, strlen(s));
	REQUIRE(db != NULL);
	return db;
}

/* The name as a C string (static buffer), or NULL when not found. */
static const char *str(int rc, const struct dk__pci_name *n)
{
	static char buf[4096];
	if (rc != 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)n->len, n->s);
	return buf;
}

DK_TEST(vendors_devices_and_comments)
{
	struct dk__pci_ids *db = index_str(g_db);
	struct dk__pci_name n;
	CHECK_STR_EQ(str(dk__pci_ids_vendor(db, 0x1234, &n), &n), "First Vendor");
	CHECK_STR_EQ(str(dk__pci_ids_device(db, 0x1234, 0x0001, &n), &n), "Widget");
	/* One trailing blank is dropped, as lspci does. */
	CHECK_STR_EQ(str(dk__pci_ids_device(db, 0x1234, 0x0002, &n), &n), "Gadget");
	CHECK_STR_EQ(str(dk__pci_ids_vendor(db, 0x5678, &n), &n), "Second Vendor, Inc.");
	/* CRLF: the text ends at '\r'. */
	CHECK_STR_EQ(str(dk__pci_ids_device(db, 0x5678, 0x0010, &n), &n), "Thing");
	CHECK_STR_EQ(str(dk__pci_ids_device(db, 0x1234, 0x00ff, &n), &n), "Upper Case");
	CHECK_INT_EQ(dk__pci_ids_vendor(db, 0x9999, &n), -ENOENT);
	CHECK_INT_EQ(dk__pci_ids_device(db, 0x1234, 0x9999, &n), -ENOENT);
	CHECK_INT_EQ(dk__pci_ids_device(db, 0x9999, 0x0001, &n), -ENOENT);
	dk__pci_ids_free(db);
}

DK_TEST(device_without_a_name_is_skipped_with_its_subsystems)
{
	struct dk__pci_ids *db = index_str(g_db);
	struct dk__pci_name n;
	CHECK_INT_EQ(dk__pci_ids_device(db, 0x1234, 0x0003, &n), -ENOENT);
	/* Its subsystem line must not land on the device before it. */
	CHECK_INT_EQ(dk__pci_ids_subsystem(db, 0x1234, 0x0002, 0x5678, 0x0003, &n), -ENOENT);
	dk__pci_ids_free(db);
}

DK_TEST(duplicates_first_wins_and_malformed_counted)
{
	struct dk__pci_ids *db = index_str(g_db);
	struct dk__pci_name n;
	CHECK_STR_EQ(str(dk__pci_ids_vendor(db, 0x1234, &n), &n), "First Vendor");
	CHECK_STR_EQ(str(dk__pci_ids_device(db, 0x1234, 0x0001, &n), &n), "Widget");
	/* Malformed: "\t0003" and its subsystem line, "\t\t\tdeep", "12z4  Bad Vendor"
	 * (its nested line is skipped with it, uncounted), "\tzz", and the progif
	 * under the bad subclass. */
	unsigned int first = 0;
	CHECK_INT_EQ(dk__pci_ids_malformed(db, &first), 6);
	CHECK_INT_EQ(first, 11);
	dk__pci_ids_free(db);
}

DK_TEST(subsystems_own_generic_and_self)
{
	struct dk__pci_ids *db = index_str(g_db);
	struct dk__pci_name n;
	CHECK_STR_EQ(str(dk__pci_ids_subsystem(db, 0x1234, 0x0001, 0x5678, 0x00aa, &n), &n),
		     "Widget for Second");
	CHECK_STR_EQ(str(dk__pci_ids_subsystem(db, 0x1234, 0x0001, 0x1234, 0x0001, &n), &n),
		     "Widget (self)");
	/* Generic "S" block entry, for any device. */
	CHECK_STR_EQ(str(dk__pci_ids_subsystem(db, 0x1234, 0x0002, 0x5678, 0x00bb, &n), &n),
		     "Generic Second Sub");
	/* Subsystem == device without an entry: the device's name. */
	CHECK_STR_EQ(str(dk__pci_ids_subsystem(db, 0x5678, 0x0020, 0x5678, 0x0020, &n), &n),
		     "Thing 2");
	CHECK_INT_EQ(dk__pci_ids_subsystem(db, 0x5678, 0x0020, 0x5678, 0x0021, &n), -ENOENT);
	CHECK_INT_EQ(dk__pci_ids_subsystem(db, 0x9999, 0x0001, 0x9999, 0x0001, &n), -ENOENT);
	dk__pci_ids_free(db);
}

DK_TEST(unknown_blocks_are_skipped)
{
	struct dk__pci_ids *db = index_str(g_db);
	struct dk__pci_name n;
	/* "X 1234" is no vendor; its nested line is not a device of 1234. */
	CHECK_INT_EQ(dk__pci_ids_vendor(db, 0x12f4, &n), -ENOENT);
	CHECK_STR_EQ(str(dk__pci_ids_device(db, 0x1234, 0x0001, &n), &n), "Widget");
	dk__pci_ids_free(db);
}

DK_TEST(classes_subclasses_progifs)
{
	struct dk__pci_ids *db = index_str(g_db);
	struct dk__pci_name n;
	CHECK_STR_EQ(str(dk__pci_ids_class(db, 0x01, &n), &n), "Mass storage controller");
	CHECK_STR_EQ(str(dk__pci_ids_subclass(db, 0x01, 0x08, &n), &n),
		     "Non-Volatile memory controller");
	CHECK_STR_EQ(str(dk__pci_ids_progif(db, 0x01, 0x08, 0x02, &n), &n), "NVM Express");
	CHECK_STR_EQ(str(dk__pci_ids_class(db, 0xff, &n), &n), "Unassigned class");
	CHECK_INT_EQ(dk__pci_ids_subclass(db, 0xff, 0xff, &n), -ENOENT);
	CHECK_STR_EQ(str(dk__pci_ids_subclass(db, 0x06, 0x04, &n), &n), "PCI bridge");
	CHECK_STR_EQ(str(dk__pci_ids_progif(db, 0x06, 0x04, 0x00, &n), &n), "Normal decode");
	/* A prog-if right under a class belongs to subclass 00 (lspci's reading). */
	CHECK_STR_EQ(str(dk__pci_ids_progif(db, 0x06, 0x00, 0x05, &n), &n),
		     "progif directly under the class");
	CHECK_INT_EQ(dk__pci_ids_progif(db, 0x01, 0x08, 0x03, &n), -ENOENT);
	CHECK_INT_EQ(dk__pci_ids_class(db, 0x02, &n), -ENOENT);
	/* Classes are not vendors and vendors not classes. */
	CHECK_INT_EQ(dk__pci_ids_vendor(db, 0x0001, &n), -ENOENT);
	dk__pci_ids_free(db);
}

DK_TEST(empty_and_unterminated_input)
{
	struct dk__pci_name n;
	struct dk__pci_ids *db = dk__pci_ids_index("", 0);
	REQUIRE(db != NULL);
	CHECK_INT_EQ(dk__pci_ids_vendor(db, 0, &n), -ENOENT);
	CHECK_INT_EQ(dk__pci_ids_malformed(db, NULL), 0);
	dk__pci_ids_free(db);
	/* The length bounds the text: no final newline, no NUL. */
	const char s[] = "abcd  Last Vendor WITHOUT NEWLINE";
	db = dk__pci_ids_index(s, strlen("abcd  Last Vendor"));
	REQUIRE(db != NULL);
	CHECK_STR_EQ(str(dk__pci_ids_vendor(db, 0xabcd, &n), &n), "Last Vendor");
	dk__pci_ids_free(db);
}

DK_TEST(vendors_without_any_device_or_subsystem)
{
	/* Vendors only (no device table, no subsystem table at all): every lookup of a
	 * device or subsystem is a clean miss (the fuzzer's first find). */
	struct dk__pci_ids *db = index_str("1af4  Red Hat\n1b36  Red Hat QEMU\n");
	struct dk__pci_name n;
	CHECK_STR_EQ(str(dk__pci_ids_vendor(db, 0x1b36, &n), &n), "Red Hat QEMU");
	CHECK_INT_EQ(dk__pci_ids_device(db, 0x1af4, 0x1045, &n), -ENOENT);
	CHECK_INT_EQ(dk__pci_ids_subsystem(db, 0x1af4, 0x1045, 0x1af4, 1, &n), -ENOENT);
	dk__pci_ids_free(db);
	/* A device without subsystems, and no subsystem anywhere. */
	db = index_str("1af4  Red Hat\n\t1045  Balloon\n");
	CHECK_STR_EQ(str(dk__pci_ids_device(db, 0x1af4, 0x1045, &n), &n), "Balloon");
	CHECK_INT_EQ(dk__pci_ids_subsystem(db, 0x1af4, 0x1045, 0x1af4, 1, &n), -ENOENT);
	dk__pci_ids_free(db);
}

DK_TEST(very_long_names)
{
	size_t len = 100000;
	char *s = malloc(len + 16);
	REQUIRE(s != NULL);
	memcpy(s, "4321  ", 6);
	memset(s + 6, 'x', len);
	memcpy(s + 6 + len, "\n", 2);
	struct dk__pci_ids *db = index_str(s);
	struct dk__pci_name n;
	REQUIRE_INT_EQ(dk__pci_ids_vendor(db, 0x4321, &n), 0);
	CHECK_INT_EQ(n.len, len);
	dk__pci_ids_free(db);
	free(s);
}

/* ---- the public API: files, the env override, copies ------------------------------- */

static const char *write_db(const char *name, const char *text)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dk_test_tmpdir(), name);
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	fputs(text, f);
	REQUIRE(fclose(f) == 0);
	return path;
}

DK_TEST(api_lookups_copy_like_snprintf)
{
	const char *path = write_db("pci.ids", g_db);
	REQUIRE_INT_EQ(dk_pci_ids_load(path), 0);
	char buf[64];
	CHECK_INT_EQ(dk_pci_vendor_name(0x1234, buf, sizeof(buf)), 12);
	CHECK_STR_EQ(buf, "First Vendor");
	CHECK_INT_EQ(dk_pci_vendor_name(0x1234, buf, 6), 12);
	CHECK_STR_EQ(buf, "First");
	CHECK_INT_EQ(dk_pci_vendor_name(0x1234, NULL, 0), 12);
	CHECK_INT_EQ(dk_pci_vendor_name(0x1234, NULL, 4), -EINVAL);
	CHECK_INT_EQ(dk_pci_device_name(0x1234, 0x0002, buf, sizeof(buf)), 6);
	CHECK_STR_EQ(buf, "Gadget");
	CHECK_INT_EQ(dk_pci_subsystem_name(0x1234, 0x0001, 0x5678, 0x00aa, buf, sizeof(buf)), 17);
	CHECK_STR_EQ(buf, "Widget for Second");
	CHECK_INT_EQ(dk_pci_class_name(0x01, buf, sizeof(buf)), 23);
	CHECK_INT_EQ(dk_pci_subclass_name(0x01, 0x08, buf, sizeof(buf)), 30);
	CHECK_INT_EQ(dk_pci_progif_name(0x01, 0x08, 0x02, buf, sizeof(buf)), 11);
	CHECK_STR_EQ(buf, "NVM Express");
	CHECK_INT_EQ(dk_pci_vendor_name(0x9999, buf, sizeof(buf)), -ENOENT);
	char full[4096];
	CHECK_INT_EQ(dk_pci_ids_path(full, sizeof(full)), (int)strlen(path));
	CHECK_STR_EQ(full, path);
	dk_pci_ids_unload();
}

DK_TEST(missing_file_is_reported_not_fatal)
{
	char buf[64];
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_ids_load("/nonexistent/pci.ids"), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "/nonexistent/pci.ids");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_pci_vendor_name(0x1234, buf, sizeof(buf)), -ENODATA);
	CHECK_INT_EQ(dk_pci_class_name(0x01, buf, sizeof(buf)), -ENODATA);
	CHECK_INT_EQ(dk_pci_ids_path(buf, sizeof(buf)), -ENOENT);
	/* A directory is no database either. */
	dk_test_log_capture_start();
	CHECK_INT_EQ(dk_pci_ids_load(dk_test_tmpdir()), -EISDIR);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "Is a directory");
	dk_test_log_capture_stop();
	CHECK_INT_EQ(dk_pci_vendor_name(0x1234, buf, sizeof(buf)), -ENODATA);
	dk_pci_ids_unload();
}

DK_TEST(env_override_and_lazy_load)
{
	const char *path = write_db("env.ids", "abcd  From The Environment\n");
	char buf[64];
	setenv("DMAKIT_PCI_IDS", path, 1);
	dk_pci_ids_unload();
	CHECK_INT_EQ(dk_pci_vendor_name(0xabcd, buf, sizeof(buf)), 20);
	CHECK_STR_EQ(buf, "From The Environment");
	/* Loaded once: a file changed afterwards is not read again until a reload. */
	write_db("env.ids", "abcd  Changed\n");
	CHECK_STR_EQ((dk_pci_vendor_name(0xabcd, buf, sizeof(buf)), buf), "From The Environment");
	CHECK_INT_EQ(dk_pci_ids_load(NULL), 0);
	CHECK_STR_EQ((dk_pci_vendor_name(0xabcd, buf, sizeof(buf)), buf), "Changed");

	setenv("DMAKIT_PCI_IDS", "none", 1);
	dk_pci_ids_unload();
	CHECK_INT_EQ(dk_pci_vendor_name(0xabcd, buf, sizeof(buf)), -ENODATA);
	CHECK_INT_EQ(dk_pci_ids_path(NULL, 0), -ENOENT);

	setenv("DMAKIT_PCI_IDS", "/nonexistent/pci.ids", 1);
	dk_test_log_capture_start();
	dk_pci_ids_unload();
	CHECK_INT_EQ(dk_pci_ids_path(NULL, 0), -ENOENT);
	CHECK_STR_CONTAINS(dk_test_log_captured(), "DMAKIT_PCI_IDS");
	dk_test_log_capture_stop();
	unsetenv("DMAKIT_PCI_IDS");
	dk_pci_ids_unload();
}

DK_TEST(empty_file_is_an_empty_database)
{
	const char *path = write_db("empty.ids", "");
	char buf[8];
	REQUIRE_INT_EQ(dk_pci_ids_load(path), 0);
	CHECK_INT_EQ(dk_pci_vendor_name(0x1234, buf, sizeof(buf)), -ENOENT);
	dk_pci_ids_unload();
}

DK_TEST(installed_database_when_present)
{
	struct stat st;
	if (stat("/usr/share/misc/pci.ids", &st) != 0)
		SKIP("no /usr/share/misc/pci.ids: apt-get install pci.ids");
	char buf[256];
	REQUIRE_INT_EQ(dk_pci_ids_load("/usr/share/misc/pci.ids"), 0);
	CHECK(dk_pci_vendor_name(0x8086, buf, sizeof(buf)) > 0);
	CHECK_STR_EQ(buf, "Intel Corporation");
	CHECK(dk_pci_subclass_name(0x01, 0x08, buf, sizeof(buf)) > 0);
	CHECK_STR_EQ(buf, "Non-Volatile memory controller");
	dk_pci_ids_unload();
}
