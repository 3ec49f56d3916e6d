// lkp's perf-profile monitor (programs/perf-profile: `perf record -a -g`, then `perf report
// --children -g folded,0.5,callee` and its parse): from sampled call stacks of every simulated
// CPU, the percentage of samples in each function and below it (children), in it (self), and
// along each call chain (calltrace: the function and its callers, 5 frames kept).
//
// The samples come from V8's sampling profiler in each task worker (profiler.ts, v8_profile.ts), a timer standing
// for perf's cycles event: on a busy CPU, cycles are time. lkp names the event `cycles-pp`, and
// so does this, so that rows line up with the 0-day robot's.

import { round2, type Monitor, type MonitorInput } from './monitor.ts';

/**
 * perf record's default period, --count=1000003 cycles, at machine.cpu_mhz's 2933 MHz (the Xeon
 * X5570 of the stop_machine story): one sample every 341 µs of a busy CPU.
 */
export const DEFAULT_PROFILE_INTERVAL_US = Math.round(1000003 / 2933);

/** Call stacks, frames leaf first joined by ';', with how many samples found each. */
export type FoldedStacks = Record<string, number>;

/** perf report --children's percent-limit on call chains, of all samples (folded,0.5). */
const CHAIN_MIN_PERCENT = 0.5;
/** programs/perf-profile/parse prints a value only from 0.05. */
const PRINT_MIN = 0.05;
const EVENT = 'cycles-pp';


// programs/perf-profile/parse fixup_symbol_name
function fixup_symbol_name(s: string): string {
  return s.replace(/\.(isra|constprop|part)\.[0-9]+/g, '');
}

/** Add stacks into `into` (several CPUs' profiles make one, as perf record -a does). */
function merge_folded(into: FoldedStacks, from: FoldedStacks): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/**
 * lkp's perf-profile stats from folded stacks: perf report's rows (children and self percentages
 * per symbol, and under each symbol the chains from it to the root that hold at least 0.5% of
 * the samples), each printed with two decimals, then lkp's sums over the first 5 frames of a chain.
 */
export function perf_profile_stats(folded: FoldedStacks): Record<string, number> {
  let total = 0;
  for (const c of Object.values(folded)) total += c;
  if (total === 0) return {};
  const children = new Map<string, number>();
  const self = new Map<string, number>();
  const chains = new Map<string, number>();
  for (const [stack, count] of Object.entries(folded)) {
    const frames = stack.split(';');
    self.set(frames[0], (self.get(frames[0]) ?? 0) + count);
    const seen = new Set<string>();
    for (let i = 0; i < frames.length; i++) {
      // A sample counts once per symbol, with the chain from its frame nearest the leaf.
      if (seen.has(frames[i])) continue;
      seen.add(frames[i]);
      children.set(frames[i], (children.get(frames[i]) ?? 0) + count);
      const chain = frames.slice(i).join(';');
      chains.set(chain, (chains.get(chain) ?? 0) + count);
    }
  }
  const sums = new Map<string, number>();
  const add = (key: string, printed: number) => sums.set(key, (sums.get(key) ?? 0) + printed);
  const pct = (c: number) => round2((c * 100) / total);
  for (const [sym, c] of children) add(`children.${EVENT}.${fixup_symbol_name(sym)}`, pct(c));
  for (const [sym, c] of self) add(`self.${EVENT}.${fixup_symbol_name(sym)}`, pct(c));
  for (const [chain, c] of chains) {
    if (c < (total * CHAIN_MIN_PERCENT) / 100) continue;
    add(`calltrace.${EVENT}.${chain.split(';').slice(0, 5).map(fixup_symbol_name).join('.')}`, pct(c));
  }
  const out: Record<string, number> = {};
  for (const [k, v] of [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (v >= PRINT_MIN) out[`perf-profile.${k}`] = round2(v);
  return out;
}

export function perf_profile_run_stats(input: MonitorInput): Record<string, number> {
  const all: FoldedStacks = {};
  for (const p of input.points) for (const f of p.profiles) merge_folded(all, f);
  return perf_profile_stats(all);
}

export const perf_profile: Monitor = {
  name: 'perf-profile',
  description: 'sampled call stacks of every CPU (V8 profiler): children/self/calltrace % (perturbs)',
  default: false,
  stats: perf_profile_run_stats,
};
