// npm run bench:profile — does perf-profile measure what it should? A loop whose split is known
// by construction (test/fixtures/profile/split.ts: share_b does three times share_a's work) runs
// through bench with --monitor perf-profile; share_b's part of the two functions' children% must
// be 75% within the tolerance printed. Exits 1 outside it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/runner/build.ts';

const { values } = parseArgs({ options: { interval: { type: 'string', default: '341' }, duration: { type: 'string', default: '5' } } });
/** Percentage points: the sampling error of a 25% share over ~10^4 samples is ~0.4 points. */
const TOLERANCE = 2;
const root = mkdtempSync(join(tmpdir(), 'scalelab-profile-'));
try {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'scripts/bench.ts'), 'split', '--monitor', 'perf-profile', '--profile-interval', values.interval!, '--tasks', '1', '--mode', 'process', '--cpus', '1', '--duration', values.duration!, '--warmup', '1', '--json', '--results', root],
    { encoding: 'utf8', env: { ...process.env, SCALELAB_WORKLOADS: join(PROJECT_ROOT, 'test/fixtures/profile') } },
  );
  if (r.status !== 0) throw new Error(`bench failed: ${r.stderr.trim()}`);
  const run = JSON.parse(r.stdout).runDirs[0] as string;
  const stats = JSON.parse(readFileSync(join(run, 'stats.json'), 'utf8')) as Record<string, number>;
  const a = stats['perf-profile.children.cycles-pp.share_a'] ?? 0;
  const b = stats['perf-profile.children.cycles-pp.share_b'] ?? 0;
  const unit = stats['perf-profile.self.cycles-pp.unit'] ?? 0;
  const share = (100 * b) / (a + b);
  console.log(`children%: share_a ${a}, share_b ${b}; self% of unit ${unit}; testcase ${stats['perf-profile.children.cycles-pp.testcase']}`);
  console.log(`share_b of share_a + share_b: ${share.toFixed(2)}% (by construction 75.00%, tolerance ±${TOLERANCE} points)`);
  if (Math.abs(share - 75) > TOLERANCE) {
    console.log('outside the tolerance');
    process.exitCode = 1;
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
