// A full disk (issue 9, item 1): every byte written or the write fails, a run that could not be
// stored stays marked incomplete, and a damaged run found later is skipped, never fatal.

import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { StoreError, write_all, write_file_atomic, type WriteFn } from '../src/results/atomic.ts';
import { begin_run, finish_run, is_complete, update_matrix } from '../src/results/store.ts';
import { load_path } from '../src/compare/load.ts';
import { build_model } from '../src/compare/model.ts';
import { describe_group } from '../src/compare/select.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'scalelab-full-'));

/** A device that takes at most `chunk` bytes per write and has `room` bytes in all. */
function small_device(room: number, chunk: number): WriteFn {
  return (fd, buf, off, len) => {
    const n = Math.min(len, chunk, room);
    if (n === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    room -= n;
    return writeSync(fd, buf, off, n);
  };
}

describe('writes on a full disk', () => {
  it('short writes are continued until every byte is out', () => {
    const d = tmp();
    const text = 'x'.repeat(10_000) + 'é\n';
    write_file_atomic(join(d, 'f'), text, small_device(1 << 20, 4096));
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe(text);
    expect(readdirSync(d)).toEqual(['f']);
  });

  it('a write that cannot finish leaves the old file, no temporary file, and a StoreError naming ENOSPC', () => {
    const d = tmp();
    writeFileSync(join(d, 'f'), 'old');
    expect(() => write_file_atomic(join(d, 'f'), 'y'.repeat(10_000), small_device(4096, 4096))).toThrow(StoreError);
    expect(() => write_file_atomic(join(d, 'f'), 'y'.repeat(10_000), small_device(4096, 4096))).toThrow(/cannot write .*\/f: ENOSPC \(no space left on device\)/);
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['f']);
  });

  it('a write of 0 bytes is no progress: it fails instead of looping', () => {
    expect(() => write_all(-1, new Uint8Array(8), () => 0)).toThrow(/short write/);
  });

  it('a run whose stats.json does not fit stays incomplete, and the group matrix is not truncated', () => {
    const g = join(tmp(), 'group');
    const r0 = begin_run(g);
    finish_run(r0, { output: 'o\n', manifest: { m: 0 }, stats: { a: 1 } });
    update_matrix(g, { dir: r0, stats: { a: 1 } });
    const r1 = begin_run(g);
    const big = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`metric.${i}`, i + 1]));
    // Room for output.txt and manifest.json, not for stats.json.
    expect(() => finish_run(r1, { output: 'o\n', manifest: { m: 1 }, stats: big }, small_device(64, 4096))).toThrow(/stats\.json: ENOSPC/);
    expect(is_complete(r1)).toBe(false);
    expect(existsSync(join(r1, 'incomplete'))).toBe(true);
    expect(existsSync(join(r1, 'stats.json'))).toBe(false);
    expect(readdirSync(r1).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(() => update_matrix(g, { dir: r0, stats: { a: 1 } }, small_device(10, 4096))).toThrow(StoreError);
    expect(JSON.parse(readFileSync(join(g, 'matrix.json'), 'utf8'))).toEqual({ a: [1], stats_source: [join(r0, 'stats.json')] });
  });

  it('a truncated stats.json already in the group does not stop later runs from being stored: the matrix leaves it out', () => {
    const g = join(tmp(), 'group');
    const r0 = begin_run(g);
    finish_run(r0, { output: '', manifest: {}, stats: { a: 1 } });
    writeFileSync(join(r0, 'stats.json'), '{"a": 1, "b'.padEnd(4096, 'x'));
    const r1 = begin_run(g);
    finish_run(r1, { output: '', manifest: {}, stats: { a: 2 } });
    expect(update_matrix(g, { dir: r1, stats: { a: 2 } })).toEqual({ a: [2], stats_source: [join(r1, 'stats.json')] });
  });

  it('a damaged run (truncated stats.json, a directory, truncated gzip, bad manifest) is skipped with a footnote; the rest of the group compares', () => {
    const g = join(tmp(), 'group');
    for (const [i, v] of [10, 11, 12].entries()) {
      mkdirSync(join(g, String(i)), { recursive: true });
      writeFileSync(join(g, String(i), 'stats.json'), JSON.stringify({ 'will-it-scale.per_process_ops': v }));
    }
    mkdirSync(join(g, '3'));
    writeFileSync(join(g, '3', 'stats.json'), '{"will-it-scale.per_process_ops": 1'.padEnd(4096, ' '));
    mkdirSync(join(g, '4', 'stats.json'), { recursive: true });
    mkdirSync(join(g, '5'));
    writeFileSync(join(g, '5', 'stats.json.gz'), gzipSync('{"will-it-scale.per_process_ops": 13}').subarray(0, 20));
    mkdirSync(join(g, '6'));
    writeFileSync(join(g, '6', 'stats.json'), '{"will-it-scale.per_process_ops": 14}');
    writeFileSync(join(g, '6', 'manifest.json'), '{"workload":');
    const loaded = load_path(g);
    expect(loaded.runs.map((r) => r.name)).toEqual(['0', '1', '2']);
    expect(loaded.damaged).toHaveLength(4);
    expect(loaded.damaged[0]).toMatch(/3\/stats\.json: /);
    expect(loaded.damaged[1]).toMatch(/4\/stats\.json: a directory, not a file$/);
    expect(loaded.damaged[2]).toMatch(/5\/stats\.json\.gz: (truncated gzip data|unexpected end of file)$/);
    expect(loaded.damaged[3]).toMatch(/6\/manifest\.json: /);
    const group = describe_group(loaded, 'g');
    const m = build_model([group, group], { alpha: 0.05, min_change: null, selection: 'all', lkp_columns: false });
    expect(m.footnotes.some((f) => /4 damaged runs skipped \(.*3\/stats\.json/.test(f))).toBe(true);
  });
});

// The end-to-end case on a real full filesystem: a 200 KiB tmpfs, as the defect was found.
function mount_tmpfs(dir: string, size: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

const mnt = mkdtempSync(join(tmpdir(), 'scalelab-tmpfs-'));
const mounted = mount_tmpfs(mnt, '200k');

describe.skipIf(!mounted)('bench on a full tmpfs', () => {
  const bench = (results: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench.ts'), 'getppid1', '--mode', 'process', '--tasks', '1', '--duration', '0.2', '--interval', '0.1', '--warmup', '0', '--quiet', '--results', results], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  /** Fill the tmpfs so that `free` KiB are left. */
  function leave_free(kib: number): void {
    rmSync(join(mnt, 'fill'), { force: true });
    rmSync(join(mnt, 'res'), { recursive: true, force: true });
    const avail = Number(spawnSync('df', ['-k', '--output=avail', mnt], { encoding: 'utf8' }).stdout.trim().split('\n').pop());
    writeFileSync(join(mnt, 'fill'), Buffer.alloc(Math.max(0, avail - kib) * 1024));
  }

  for (const kib of [8, 12, 16, 20, 24]) {
    it(`${kib} KiB free: exit 0 or one line and exit 2; never a truncated file, never a complete-looking partial run`, () => {
      leave_free(kib);
      const results = join(mnt, 'res');
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = bench(results);
        codes.push(r.status!);
        if (r.status !== 0) {
          expect(r.status).toBe(2);
          expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
          // Either a run file did not fit (the run stays incomplete) or only the group's matrix.json did (the run is stored).
          expect(r.stderr).toMatch(/^bench: cannot write .*: ENOSPC \(no space left on device\); (.* is left marked incomplete|.* is stored, but matrix\.json does not list it yet \(the next bench into the group rebuilds it\))\n$/);
        }
      }
      expect(codes).toContain(2);
      const files = spawnSync('find', [results, '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n');
      expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
      for (const f of files.filter((f) => f.endsWith('.json'))) expect(() => JSON.parse(readFileSync(f, 'utf8')), f).not.toThrow();
      for (const f of files.filter((f) => f.endsWith('/stats.json'))) expect(statSync(f).size).toBeGreaterThan(0);
    }, 180_000);
  }

  afterAll(() => {
    spawnSync('umount', [mnt]);
  });
});
