// The result root, laid out like lkp's (lib/result.rb):
//
//   <root>/<workload>/<mode>-<tasks>[-<params>]/<kernel-id>/<commit>/<run>/
//       stats.json  manifest.json  output.txt   (+ `incomplete` while the run is going)
//   <root>/<workload>/<mode>-<tasks>[-<params>]/<kernel-id>/<commit>/matrix.json
//
// A group is everything up to <commit>; its runs are numbered 0, 1, 2, … as lkp numbers them.

import { join } from 'node:path';

export const STATS = 'stats.json';
export const MANIFEST = 'manifest.json';
export const OUTPUT = 'output.txt';
export const MATRIX = 'matrix.json';
export const INCOMPLETE = 'incomplete';

export interface GroupAxes {
  workload: string;
  mode: string;
  tasks: string;
  /** Extra path parameters (workload parameters, a non-default CPU count), in order. */
  params: ReadonlyArray<[string, string | number | boolean]>;
  kernel_id: string;
  commit: string;
}

/** A path component from free text: no separators, nothing that starts with a dot. */
export function path_safe(s: string): string {
  return s.replace(/[/\\\0]/g, '_').replace(/^\.+/, '_');
}

export function path_params(a: GroupAxes): string {
  return [a.mode, a.tasks, ...a.params.map(([k, v]) => `${k}=${v}`)].map(path_safe).join('-');
}

export function group_dir(root: string, a: GroupAxes): string {
  return join(root, path_safe(a.workload), path_params(a), path_safe(a.kernel_id), path_safe(a.commit));
}
