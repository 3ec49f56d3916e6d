// npm run bench:layouts — how a parent's layout decides brk2's loop in the forked child.
//
// First the shipped capture (will-it-scale's own brk2 parent), replayed as the process built it
// and, for comparison, with every line mapped in descending and in ascending address order: the
// per-loop maple store classes and node counts under each dup_mmap strategy. Then --count seeded
// random parent recipes (random_recipe: libraries, mappings, heap steps and sizes all drawn): the
// share whose loop is "slow" (a spanning store or a split every pass) under each strategy.
// Deterministic: the same --count and --first give the same output.

import { parseArgs } from 'node:util';
import { resolve_config } from '../src/kernel/config.ts';
import { probe_workload } from '../src/runner/probe.ts';
import { random_recipe } from '../src/user/exec_image.ts';
import { DEFAULT_MAPS, maps_layout, synthetic_layout, type ParentLayout } from '../src/runner/layout.ts';
import type { ThroughputWorkload } from '../src/runner/workload.ts';
import brk2 from '../workloads/brk2.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' }, first: { type: 'string', default: '1' } } });
const count = Number(values.count);
const first = Number(values.first);
const LOOPS = 50;
const STORES = ['exact', 'append', 'slot', 'node', 'bnode', 'split', 'spanning', 'rebalance', 'root'];

interface Cycle {
  slow: boolean;
  nodes: number;
  stores: string;
}

function cycle(preset: string, layout: ParentLayout): Cycle {
  const r = probe_workload(resolve_config(preset), layout, brk2 as ThroughputWorkload, 8, 2 * LOOPS);
  const per_loop = (k: string) => (r.per_op.get(`sim.maple.${k}`) ?? 0) * 2;
  const stores = STORES.filter((s) => per_loop(`store_${s}`)).map((s) => `${per_loop(`store_${s}`)} ${s}`).join(' + ');
  return { slow: per_loop('store_spanning') >= 1 || per_loop('store_split') >= 1, nodes: per_loop('nodes_allocated'), stores };
}

function describe(c: Cycle): string {
  return `${c.slow ? 'slow' : 'fast'}: ${c.stores}, ${c.nodes} nodes allocated per loop`;
}

const t0 = performance.now();
console.log(`${DEFAULT_MAPS.slice(DEFAULT_MAPS.lastIndexOf('/') + 1)}, brk2 loop in the forked child:`);
for (const order of ['process', 'descending', 'ascending'] as const) {
  const layout = maps_layout(DEFAULT_MAPS, order);
  const how = order === 'process' ? 'replayed as the process built it' : `every line MAP_FIXED in ${order} order`;
  console.log(`  ${how}:`);
  console.log(`    bulk_store (v6.7): ${describe(cycle('v6.7', layout))}`);
  console.log(`    mt_dup (v6.8):     ${describe(cycle('v6.8', layout))}`);
}
const synthetic = synthetic_layout('synthetic', 1);
console.log(`  ${synthetic.name} (--seed 1): bulk_store ${describe(cycle('v6.7', synthetic))}; mt_dup ${describe(cycle('v6.8', synthetic))}`);

const classes = { both: 0, bulk_only: 0, dup_only: 0, neither: 0 };
let bulk_nodes = 0;
let dup_nodes = 0;
for (let seed = first; seed < first + count; seed++) {
  const layout: ParentLayout = { kind: 'synthetic', name: `random:${seed}`, recipe: random_recipe(seed) };
  const bulk = cycle('v6.7', layout);
  const dup = cycle('v6.8', layout);
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
console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
console.log(`slow share bulk_store/mt_dup ${dup_slow ? (bulk_slow / dup_slow).toFixed(2) : 'inf'}`);
