// A point in miniature, on the calling thread: boot, build the parent, fork one task, run a
// workload's loop for an exact number of operations, and report what the kernel counted per
// operation. Deterministic: the machine's clock is manual and each operation moves it forward by
// a fixed modeled time, so ticks, timers and RCU grace periods fall on the same operations every
// time. The runs' `sim.*_per_op` metrics, the layout sweep and the tests use it.

import { start_kernel } from '../kernel/init/main.ts';
import type { ResolvedConfig } from '../kernel/config.ts';
import { CLONE_THREAD, CLONE_VM, kernel_clone, task_mm } from '../kernel/kernel/fork.ts';
import { clock_advance } from '../machine/clock.ts';
import { cpu_exit, set_current } from '../machine/cpu.ts';
import { snapshot_counters } from '../machine/counters.ts';
import { mt_validate, type MapleTreeShape } from '../kernel/lib/maple_tree.ts';
import { mm_mt } from '../kernel/mm/mm_types.ts';
import { build_parent, type ParentLayout } from './layout.ts';
import { Task, type Mode, type Params, type ThroughputWorkload } from './workload.ts';

/** Modeled time of one operation on the probe's manual clock (about a brk call on the host). */
const PROBE_NS_PER_OP = 1000;

/**
 * A task whose loop ends after a set number of operations, with a callback once `mark` are done;
 * with `ns_per_op`, each operation advances the (manual) machine clock.
 */
export class BoundedTask extends Task {
  private marked = false;
  private clocked = 0;

  constructor(nr: number, nr_tasks: number, mode: Mode, private readonly limit: number, private readonly mark = 0, private readonly on_mark: () => void = () => {}, private readonly ns_per_op = 0, params: Params = {}) {
    super(nr, nr_tasks, mode, params, new Float64Array(32 * (nr + 1)), new Int32Array(1), 0);
  }

  override running(): boolean {
    const n = this.iterations[this.slot];
    if (this.ns_per_op > 0 && n > this.clocked) {
      clock_advance((n - this.clocked) * this.ns_per_op);
      this.clocked = n;
    }
    if (!this.marked && n >= this.mark) {
      this.marked = true;
      this.on_mark();
    }
    return n < this.limit;
  }
}

export interface ProbeResult {
  parent: MapleTreeShape;
  child: MapleTreeShape;
  /** Counter deltas per operation over the measured operations. */
  per_op: Map<string, number>;
}

/** Fork one child from a parent with `layout` and run `ops` operations of the workload after `warmup` ones. */
export function probe_workload(config: ResolvedConfig, layout: ParentLayout, workload: ThroughputWorkload, warmup: number, ops: number, mode: Mode = 'process', params: Params = {}): ProbeResult {
  start_kernel({ nr_cpus: 1, mem_mb: 128, config, clock: 'manual' });
  const parent = kernel_clone(0);
  set_current(parent);
  build_parent(layout);
  workload.prepare?.({ nr_tasks: 1, mode, params });
  const parent_shape = mt_validate(mm_mt(task_mm(parent)));
  const child = kernel_clone(mode === 'thread' ? CLONE_VM | CLONE_THREAD : 0);
  set_current(child);
  const child_shape = mt_validate(mm_mt(task_mm(child)));
  let before = new Map<string, number>();
  workload.testcase(new BoundedTask(0, 1, mode, warmup + ops, warmup, () => { before = snapshot_counters(); }, PROBE_NS_PER_OP, params));
  const per_op = new Map<string, number>();
  for (const [k, v] of snapshot_counters()) per_op.set(k, (v - (before.get(k) ?? 0)) / ops);
  cpu_exit();
  return { parent: parent_shape, child: child_shape, per_op };
}
