// Processes and threads (kernel/fork.c, kernel/pid.c). A task_struct lives in the arena; a
// process-mode task gets its own mm (dup_mm), a thread shares its creator's mm and thread group.

import { mem32 } from '../../machine/memory.ts';
import { get_current, set_current } from '../../machine/cpu.ts';
import { define_counter, define_global } from '../../machine/symbols.ts';
import { this_cpu_inc } from '../../machine/counters.ts';
import { define_kmem_cache, kmem_cache_zalloc } from '../mm/slab.ts';
import { MM_STRUCT_SIZE, MM_USERS, mm_init } from '../mm/mm_types.ts';

// struct task_struct
export const T_PID = 0;
export const T_TGID = 1;
export const T_REAL_PARENT = 2;
export const T_GROUP_LEADER = 3;
export const T_MM = 4;
export const T_NR_THREADS = 5; // on the group leader: live threads in the group
const TASK_STRUCT_SIZE = 32;

export const CLONE_VM = 0x100;
export const CLONE_THREAD = 0x10000;

const task_struct_cachep = define_kmem_cache('task_struct', TASK_STRUCT_SIZE);
const mm_cachep = define_kmem_cache('mm_struct', MM_STRUCT_SIZE);
// kernel/pid.c: the last pid handed out; init_task holds the boot CPU's idle pid 0
const pid_ns = define_global('init_pid_ns', 8);

const nr_forks = define_counter('sim.fork.processes');
const nr_threads = define_counter('sim.fork.threads');

/** Strategy hook for the mm copy (the mm issue plugs dup_mmap in here). */
type DupMmap = (oldmm: number, mm: number) => void;
let dup_mmap_hook: DupMmap = () => {};
export function set_dup_mmap(fn: DupMmap): void {
  dup_mmap_hook = fn;
}

export function task_pid(t: number): number {
  return mem32[(t >> 2) + T_PID];
}

export function task_tgid(t: number): number {
  return mem32[(t >> 2) + T_TGID];
}

export function task_mm(t: number): number {
  return mem32[(t >> 2) + T_MM];
}

export function task_real_parent(t: number): number {
  return mem32[(t >> 2) + T_REAL_PARENT];
}

// kernel/pid.c alloc_pid
function alloc_pid(): number {
  return Atomics.add(mem32, pid_ns.addr >> 2, 1) + 1;
}

function alloc_mm(): number {
  const mm = kmem_cache_zalloc(mm_cachep);
  if (mm === 0) throw new Error('fork: out of memory for mm_struct');
  mm_init(mm);
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

// kernel/fork.c dup_mm: the child's copy of the parent's address space
function dup_mm(oldmm: number): number {
  const mm = alloc_mm();
  dup_mmap_hook(oldmm, mm);
  return mm;
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
    mem32[t + T_MM] = oldmm === 0 ? alloc_mm() : dup_mm(oldmm);
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
  return task;
}
