// Atomic file writes: write a temporary file beside the target, flush it to disk, rename it over
// the target. A reader sees the old file or the new one, never half of one.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let seq = 0;

export function write_file_atomic(path: string, data: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${seq++}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function write_json_atomic(path: string, value: unknown): void {
  write_file_atomic(path, JSON.stringify(value, null, 2) + '\n');
}
