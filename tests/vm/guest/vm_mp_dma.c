/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM test: DMA from memory a secondary process added. The primary opens edu
 * (its VFIO container); a secondary (this program again, DK_MP_CHILD set)
 * grows the shared heap and fills a block; the memory event reaches the
 * primary's container before the secondary's dk_malloc returns, so the
 * primary's edu can DMA from the block by its IOVA after the secondary left.
 */
#include <sys/wait.h>

#include <dmakit/edu.h>

#include "vm_common.h"

#define TMO 5000
#define LEN 3000u

struct box {
	unsigned char *blk;
	int done;
};

static int init_as(int proc)
{
	struct dk_init_params p;
	dk_init_params_default(&p);
	p.flags = DK_INIT_NO_PROBE;
	p.proc_type = proc;
	p.prefix = "vm_mp_dma";
	p.runtime_dir = "/tmp/dmakit-vm";
	return dk_init(&p);
}

__attribute__((constructor)) static void child(void)
{
	if (!getenv("DK_MP_CHILD"))
		return;
	if (init_as(DK_PROC_SECONDARY) < 0)
		_exit(2);
	const struct dk_memzone *mz = dk_memzone_lookup("vm_mp_box");
	if (!mz)
		_exit(3);
	struct box *b = mz->addr;
	/* Big enough that the heap grows here, in the secondary. */
	unsigned char *big = dk_malloc(NULL, 48u << 20, 4096);
	if (!big)
		_exit(4);
	unsigned char *blk = big + (40u << 20);
	for (unsigned int i = 0; i < LEN; i++)
		blk[i] = (unsigned char)(i * 5 + 3);
	b->blk = blk;
	b->done = 1;
	dk_cleanup(); /* the block stays allocated in the shared heap */
	_exit(0);
}

DK_TEST(primary_dmas_from_memory_a_secondary_added)
{
	if (!getenv("DK_VM"))
		SKIP("not in the dmakit test VM (run it with tests/vm/run.sh)");
	REQUIRE_INT_EQ(dk_pci_bind(VM_EDU, "vfio-pci"), 0);
	REQUIRE_INT_EQ(init_as(DK_PROC_PRIMARY), 0);
	struct dk_pci_device *d = dk_pci_find(VM_EDU);
	REQUIRE(d != NULL);
	struct dk_edu *e;
	REQUIRE_INT_EQ(dk_edu_open(d, &e), 0);
	const struct dk_memzone *mz = dk_memzone_reserve("vm_mp_box", sizeof(struct box),
							 DK_SOCKET_ANY, 0, 0);
	REQUIRE(mz != NULL);
	struct box *b = mz->addr;
	memset(b, 0, sizeof(*b));
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		setenv("DK_MP_CHILD", "1", 1);
		execl("/proc/self/exe", "vm_mp_dma", (char *)NULL);
		_exit(98);
	}
	int st = 0;
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	REQUIRE_INT_EQ(WEXITSTATUS(st), 0);
	REQUIRE(b->done == 1 && b->blk != NULL);
	dk_iova_t io = dk_mem_virt2iova(b->blk);
	CHECK(io != DK_BAD_IOVA);
	unsigned char *out = dk_malloc(NULL, LEN, 64);
	REQUIRE(out != NULL);
	memset(out, 0, LEN);
	CHECK_INT_EQ(dk_edu_dma(e, 1, io, 0, LEN, TMO), 0);
	CHECK_INT_EQ(dk_edu_dma_va(e, 0, out, 0, LEN, TMO), 0);
	CHECK(memcmp(out, b->blk, LEN) == 0);
	dk_free(out);
	dk_edu_close(e);
	dk_cleanup();
	dk_pci_unbind(VM_EDU);
}
