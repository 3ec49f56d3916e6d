import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { write_file_atomic } from '../src/results/atomic.ts';
import { group_dir, path_params } from '../src/results/layout.ts';
import { begin_run, finish_run, is_complete, run_dirs, update_matrix } from '../src/results/store.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'scalelab-results-'));

describe('result root', () => {
  it('lays groups out as lkp does', () => {
    const axes = { workload: 'brk2', mode: 'process', tasks: '1,100%', params: [['cpus', 8]] as Array<[string, number]>, kernel_id: 'v6.7', commit: 'abc123def456' };
    expect(path_params(axes)).toBe('process-1,100%-cpus=8');
    expect(group_dir('/r', axes)).toBe('/r/brk2/process-1,100%-cpus=8/v6.7/abc123def456');
    expect(group_dir('/r', { ...axes, workload: '../x', params: [] })).toBe('/r/__x/process-1,100%/v6.7/abc123def456');
  });

  it('writes files atomically, leaving no temporary file behind', () => {
    const d = tmp();
    write_file_atomic(join(d, 'a.json'), '{"x":1}');
    write_file_atomic(join(d, 'a.json'), '{"x":2}');
    expect(readFileSync(join(d, 'a.json'), 'utf8')).toBe('{"x":2}');
    expect(readdirSync(d)).toEqual(['a.json']);
  });

  it('numbers runs, marks them incomplete until finished, and builds matrix.json from complete runs', () => {
    const g = join(tmp(), 'group');
    const r0 = begin_run(g);
    const r1 = begin_run(g);
    const r2 = begin_run(g);
    expect(run_dirs(g)).toEqual([r0, r1, r2]);
    expect(r2.endsWith('/2')).toBe(true);
    expect(existsSync(join(r0, 'incomplete'))).toBe(true);
    expect(is_complete(r0)).toBe(false);
    finish_run(r0, { output: 'o\n', manifest: { m: 0 }, stats: { a: 1, b: 2 } });
    finish_run(r2, { output: 'o\n', manifest: { m: 2 }, stats: { a: 3, c: 5 } });
    expect(is_complete(r0)).toBe(true);
    expect(existsSync(join(r0, 'incomplete'))).toBe(false);
    const m = update_matrix(g);
    expect(m).toEqual({ a: [1, 3], b: [2, 0], c: [0, 5], stats_source: [join(r0, 'stats.json'), join(r2, 'stats.json')] });
    expect(JSON.parse(readFileSync(join(g, 'matrix.json'), 'utf8'))).toEqual(m);
  });

  it('extends matrix.json by the run just finished without reading the others again', () => {
    const g = join(tmp(), 'group');
    const r0 = begin_run(g);
    finish_run(r0, { output: '', manifest: {}, stats: { a: 1, b: 2 } });
    update_matrix(g, { dir: r0, stats: { a: 1, b: 2 } });
    // A run read again would now fail to parse: the matrix must come from what it already holds.
    writeFileSync(join(r0, 'stats.json'), '{');
    const r1 = begin_run(g);
    finish_run(r1, { output: '', manifest: {}, stats: { a: 3, c: 5 } });
    expect(update_matrix(g, { dir: r1, stats: { a: 3, c: 5 } })).toEqual({ a: [1, 3], b: [2, 0], c: [0, 5], stats_source: [join(r0, 'stats.json'), join(r1, 'stats.json')] });
    // A matrix that does not cover the other runs (here: none) is rebuilt from every run.
    writeFileSync(join(r0, 'stats.json'), '{"a": 7}');
    rmSync(join(g, 'matrix.json'));
    const r2 = begin_run(g);
    finish_run(r2, { output: '', manifest: {}, stats: { a: 9 } });
    expect(update_matrix(g, { dir: r2, stats: { a: 9 } })).toEqual({ a: [7, 3, 9], c: [0, 5, 0], stats_source: [r0, r1, r2].map((r) => join(r, 'stats.json')) });
  });
});
