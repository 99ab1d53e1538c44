/* SPDX-License-Identifier: BSD-3-Clause */
/* dmakit/dmakit.h - umbrella header: everything public. */
#ifndef DMAKIT_DMAKIT_H
#define DMAKIT_DMAKIT_H

#include <dmakit/common.h>
#include <dmakit/log.h>
#include <dmakit/devargs.h>
#include <dmakit/sysfs.h>
#include <dmakit/init.h>
#include <dmakit/bus.h>
#include <dmakit/pci.h>
#include <dmakit/pci_ids.h>
#include <dmakit/mdev.h>
#include <dmakit/vfio.h>
#include <dmakit/memory.h>
#include <dmakit/malloc.h>
#include <dmakit/memzone.h>
#include <dmakit/dma.h>
#include <dmakit/mr.h>
#include <dmakit/cdev.h>
#include <dmakit/p2p.h>

#endif
