// Atomic file writes: write a temporary file beside the target, every byte of it, flush it to
// disk, rename it over the target, flush the directory. A reader sees the old file or the new one,
// never half of one; when the disk is full the target is left as it was and the write fails.

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  ENOENT: 'no such directory',
};

/** A result file that could not be written (a full disk, a read-only or vanished directory). */
export class StoreError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`cannot write ${path}: ${code}${WHY[code] ? ` (${WHY[code]})` : ''}`);
  }

  /** The StoreError for a failed write of `path`, from the error the write threw. */
  static of(path: string, e: unknown): StoreError {
    return new StoreError(path, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

export type WriteFn = (fd: number, buf: Uint8Array, offset: number, length: number) => number;

/** writeSync may write less than asked (a full disk, a signal): write until every byte is out. */
export function write_all(fd: number, buf: Uint8Array, write: WriteFn = writeSync): void {
  let off = 0;
  while (off < buf.length) {
    const n = write(fd, buf, off, buf.length - off);
    // A write of 0 bytes makes no progress: the device has no room left for the rest.
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    off += n;
  }
}

let seq = 0;

export function write_file_atomic(path: string, data: string, write: WriteFn = writeSync): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${seq++}`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    write_all(fd, Buffer.from(data, 'utf8'), write);
    fsyncSync(fd);
    const closing = fd;
    fd = -1;
    closeSync(closing);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== -1) closeSync(fd);
    rmSync(tmp, { force: true });
    throw StoreError.of(path, e);
  }
  sync_dir(dir);
}

/** The rename is durable once the directory is flushed; a directory that cannot be opened for it (some filesystems) is left to the kernel. */
function sync_dir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL on filesystems without directory fsync: nothing more can be done.
  } finally {
    if (fd !== -1) closeSync(fd);
  }
}

export function write_json_atomic(path: string, value: unknown, write?: WriteFn): void {
  write_file_atomic(path, JSON.stringify(value, null, 2) + '\n', write);
}
