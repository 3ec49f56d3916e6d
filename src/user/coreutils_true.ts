// /bin/true as `perf stat -e cycles true` execs it: the program and its interpreter as the ELF
// program headers of Debian 12 give them (`readelf -lW /bin/true` of coreutils 9.1, and of
// /lib64/ld-linux-x86-64.so.2 of glibc 2.36), in pages. The kernel's part of the exec maps these;
// ld.so's own mapping of libc.so.6 is user space and not simulated.

import type { ElfImage, ExecLayout } from '../kernel/fs/exec.ts';
import { VDSO_6_7 } from '../kernel/fs/exec.ts';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../kernel/mm/mmap.ts';

const R = PROT_READ;
const RX = PROT_READ | PROT_EXEC;
const RW = PROT_READ | PROT_WRITE;

/** File ids of the two images (a VMA's vm_file). */
const TRUE_FILE = 0x7e000001;
const LD_SO_FILE = 0x7e000002;

// LOAD 0x0000 R 0x1290; 0x2000 R E 0x3d59; 0x6000 R 0x1b60; 0x8d70 (file 0x7d70) RW 0x470/0x608
export const TRUE_IMAGE: ElfImage = {
  file: TRUE_FILE,
  segments: [
    { offset: 0, file_offset: 0, pages: 2, prot: R },
    { offset: 2, file_offset: 2, pages: 4, prot: RX },
    { offset: 6, file_offset: 6, pages: 2, prot: R },
    { offset: 8, file_offset: 7, pages: 2, prot: RW },
  ],
};

// LOAD 0x0 R 0xd58; 0x1000 R E 0x25111; 0x27000 R 0x9c7c; 0x31900 RW 0x2810/0x29d8
export const LD_SO_IMAGE: ElfImage = {
  file: LD_SO_FILE,
  segments: [
    { offset: 0, file_offset: 0, pages: 1, prot: R },
    { offset: 1, file_offset: 1, pages: 38, prot: RX },
    { offset: 0x27, file_offset: 0x27, pages: 10, prot: R },
    { offset: 0x31, file_offset: 0x31, pages: 4, prot: RW },
  ],
};

/** One page of arguments and environment, plus the 128 KiB setup_arg_pages adds; no brk gap. */
export const TRUE_LAYOUT: ExecLayout = { stack_pages: 33, brk_gap_pages: 0, vdso: VDSO_6_7 };
