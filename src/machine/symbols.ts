// Linking module-level definitions to the shared arena, by name.
//
// Every thread imports the same kernel modules, but not always the same set or in the same order,
// so indices cannot come from import order. A definition (a counter, a function that other CPUs
// may call, a kernel global, a per-CPU variable) is a thread-local handle; when the thread maps an
// arena the handle is bound by name through a shared table in the arena (lookup, or allocate on
// first use). Two threads that define the same name therefore agree on its index or address.

import { H, mem32, memblock_alloc, memset0, put_string, get_string, align_up, arena, CACHELINE } from './memory.ts';

export const SYM_COUNTER = 1;
export const SYM_FUNCTION = 2;
export const SYM_GLOBAL = 3;
export const SYM_PERCPU = 4;

const ENTRY_SIZE = 96;
const E_KIND = 0;
const E_VALUE = 1;
const E_LEN = 2;
const E_NAME = 16; // byte offset of the name
const NAME_MAX = ENTRY_SIZE - E_NAME;

export const SYMTAB_CAPACITY = 2048;
export const SYMTAB_BYTES = SYMTAB_CAPACITY * ENTRY_SIZE;
export const COUNTERS_MAX = 1024;

/** Header words after the fixed header fields: next index per kind. */
const H_NEXT_COUNTER = 80;
const H_NEXT_FUNCTION = 84;

abstract class Handle {
  constructor(readonly name: string) {
    if (new TextEncoder().encode(name).length > NAME_MAX) throw new Error(`symbol name too long: ${name}`);
  }
  abstract readonly kind: number;
  /** Set the handle from the value in the shared table. */
  abstract bind(value: number): void;
  abstract allocate(): number;
}

export class Counter extends Handle {
  readonly kind = SYM_COUNTER;
  index = -1;
  bind(v: number) { this.index = v; }
  allocate() {
    const i = mem32[H_NEXT_COUNTER >> 2];
    if (i >= COUNTERS_MAX) throw new Error(`too many counters (max ${COUNTERS_MAX}) defining ${this.name}`);
    mem32[H_NEXT_COUNTER >> 2] = i + 1;
    return i;
  }
}

export type KernelFn = (arg: number) => void;

export class KFunction extends Handle {
  readonly kind = SYM_FUNCTION;
  id = -1;
  constructor(name: string, readonly fn: KernelFn) { super(name); }
  bind(v: number) {
    this.id = v;
    fn_table[v] = this.fn;
  }
  allocate() {
    const i = mem32[H_NEXT_FUNCTION >> 2] + 1; // id 0 stays "no function"
    mem32[H_NEXT_FUNCTION >> 2] = i;
    return i;
  }
}

export class Global extends Handle {
  readonly kind = SYM_GLOBAL;
  addr = 0;
  constructor(name: string, readonly size: number) { super(name); }
  bind(v: number) { this.addr = v; }
  allocate() {
    const a = memblock_alloc(this.size, CACHELINE);
    memset0(a, this.size);
    return a;
  }
}

export class PerCpu extends Handle {
  readonly kind = SYM_PERCPU;
  off = 0;
  constructor(name: string, readonly size: number) { super(name); }
  bind(v: number) { this.off = v; }
  allocate() {
    // Each per-CPU variable starts on its own cache line so that a word other CPUs write (the
    // pending-work word) never shares a line with data its owner writes all the time.
    const off = align_up(mem32[H.PCPU_USED >> 2], CACHELINE);
    const end = off + align_up(this.size, CACHELINE);
    if (end > mem32[H.PCPU_UNIT >> 2]) throw new Error(`per-CPU area exhausted defining ${this.name}`);
    mem32[H.PCPU_USED >> 2] = end;
    return off;
  }
}

const handles: Handle[] = [];
let fn_table: KernelFn[] = [];
let bound: SharedArrayBuffer | null = null;
let cache = new Map<string, number>();
let scanned = 0;

function key(kind: number, name: string) {
  return `${kind}:${name}`;
}

function symtab_lock() {
  const i = H.SYMTAB_LOCK >> 2;
  while (Atomics.compareExchange(mem32, i, 0, 1) !== 0) Atomics.wait(mem32, i, 1, 1);
}

function symtab_unlock() {
  Atomics.store(mem32, H.SYMTAB_LOCK >> 2, 0);
  Atomics.notify(mem32, H.SYMTAB_LOCK >> 2, 1);
}

function scan_new_entries() {
  const tab = mem32[H.SYMTAB >> 2];
  const count = Atomics.load(mem32, H.SYMTAB_COUNT >> 2);
  for (; scanned < count; scanned++) {
    const e = tab + scanned * ENTRY_SIZE;
    const name = get_string(e + E_NAME, mem32[(e >> 2) + E_LEN]);
    cache.set(key(mem32[(e >> 2) + E_KIND], name), mem32[(e >> 2) + E_VALUE]);
  }
}

function bind_handle(h: Handle) {
  const k = key(h.kind, h.name);
  let v = cache.get(k);
  if (v === undefined) {
    symtab_lock();
    try {
      scan_new_entries();
      v = cache.get(k);
      if (v === undefined) {
        const count = mem32[H.SYMTAB_COUNT >> 2];
        if (count >= mem32[H.SYMTAB_CAP >> 2]) throw new Error(`symbol table full defining ${h.name}`);
        v = h.allocate();
        const e = mem32[H.SYMTAB >> 2] + count * ENTRY_SIZE;
        mem32[(e >> 2) + E_KIND] = h.kind;
        mem32[(e >> 2) + E_VALUE] = v;
        mem32[(e >> 2) + E_LEN] = put_string(e + E_NAME, h.name, NAME_MAX);
        Atomics.store(mem32, H.SYMTAB_COUNT >> 2, count + 1);
        scanned = count + 1;
        cache.set(k, v);
      }
    } finally {
      symtab_unlock();
    }
  }
  h.bind(v);
}

function define<T extends Handle>(h: T): T {
  handles.push(h);
  if (bound !== null) bind_handle(h);
  return h;
}

export function define_counter(name: string): Counter {
  return define(new Counter(name));
}

/** A function other CPUs can name by id (IPI handlers, RCU callbacks, timers, work items). */
export function define_function(name: string, fn: KernelFn): KFunction {
  return define(new KFunction(name, fn));
}

export function define_global(name: string, size: number): Global {
  return define(new Global(name, size));
}

export function define_per_cpu(name: string, size: number): PerCpu {
  return define(new PerCpu(name, size));
}

/** Look up a counter by name without defining it: -1 when no thread defined it. */
export function find_counter_index(name: string): number {
  scan_new_entries();
  return cache.get(key(SYM_COUNTER, name)) ?? -1;
}

/** Every counter defined in this arena: [name, index]. */
export function all_counters(): Array<[string, number]> {
  scan_new_entries();
  const out: Array<[string, number]> = [];
  const prefix = `${SYM_COUNTER}:`;
  for (const [k, v] of cache) if (k.startsWith(prefix)) out.push([k.slice(prefix.length), v]);
  return out.sort((a, b) => a[1] - b[1]);
}

export function call_kfunction(id: number, arg: number): void {
  const fn = fn_table[id];
  if (fn === undefined) throw new Error(`kernel function #${id} is not loaded on this thread`);
  fn(arg);
}

/** Called once the arena is mapped on this thread: bind every handle defined so far. */
export function bind_symbols(): void {
  bound = arena;
  fn_table = [];
  cache = new Map();
  scanned = 0;
  for (const h of handles) bind_handle(h);
}
