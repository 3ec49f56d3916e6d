// execve of a dynamically linked PIE, as far as the address space goes (fs/exec.c,
// fs/binfmt_elf.c load_elf_binary, arch/x86/entry/vdso/vma.c map_vdso), with ASLR off (runtest.py
// runs will-it-scale under `setarch -R`): the stack below STACK_TOP, the program at
// ELF_ET_DYN_BASE with its bss and the start of the heap after it, the dynamic loader and the
// vDSO placed top-down from mmap_base.

import { mem32 } from '../../machine/memory.ts';
import { get_current } from '../../machine/cpu.ts';
import {
  ELF_ET_DYN_BASE, MM_BRK, MM_END_CODE, MM_END_DATA, MM_MMAP_BASE, MM_STACK_VM, MM_START_BRK, MM_START_CODE, MM_START_DATA,
  MM_START_STACK, MM_TOTAL_VM, PAGE_SIZE, STACK_GUARD_GAP, STACK_TOP, TASK_SIZE, VMA_FILE, VM_DONTDUMP, VM_DONTEXPAND, VM_EXEC,
  VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_PFNMAP, VM_READ, VM_SOFTDIRTY, VM_STACK_FLAGS, mm_get, mm_set, set_vm_end,
  set_vm_flags, set_vm_pgoff, set_vm_start, vm_start,
} from '../mm/mm_types.ts';
import {
  MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_WRITE, do_brk_segment, do_mmap, do_munmap, get_unmapped_area, insert_vm_struct,
  mmap_write_lock, mmap_write_unlock,
} from '../mm/mmap.ts';
import { VmaIterator, vm_area_alloc, vma_iter_config, vma_iter_prealloc, vma_iter_store } from '../mm/vma.ts';
import { T_MM, mm_alloc, mmput } from '../kernel/fork.ts';
import { perf_event_enable_on_exec } from '../kernel/events/core.ts';

/** A loadable segment of an ELF file, in pages. */
export interface ElfSegment {
  /** Where the segment starts in the image, in pages from its load address. */
  offset: number;
  /** Where its contents are in the file, in pages. */
  file_offset: number;
  /** Pages backed by the file. */
  pages: number;
  prot: number;
  /** Zero-filled pages after the file part (.bss): anonymous memory. */
  bss_pages?: number;
}

export interface ElfImage {
  /** The file (an id: a VMA's vm_file). */
  file: number;
  segments: ElfSegment[];
}

/** A special mapping of the vDSO (`[vvar]`, `[vdso]`, ...), in address order. */
export interface VdsoMapping {
  /** The special mapping's identity (a VMA's vm_file id; fs/proc shows its name). */
  file: number;
  pages: number;
  /** The vDSO's code (installed first), as opposed to its data pages. */
  text: boolean;
}

export interface ExecLayout {
  /** Pages of the initial stack VMA (arguments, environment, auxv, and what the stack expansion gives). */
  stack_pages: number;
  /** Pages between the end of the bss and the start of the heap (0 with brk randomisation off). */
  brk_gap_pages: number;
  vdso: readonly VdsoMapping[];
  /**
   * Where ASLR put things, when it was on: the program's load address, the top of the mmap area
   * and the top of the stack. Without them, the places of `setarch -R`.
   */
  load_bias?: number;
  mmap_base?: number;
  stack_top?: number;
}

export const VVAR_FILE = 0x7fff0001;
export const VDSO_FILE = 0x7fff0002;
export const VVAR_VCLOCK_FILE = 0x7fff0003;

/** Linux 6.7's x86-64 vDSO: 4 pages of vvar (vvar, pvclock, hvclock, timens), 2 of code. */
export const VDSO_6_7: readonly VdsoMapping[] = [
  { file: VVAR_FILE, pages: 4, text: false },
  { file: VDSO_FILE, pages: 2, text: true },
];

/** The number of pages a whole image spans. */
export function image_pages(img: ElfImage): number {
  return Math.max(...img.segments.map((s) => s.offset + s.pages + (s.bss_pages ?? 0)));
}

// fs/binfmt_elf.c elf_map + elf_load: the first segment reserves the image's whole span (so the
// others land inside it) and gives back the rest; later segments are MAP_FIXED. `base` 0 lets the
// kernel place the image (the interpreter) top-down.
export function load_image(mm: number, img: ElfImage, base: number): number {
  const total = image_pages(img) * PAGE_SIZE;
  let load_addr = base;
  for (const [i, seg] of img.segments.entries()) {
    const size = seg.pages * PAGE_SIZE;
    if (i === 0) {
      const map_addr = do_mmap(mm, img.file, base, total, seg.prot, MAP_PRIVATE | (base ? MAP_FIXED : 0), 0);
      if (map_addr < 0) throw new Error(`exec: cannot map file ${img.file}: error ${-map_addr}`);
      load_addr = map_addr - seg.offset * PAGE_SIZE;
      if (total > size) do_munmap(mm, map_addr + size, total - size);
    } else if (do_mmap(mm, img.file, load_addr + seg.offset * PAGE_SIZE, size, seg.prot, MAP_PRIVATE | MAP_FIXED, seg.file_offset) < 0) {
      throw new Error(`exec: cannot map segment ${i} of file ${img.file}`);
    }
    // The bss past the file's last page is anonymous memory from vm_brk_flags.
    if (seg.bss_pages && do_brk_segment(mm, load_addr + (seg.offset + seg.pages) * PAGE_SIZE, seg.bss_pages * PAGE_SIZE, seg.prot & PROT_EXEC) < 0) {
      throw new Error(`exec: cannot map the bss of file ${img.file}`);
    }
  }
  return load_addr;
}

/** fs/exec.c setup_arg_pages: the stack grows by 128 KiB beyond the arguments at exec. */
const STACK_EXPAND = 131072;

// fs/exec.c __bprm_mm_init + setup_arg_pages: the stack VMA is inserted holding the arguments
// (`pages` less the expansion, at least one page), then expanded down by 128 KiB
// (mm/mmap.c expand_downwards: one store of the larger range)
function setup_arg_pages(mm: number, pages: number, top: number): void {
  const expand = Math.min(STACK_EXPAND / PAGE_SIZE, pages - 1);
  const vma = vm_area_alloc(mm);
  set_vm_start(vma, top - (pages - expand) * PAGE_SIZE);
  set_vm_end(vma, top);
  set_vm_pgoff(vma, vm_start(vma) / PAGE_SIZE);
  set_vm_flags(vma, VM_STACK_FLAGS);
  if (insert_vm_struct(mm, vma)) throw new Error('exec: cannot map the stack');
  mm_set(mm, MM_START_STACK, top - PAGE_SIZE);
  if (!expand) return;
  const vmi = stack_vmi.init(mm, vm_start(vma));
  vma_iter_config(vmi, top - pages * PAGE_SIZE, top);
  if (vma_iter_prealloc(vmi, vma)) throw new Error('exec: cannot expand the stack');
  set_vm_start(vma, top - pages * PAGE_SIZE);
  set_vm_pgoff(vma, vm_start(vma) / PAGE_SIZE);
  vma_iter_store(vmi, vma);
  mm_set(mm, MM_STACK_VM, mm_get(mm, MM_STACK_VM) + expand);
  mm_set(mm, MM_TOTAL_VM, mm_get(mm, MM_TOTAL_VM) + expand);
}

const stack_vmi = new VmaIterator();

// arch/x86/entry/vdso/vma.c map_vdso: the vDSO's special mappings, placed top-down as one
// block; the code is installed first (_install_special_mapping), then the data pages
function map_vdso(mm: number, vdso: readonly VdsoMapping[]): void {
  const total = vdso.reduce((n, m) => n + m.pages, 0) * PAGE_SIZE;
  const addr = get_unmapped_area(mm, 0, total, 0);
  if (addr < 0) throw new Error('exec: no room for the vDSO');
  const special = VM_DONTEXPAND | VM_SOFTDIRTY;
  let start = addr;
  const placed = vdso.map((m) => {
    const at = start;
    start += m.pages * PAGE_SIZE;
    return { m, at };
  });
  for (const { m, at } of [...placed.filter((p) => p.m.text), ...placed.filter((p) => !p.m.text)]) {
    const vma = vm_area_alloc(mm);
    set_vm_start(vma, at);
    set_vm_end(vma, at + m.pages * PAGE_SIZE);
    set_vm_flags(vma, (m.text ? VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC : VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP) | special);
    mem32[(vma >> 2) + VMA_FILE] = m.file;
    if (insert_vm_struct(mm, vma)) throw new Error('exec: cannot map the vDSO');
  }
}

/** Where exec put things, for the user-space part of startup. */
export interface ExecResult {
  mm: number;
  load_bias: number;
  /** 0 for a static program. */
  interp_base: number;
}

// fs/binfmt_elf.c load_elf_binary (after exec_mmap gave current a new mm): map the program and
// its interpreter, set up the heap's start, map the vDSO
export function exec_elf(program: ElfImage, interp: ElfImage | null, layout: ExecLayout): ExecResult {
  // fs/exec.c exec_mmap: the task leaves its old address space for a new one
  const task = get_current();
  const old_mm = mem32[(task >> 2) + T_MM];
  const mm = mm_alloc();
  mem32[(task >> 2) + T_MM] = mm;
  if (old_mm) mmput(old_mm);
  // arch/x86/mm/mmap.c mmap_base: an 8 MiB stack rlimit plus the guard gap, at least 128 MiB
  const gap = Math.max(128 << 20, (8 << 20) + STACK_GUARD_GAP);
  mm_set(mm, MM_MMAP_BASE, layout.mmap_base ?? Math.floor((TASK_SIZE - gap) / PAGE_SIZE) * PAGE_SIZE);
  mmap_write_lock(mm);
  try {
    setup_arg_pages(mm, layout.stack_pages, layout.stack_top ?? STACK_TOP);
    const load_bias = load_image(mm, program, layout.load_bias ?? ELF_ET_DYN_BASE);
    const exec_seg = program.segments.find((s) => s.prot & PROT_EXEC) ?? program.segments[0];
    const data_seg = program.segments.find((s) => s.prot & PROT_WRITE) ?? program.segments[program.segments.length - 1];
    mm_set(mm, MM_START_CODE, load_bias + exec_seg.offset * PAGE_SIZE);
    mm_set(mm, MM_END_CODE, load_bias + (exec_seg.offset + exec_seg.pages) * PAGE_SIZE);
    mm_set(mm, MM_START_DATA, load_bias + data_seg.offset * PAGE_SIZE);
    mm_set(mm, MM_END_DATA, load_bias + (data_seg.offset + data_seg.pages) * PAGE_SIZE);
    const start_brk = load_bias + (image_pages(program) + layout.brk_gap_pages) * PAGE_SIZE;
    mm_set(mm, MM_START_BRK, start_brk);
    mm_set(mm, MM_BRK, start_brk);
    const interp_base = interp ? load_image(mm, interp, 0) : 0;
    map_vdso(mm, layout.vdso);
    // fs/exec.c setup_new_exec → perf_event_comm (3.2): counters opened with enable_on_exec start
    perf_event_enable_on_exec(task);
    return { mm, load_bias, interp_base };
  } finally {
    mmap_write_unlock(mm);
  }
}
