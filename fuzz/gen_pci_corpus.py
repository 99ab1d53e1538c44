#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the synthetic seed config spaces of fuzz/corpus/pci_caps/.

usage: fuzz/gen_pci_corpus.py [OUT_DIR]   (default: fuzz/corpus/pci_caps)

Layouts follow the PCI Local Bus and PCIe Base specifications; values are
made up to look like an NVMe SSD with SR-IOV, a PCIe switch port and a
CardBus bridge. Real config spaces sit next to them as sys_*.bin.
"""
import os
import struct
import sys


class Cfg:
    def __init__(self, size, header_type, vendor=0x1b36, device=0x0010, cls=0x010802):
        self.b = bytearray(size)
        struct.pack_into('<HH', self.b, 0, vendor, device)
        struct.pack_into('<H', self.b, 0x06, 0x0010)  # status: capability list
        self.b[0x09:0x0c] = cls.to_bytes(3, 'little')
        self.b[0x0e] = header_type
        self.ptr = 0x14 if header_type & 0x7f == 2 else 0x34
        self.last_ext = None

    def std(self, off, cap_id, body=b''):
        self.b[self.ptr] = off
        self.b[off] = cap_id
        self.b[off + 2:off + 2 + len(body)] = body
        self.ptr = off + 1
        return self

    def ext(self, off, cap_id, ver, body=b''):
        if self.last_ext is not None:
            h, = struct.unpack_from('<I', self.b, self.last_ext)
            struct.pack_into('<I', self.b, self.last_ext, h | off << 20)
        struct.pack_into('<I', self.b, off, cap_id | ver << 16)
        self.b[off + 4:off + 4 + len(body)] = body
        self.last_ext = off
        return self


def pcie(flags, devcap, lnkcap, lnksta):
    body = bytearray(0x3c - 2)
    struct.pack_into('<HI', body, 0, flags, devcap)
    struct.pack_into('<I', body, 0x0c - 2, lnkcap)
    struct.pack_into('<H', body, 0x12 - 2, lnksta)
    return bytes(body)


def sriov():
    body = bytearray(0x40 - 4)
    struct.pack_into('<H', body, 0x08 - 4, 0x0019)
    struct.pack_into('<HHH', body, 0x0c - 4, 16, 64, 4)
    struct.pack_into('<HH', body, 0x14 - 4, 0x80, 1)
    struct.pack_into('<H', body, 0x1a - 4, 0x0011)
    return bytes(body)


def nvme_like():
    c = Cfg(4096, 0x00)
    c.std(0x40, 0x01, struct.pack('<HH', 0x0003, 0x0008))
    c.std(0x50, 0x05, struct.pack('<H', 0x0186))  # MSI 64-bit, masking, 8 vectors
    c.std(0x70, 0x10, pcie(0x0002, 0x10008fe3, 0x00474c44, 0x1044))
    c.std(0xb0, 0x11, struct.pack('<HII', 0x8040, 0x00002000, 0x00003000))
    c.ext(0x100, 0x0001, 2, bytes(0x44))
    c.ext(0x148, 0x000d, 1, struct.pack('<HH', 0x005f, 0x001c))
    c.ext(0x150, 0x000e, 1, struct.pack('<I', 0))
    c.ext(0x160, 0x0010, 1, sriov())
    c.ext(0x1a0, 0x0003, 1, struct.pack('<Q', 0x0123456789abcdef))
    c.ext(0x1b0, 0x0018, 1, struct.pack('<HH', 0x1003, 0x1003))
    c.ext(0x1c0, 0x0019, 1, bytes(0x0c))
    c.ext(0x200, 0x0025, 1, bytes(0x08))
    c.ext(0x210, 0x0026, 1, bytes(0x1c))
    c.ext(0x300, 0x001e, 1, bytes(0x0c))
    return c.b


def switch_port_256():
    c = Cfg(256, 0x81, vendor=0x104c, device=0x8233, cls=0x060400)
    c.std(0x40, 0x0d, struct.pack('<HH', 0x104c, 0x8233))
    c.std(0x48, 0x01, struct.pack('<HH', 0x0003, 0x0008))
    c.std(0x50, 0x05, struct.pack('<H', 0x0080))
    c.std(0x70, 0x10, pcie(0x0162, 0x00008000, 0x00000412, 0x7011))
    return c.b


def cardbus_256():
    c = Cfg(256, 0x02, vendor=0x1180, device=0x0476, cls=0x060700)
    c.std(0x80, 0x01, struct.pack('<HH', 0x0002, 0x0000))
    return c.b


def header_only_64():
    return nvme_like()[:64]


def malformed_4096():
    """Loops in both chains, low pointer bits set, a cut MSI-X."""
    c = Cfg(4096, 0x00)
    c.std(0x40, 0x01)
    c.b[0x34] = 0x43  # pointer 0x43 means 0x40
    c.std(0x50, 0x10, pcie(0x0002, 0, 0x11, 0x11))
    c.std(0xf8, 0x11, struct.pack('<H', 0x0001))
    c.b[0xf9] = 0x52  # back to 0x50
    c.ext(0x100, 0x0001, 1)
    c.ext(0x140, 0x000d, 1, struct.pack('<HH', 0x7f, 0x7f))
    c.ext(0xffc, 0x0010, 1)
    h, = struct.unpack_from('<I', c.b, 0xffc)
    struct.pack_into('<I', c.b, 0xffc, h | 0x140 << 20)
    return c.b


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'pci_caps')
    os.makedirs(out, exist_ok=True)
    seeds = {
        'nvme_like_4096.bin': nvme_like(),
        'switch_port_256.bin': switch_port_256(),
        'cardbus_256.bin': cardbus_256(),
        'header_only_64.bin': header_only_64(),
        'malformed_4096.bin': malformed_4096(),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(bytes(data))


if __name__ == '__main__':
    main()
