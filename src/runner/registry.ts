// Finding workloads: every `<name>.ts` in the workloads directory is one, like will-it-scale's
// tests/<name>.c. Adding a workload means adding a file.

import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Workload } from './workload.ts';

/** The project's workloads/, or the directory named by SCALELAB_WORKLOADS (your own workloads, test fixtures). */
export const DEFAULT_WORKLOAD_DIR = process.env.SCALELAB_WORKLOADS ?? fileURLToPath(new URL('../../workloads/', import.meta.url));

export class UnknownWorkloadError extends Error {}

export interface WorkloadEntry {
  name: string;
  file: string;
}

export function list_workloads(dir: string = DEFAULT_WORKLOAD_DIR): WorkloadEntry[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    throw new UnknownWorkloadError(`no workload directory ${dir}`);
  }
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => ({ name: basename(f, '.ts'), file: resolve(join(dir, f)) }));
}

function edit_distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

export function find_workload(name: string, dir: string = DEFAULT_WORKLOAD_DIR): WorkloadEntry {
  const all = list_workloads(dir);
  const hit = all.find((w) => w.name === name);
  if (hit) return hit;
  const closest = [...all].sort((a, b) => edit_distance(name, a.name) - edit_distance(name, b.name))[0];
  const rest = all.filter((w) => w !== closest).map((w) => w.name);
  throw new UnknownWorkloadError(
    `unknown workload '${name}'` + (closest ? `; did you mean '${closest.name}'?` : '') + (rest.length ? ` (others: ${rest.join(', ')})` : ''),
  );
}

/** Check that a module is a workload; returns its default export. */
export function check_workload(mod: { default?: Workload }, file: string): Workload {
  const w = mod.default;
  if (!w || (w.kind !== 'throughput' && w.kind !== 'scenario') || typeof w.description !== 'string') {
    throw new Error(`${file}: a workload file must default-export define_workload({ description, kind, ... })`);
  }
  if (w.kind === 'throughput' && typeof w.testcase !== 'function') throw new Error(`${file}: a throughput workload needs testcase()`);
  if (w.kind === 'scenario' && typeof w.scenario !== 'function') throw new Error(`${file}: a scenario workload needs scenario()`);
  return w;
}

export async function load_workload(file: string): Promise<Workload> {
  return check_workload((await import(pathToFileURL(file).href)) as { default?: Workload }, file);
}
