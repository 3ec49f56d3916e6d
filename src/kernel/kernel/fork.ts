// Processes and threads (kernel/fork.c, kernel/pid.c). A task_struct lives in the arena; a
// process-mode task gets its own mm (dup_mm → dup_mmap), a thread shares its creator's mm and
// thread group.

import { mem32 } from '../../machine/memory.ts';
import { get_current, set_current } from '../../machine/cpu.ts';
import { define_counter, define_global } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { define_kmem_cache, kmem_cache_free, kmem_cache_zalloc } from '../mm/slab.ts';
import { exit_mmap } from '../mm/mmap.ts';
import {
  MM_DATA_VM, MM_EXEC_VM, MM_STACK_VM, MM_STRUCT_SIZE, MM_TOTAL_VM, MM_USERS, VMA_MM, VM_DONTCOPY, mm_add_map_count, mm_get,
  mm_init, mm_map_count, mm_mt, mm_set, mmap_lock_addr, vm_end, vm_flags, vm_start, vma_anon_vma,
} from '../mm/mm_types.ts';
import { memcpy } from '../../machine/memory.ts';
import { kconfig, knob_index, knob_value_index } from '../config.ts';
import { perf_event_init_task } from './events/core.ts';
import { wake_up_new_task } from './sched/core.ts';
import { ULONG_MAX, __mt_dup, mas_find, mas_store, mt_clear_in_rcu, mt_set_in_rcu } from '../lib/maple_tree.ts';
import { down_write, up_write } from '../locking/rwsem.ts';
import { anon_vma_fork } from '../mm/rmap.ts';
import { copy_page_range } from '../mm/memory.ts';
import { mm_alloc_pgd } from '../arch/x86/mm/pgtable.ts';
import { ENOMEM } from '../include/uapi/asm-generic/errno-base.ts';
import { VmaIterator, vm_area_dup, vma_iter_bulk_alloc, vma_iter_bulk_store, vma_iter_clear_gfp, vma_iter_free } from '../mm/vma.ts';

import { TASK_STRUCT_SIZE, T_EXIT_CODE, T_EXIT_STATE, T_GROUP_LEADER, T_MM, T_NR_THREADS, T_PERF_EVENTS, T_PID, T_REAL_PARENT, T_TGID } from '../include/linux/sched.ts';

export { T_EXIT_CODE, T_EXIT_STATE, T_GROUP_LEADER, T_MM, T_NR_THREADS, T_PERF_EVENTS, T_PID, T_REAL_PARENT, T_TGID };

export const CLONE_VM = 0x100;
export const CLONE_THREAD = 0x10000;

const task_struct_cachep = define_kmem_cache('task_struct', TASK_STRUCT_SIZE);
const mm_cachep = define_kmem_cache('mm_struct', MM_STRUCT_SIZE);
// kernel/pid.c: the last pid handed out
const pid_ns = define_global('init_pid_ns', 8);

const nr_forks = define_counter('sim.fork.processes');
const nr_threads = define_counter('sim.fork.threads');

const K_DUP_MMAP = knob_index('fork.dup_mmap');
const DUP_MT_DUP = knob_value_index('fork.dup_mmap', 'mt_dup');

export function task_pid(t: number): number {
  return mem32[(t >> 2) + T_PID];
}

export function task_tgid(t: number): number {
  return mem32[(t >> 2) + T_TGID];
}

export function task_mm(t: number): number {
  return mem32[(t >> 2) + T_MM];
}

// kernel/pid.c alloc_pid
function alloc_pid(): number {
  return Atomics.add(mem32, pid_ns.addr >> 2, 1) + 1;
}

// kernel/fork.c mm_alloc: an empty address space
export function mm_alloc(): number {
  const mm = kmem_cache_zalloc(mm_cachep);
  if (mm === 0) throw new Error('fork: out of memory for mm_struct');
  mm_init(mm);
  if (!mm_alloc_pgd(mm)) throw new Error('fork: out of memory for the pgd');
  return mm;
}

// init/init_task.c + init/main.c: the idle task (pid 0) on the boot CPU, and init (pid 1)
export function fork_init(): number {
  const idle = kmem_cache_zalloc(task_struct_cachep);
  const i = idle >> 2;
  mem32[i + T_REAL_PARENT] = idle;
  mem32[i + T_GROUP_LEADER] = idle;
  mem32[i + T_NR_THREADS] = 1;
  set_current(idle);
  const init = kernel_clone(0);
  set_current(init);
  return init;
}

const old_vmi = new VmaIterator();
const new_vmi = new VmaIterator();

// kernel/fork.c dup_mmap: copy the parent's VMAs into the child's tree. 6.1-6.7 store every VMA
// again in bulk mode (the child's tree is packed to the left); 6.8+ (6e553c6bcb) copies the
// parent's tree node for node with __mt_dup, then overwrites each slot with the child's VMA.
function dup_mmap(mm: number, oldmm: number): number {
  down_write(mmap_lock_addr(oldmm));
  down_write(mmap_lock_addr(mm));
  for (const f of [MM_TOTAL_VM, MM_DATA_VM, MM_EXEC_VM, MM_STACK_VM]) mm_set(mm, f, mm_get(oldmm, f));
  const use_mt_dup = kconfig(K_DUP_MMAP) === DUP_MT_DUP;
  const omas = old_vmi.init(oldmm, 0).mas;
  const vmi = new_vmi.init(mm, 0);
  let retval = use_mt_dup ? __mt_dup(mm_mt(oldmm), mm_mt(mm)) : vma_iter_bulk_alloc(vmi, mm_map_count(oldmm));
  if (!retval) {
    mt_clear_in_rcu(mm_mt(mm));
    for (let mpnt = mas_find(omas, ULONG_MAX); mpnt; mpnt = mas_find(omas, ULONG_MAX)) {
      if (vm_flags(mpnt) & VM_DONTCOPY) {
        if (use_mt_dup) {
          retval = vma_iter_clear_gfp(vmi, vm_start(mpnt), vm_end(mpnt));
          if (retval) break;
        }
        continue;
      }
      const tmp = vm_area_dup(mpnt);
      mem32[(tmp >> 2) + VMA_MM] = mm;
      anon_vma_fork(tmp, mpnt);
      // mm/memory.c vma_needs_copy: a VMA with anonymous pages; the child faults the rest in.
      if (vma_anon_vma(mpnt) && copy_page_range(mm, oldmm, mpnt)) {
        retval = -ENOMEM;
        break;
      }
      if (use_mt_dup) {
        // Link the vma into the MT: an exact fit over the copied slot.
        vmi.mas.index = vm_start(tmp);
        vmi.mas.last = vm_end(tmp) - 1;
        mas_store(vmi.mas, tmp);
      } else {
        retval = vma_iter_bulk_store(vmi, tmp);
        if (retval) break;
      }
      mm_add_map_count(mm, 1);
    }
    if (!use_mt_dup) vma_iter_free(vmi);
    if (!retval) mt_set_in_rcu(mm_mt(mm));
  }
  up_write(mmap_lock_addr(mm));
  up_write(mmap_lock_addr(oldmm));
  return retval;
}

// kernel/fork.c mmput: drop a user; the last one tears the address space down
export function mmput(mm: number): void {
  if (Atomics.sub(mem32, (mm >> 2) + MM_USERS, 1) !== 1) return;
  exit_mmap(mm);
  kmem_cache_free(mm_cachep, mm);
}

// kernel/fork.c dup_mm: the child's copy of the parent's address space
function dup_mm(oldmm: number): number {
  const mm = kmem_cache_zalloc(mm_cachep);
  if (mm === 0) throw new Error('fork: out of memory for mm_struct');
  memcpy(mm, oldmm, MM_STRUCT_SIZE);
  mm_init(mm);
  if (!mm_alloc_pgd(mm)) throw new Error('fork: out of memory for the pgd');
  if (dup_mmap(mm, oldmm)) throw new Error('fork: dup_mmap failed');
  return mm;
}

// kernel/kthread.c kthread_create: a kernel thread, no address space (the per-CPU stoppers)
export function kthread_create(): number {
  const task = kmem_cache_zalloc(task_struct_cachep);
  if (task === 0) throw new Error('kthread_create: out of memory for task_struct');
  const t = task >> 2;
  mem32[t + T_PID] = mem32[t + T_TGID] = alloc_pid();
  mem32[t + T_GROUP_LEADER] = task;
  mem32[t + T_NR_THREADS] = 1;
  return task;
}

// kernel/exit.c release_task: the parent reaped the child; its task_struct goes
export function release_task(task: number): void {
  kmem_cache_free(task_struct_cachep, task);
}

// kernel/fork.c copy_process + kernel_clone: a new task cloned from `current`
export function kernel_clone(clone_flags: number): number {
  const parent = get_current();
  const p = parent >> 2;
  const task = kmem_cache_zalloc(task_struct_cachep);
  if (task === 0) throw new Error('fork: out of memory for task_struct');
  const t = task >> 2;
  const pid = alloc_pid();
  mem32[t + T_PID] = pid;
  const oldmm = mem32[p + T_MM];
  if (clone_flags & CLONE_VM) {
    Atomics.add(mem32, (oldmm >> 2) + MM_USERS, 1);
    mem32[t + T_MM] = oldmm;
  } else {
    mem32[t + T_MM] = oldmm === 0 ? mm_alloc() : dup_mm(oldmm);
  }
  if (clone_flags & CLONE_THREAD) {
    // A thread joins its creator's group and shares its parent (CLONE_PARENT semantics).
    const leader = mem32[p + T_GROUP_LEADER];
    mem32[t + T_TGID] = mem32[p + T_TGID];
    mem32[t + T_GROUP_LEADER] = leader;
    mem32[t + T_REAL_PARENT] = mem32[p + T_REAL_PARENT];
    Atomics.add(mem32, (leader >> 2) + T_NR_THREADS, 1);
    this_cpu_inc(nr_threads);
  } else {
    mem32[t + T_TGID] = pid;
    mem32[t + T_GROUP_LEADER] = task;
    mem32[t + T_REAL_PARENT] = parent;
    mem32[t + T_NR_THREADS] = 1;
    this_cpu_inc(nr_forks);
  }
  perf_event_init_task(task, parent);
  return task;
}


// kernel/fork.c sys_fork: a child process, runnable on this CPU; `entry` is its user code from
// the return of fork (the simulation's tasks run JavaScript)
export function sys_fork(entry: () => void): number {
  const child = kernel_clone(0);
  wake_up_new_task(child, entry);
  return child;
}
