// npm run bench:migrate — how long the simulation of a live migration takes on this host: the
// migrate_balloon scenario (QEMU 9.0 defaults, anonymous RAM ballooned to 1/8, no guest writes)
// for a 1 GiB and a 16 GiB guest, through the bench CLI, median of --runs runs. The time is
// sim_wall_ms: from the destination being ready to its last page loaded (the guest's boot writes
// and the balloon before it are not counted). Goals: 1 GiB < 500 ms, 16 GiB < 5000 ms.

import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from 'simple-statistics';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, sizes: { type: 'string', default: '1024,16384' } } });
const GOALS_MS: Record<number, number> = { 1024: 500, 16384: 5000 };
const root = mkdtempSync(join(tmpdir(), 'bench-migrate-'));
try {
  console.log('guest_mb  sim_wall_ms (median)  runs                 goal');
  for (const mb of values.sizes.split(',').map(Number)) {
    const walls: number[] = [];
    for (let i = 0; i < Number(values.runs); i++) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', 'migrate_balloon', '--tasks', '3', '--cpus', '3', '--mode', 'process',
        '--param', `guest_mb=${mb}`, '--param', `balloon_to_mb=${mb / 8}`, '--seed', String(i + 1), '--results', root, '--json'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`bench failed: ${r.stderr.trim().split('\n').pop()}`);
      walls.push(JSON.parse(r.stdout).stats['migrate_balloon.sim_wall_ms']);
    }
    const m = median(walls);
    const goal = GOALS_MS[mb];
    console.log(`${String(mb).padEnd(9)} ${m.toFixed(0).padStart(10)}            ${walls.map((w) => w.toFixed(0)).join(', ').padEnd(20)} ${goal ? `< ${goal} ${m < goal ? 'met' : 'MISSED'}` : ''}`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
