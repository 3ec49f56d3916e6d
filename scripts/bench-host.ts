// npm run bench:host -- <workload> — the simulated kernel against the host's own.
//
// Compiles the workload's will-it-scale loop in C with the system compiler, runs it on the host
// kernel for --duration seconds, and runs the simulated workload (one task, process mode, the
// default kernel) through the harness for as long; rounds alternate the two. Last line:
// `ratio <sim/host>` (median over rounds).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MAPS, maps_layout } from '../src/runner/layout.ts';
import { resolve_config } from '../src/kernel/config.ts';
import { worker_build } from '../src/runner/build.ts';
import { TaskPool } from '../src/runner/pool.ts';
import { find_workload, load_workload } from '../src/runner/registry.ts';
import { run_point } from '../src/runner/point.ts';
import { median } from '../src/stats/describe.ts';

// The loops of will-it-scale's tests/<name>.c; each prints operations per second after a warm-up.
const LOOPS: Record<string, string> = {
  getppid1: 'getppid(); n++;',
  brk1: 'addr += page; if (brk(addr)) abort(); addr -= page; if (brk(addr)) abort(); n += 2;',
  brk2: 'addr += page; if (brk(addr)) abort(); addr -= page; if (brk(addr)) abort(); n += 2;',
  mmap1: 'char *c = mmap(NULL, 128UL << 20, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0); if (c == MAP_FAILED) abort(); munmap(c, 128UL << 20); n++;',
};
const SETUP: Record<string, string> = {
  getppid1: '',
  brk1: 'char *addr = sbrk(0);',
  brk2: 'char *addr = (char *)sbrk(page) + page;',
  mmap1: '',
};

function c_source(name: string): string {
  return `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  double warmup = atof(argv[1]), duration = atof(argv[2]);
  long page = sysconf(_SC_PAGESIZE);
  (void)page;
  ${SETUP[name]}
  unsigned long long n = 0, n0 = 0;
  double t0 = now(), t_measure = t0 + warmup, t_end = t_measure + duration;
  int measuring = 0;
  for (;;) {
    for (int i = 0; i < 1024; i++) { ${LOOPS[name]} }
    double t = now();
    if (!measuring && t >= t_measure) { measuring = 1; n0 = n; t0 = t; }
    if (t >= t_end) { printf("%.0f\\n", (n - n0) / (t - t0)); return 0; }
  }
}
`;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { duration: { type: 'string', default: '5' }, warmup: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } },
});
const name = positionals[0] ?? 'brk2';
if (!LOOPS[name]) {
  process.stderr.write(`bench:host: no C loop for '${name}' (have: ${Object.keys(LOOPS).join(', ')})\n`);
  process.exit(2);
}
const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!cc) {
  console.log('bench:host: no C compiler (cc, gcc or clang) on this machine; skipped');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'scalelab-host-'));
const src = join(dir, `${name}.c`);
const bin = join(dir, name);
writeFileSync(src, c_source(name));
const compiled = spawnSync(cc, ['-O2', '-o', bin, src], { encoding: 'utf8' });
if (compiled.status !== 0) {
  process.stderr.write(`bench:host: ${cc} failed: ${compiled.stderr.split('\n')[0]}\n`);
  process.exit(1);
}

const warmup = Number(values.warmup);
const duration = Number(values.duration);
const entry = find_workload(name);
const workload = await load_workload(entry.file);
const build = await worker_build([entry.file]);
const pool = new TaskPool(build.worker);
const config = resolve_config();
const layout = maps_layout(DEFAULT_MAPS);

const ratios: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  const host = Number(spawnSync(bin, [String(warmup), String(duration)], { encoding: 'utf8' }).stdout.trim());
  const p = await run_point(
    { workload, workload_built: build.built(entry.file), params: {}, mode: 'process', nr_tasks: 1, nr_cpus: Math.max(1, availableParallelism()), mem_mb: 256, config, layout, warmup, samples: duration, interval_s: 1, seed: 1, profile_interval_us: null },
    pool,
    { log: () => {} },
    { stopped: false },
  );
  ratios.push(p.average / host);
  console.log(`round ${r + 1}: host ${host} ops/s, simulated (${config.id}) ${p.average} ops/s, ratio ${(p.average / host).toFixed(3)}`);
}
await pool.destroy();
rmSync(dir, { recursive: true, force: true });
console.log(`ratio ${median(ratios).toFixed(3)}`);
