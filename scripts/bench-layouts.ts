// npm run bench:layouts — how often a parent's layout makes brk2's loop slow in the forked child.
//
// For each of --count seeded random parent recipes (random_recipe: libraries, mappings, heap
// steps and sizes all drawn), fork a child under each dup_mmap strategy and run brk2's loop; the
// layout is "slow" for a strategy when the loop takes a spanning store or a split every pass.
// Deterministic: the same --count and --first give the same table.

import { parseArgs } from 'node:util';
import { resolve_config } from '../src/kernel/config.ts';
import { probe_workload } from '../src/runner/probe.ts';
import { random_recipe } from '../src/user/exec_image.ts';
import { recipe_of } from '../src/runner/point.ts';
import type { ThroughputWorkload } from '../src/runner/workload.ts';
import brk2 from '../workloads/brk2.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' }, first: { type: 'string', default: '1' } } });
const count = Number(values.count);
const first = Number(values.first);
const LOOPS = 50;

interface Cycle {
  slow: boolean;
  nodes: number;
}

function cycle(preset: string, seed: number | null): Cycle {
  const config = resolve_config(preset);
  const recipe = seed === null ? recipe_of(config, 1) : random_recipe(seed);
  const r = probe_workload(config, recipe, brk2 as ThroughputWorkload, 8, 2 * LOOPS);
  const per_loop = (k: string) => (r.per_op.get(`sim.maple.${k}`) ?? 0) * 2;
  return { slow: per_loop('store_spanning') >= 1 || per_loop('store_split') >= 1, nodes: per_loop('nodes_allocated') };
}

const classes = { both: 0, bulk_only: 0, dup_only: 0, neither: 0 };
let bulk_nodes = 0;
let dup_nodes = 0;
const t0 = performance.now();
for (let seed = first; seed < first + count; seed++) {
  const bulk = cycle('v6.7', seed);
  const dup = cycle('v6.8', seed);
  bulk_nodes += bulk.nodes;
  dup_nodes += dup.nodes;
  if (bulk.slow && dup.slow) classes.both++;
  else if (bulk.slow) classes.bulk_only++;
  else if (dup.slow) classes.dup_only++;
  else classes.neither++;
}
const pct = (n: number) => `${((100 * n) / count).toFixed(1)}%`;
const bulk_slow = classes.both + classes.bulk_only;
const dup_slow = classes.both + classes.dup_only;
console.log(`${count} random parent layouts (seeds ${first}..${first + count - 1}), brk2 loop in the forked child:`);
console.log(`  slow under bulk_store (v6.7): ${bulk_slow} (${pct(bulk_slow)})`);
console.log(`  slow under mt_dup (v6.8):     ${dup_slow} (${pct(dup_slow)})`);
console.log(`  slow under both ${classes.both}, bulk_store only ${classes.bulk_only}, mt_dup only ${classes.dup_only}, neither ${classes.neither}`);
console.log(`  maple nodes allocated per loop, mean: bulk_store ${(bulk_nodes / count).toFixed(2)}, mt_dup ${(dup_nodes / count).toFixed(2)}`);
const def_bulk = cycle('v6.7', null);
const def_dup = cycle('v6.8', null);
console.log(`default recipe: bulk_store ${def_bulk.slow ? 'slow' : 'fast'} (${def_bulk.nodes} nodes/loop), mt_dup ${def_dup.slow ? 'slow' : 'fast'} (${def_dup.nodes} nodes/loop)`);
console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
console.log(`slow share bulk_store/mt_dup ${dup_slow ? (bulk_slow / dup_slow).toFixed(2) : 'inf'}`);
