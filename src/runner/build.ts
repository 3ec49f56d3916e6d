// The code task workers run: an ESM build of the worker entry and the workloads.
//
// Node 20 cannot give worker threads tsx's ESM hooks; tsx falls back to its CommonJS transform
// there, whose getter-based live bindings make the simulated kernel ~10× slower than the same
// code as native ESM. So workers load a bundle built here with esbuild, code-split so that the
// worker entry and every workload share one instance of each kernel module. It is rebuilt when a
// source changes and cached under node_modules/.cache/scalelab.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version as esbuild_version } from 'esbuild';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const SRC = join(PROJECT_ROOT, 'src');
const CACHE = join(PROJECT_ROOT, 'node_modules', '.cache', 'scalelab');
/** Entries besides the workloads: the task worker, and the bare loop used by bench:harness. */
const ENTRIES = ['src/runner/worker.ts', 'src/runner/bare.ts'].map((p) => join(PROJECT_ROOT, p));

export interface WorkerBuild {
  dir: string;
  worker: string;
  bare: string;
  /** The built file of a source module given to worker_build. */
  built(source: string): string;
}

function ts_files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...ts_files(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

function common_root(files: string[]): string {
  let root = PROJECT_ROOT;
  for (const f of files) while (!f.startsWith(root + sep)) root = dirname(root);
  return root;
}

const builds = new Map<string, WorkerBuild>();
const PRUNE_AGE_MS = 24 * 3600 * 1000;

/** Drop builds of older sources once nothing is likely to be running them any more. */
function prune_old_builds(keep: string): void {
  for (const name of readdirSync(CACHE)) {
    const p = join(CACHE, name);
    if (p === keep || !name.startsWith('worker-')) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > PRUNE_AGE_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // raced with another process pruning it
    }
  }
}

/**
 * The build for these modules (workload files, or test modules that workers run), reusing a
 * cached one when the sources match.
 */
export async function worker_build(modules: readonly string[]): Promise<WorkerBuild> {
  const entries = [...new Set([...ENTRIES, ...modules.map((f) => resolve(f))])];
  const inputs = [...new Set([...ts_files(SRC), ...entries])].sort();
  const h = createHash('sha256').update(esbuild_version);
  for (const f of inputs) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  const key = h.digest('hex').slice(0, 16);
  const cached = builds.get(key);
  if (cached) return cached;

  const outbase = common_root(entries);
  const dir = join(CACHE, `worker-${key}`);
  // Published by rename, so a directory that exists is complete.
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await build({
      entryPoints: entries,
      outdir: tmp,
      outbase,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'silent',
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
    });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process published it first
    }
    prune_old_builds(dir);
  }
  const built = (source: string) => join(dir, relative(outbase, resolve(source)).replace(/\.ts$/, '.mjs'));
  const result: WorkerBuild = { dir, worker: built(ENTRIES[0]), bare: built(ENTRIES[1]), built };
  builds.set(key, result);
  return result;
}
