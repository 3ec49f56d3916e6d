// The migration stream (migration/qemu-file.c over a socket): records of one guest page each,
// `addr | flags` (8 bytes) then one fill byte (RAM_SAVE_FLAG_COMPRESS / _ZERO: 9 bytes) or the
// page (RAM_SAVE_FLAG_PAGE: 4104 bytes). The socket is a ring in the memory the two QEMUs share;
// the link it crosses is a hardware parameter: bytes leave at bandwidth_mb_s, and the modeled
// time they take is the migration's clock (no one waits it out: it is the link's, not the host's).

export const RAM_SAVE_FLAG_COMPRESS = 0x02; // RAM_SAVE_FLAG_ZERO since QEMU 2.x
export const RAM_SAVE_FLAG_PAGE = 0x08;
export const RAM_SAVE_FLAG_EOS = 0x10;
export const ZERO_PAGE_BYTES = 8 + 1;
export const NORMAL_PAGE_BYTES = 8 + 4096;

const RING_RECORDS = 1 << 14;
const RECORD_WORDS = 4; // page, flags, tag lo, tag hi
const NOTIFY_EVERY = 256;
// header words
const HEAD = 0;
const TAIL = 1;
export const CHANNEL_BYTES = 16 + RING_RECORDS * RECORD_WORDS * 4;

export class QEMUFile {
  private readonly w: Int32Array;
  private readonly ring: Int32Array;
  /** The record qemu_get_record read last. */
  page = 0;
  flags = 0;
  lo = 0;
  hi = 0;

  constructor(shared: SharedArrayBuffer, offset: number) {
    this.w = new Int32Array(shared, offset, 4);
    this.ring = new Int32Array(shared, offset + 16, RING_RECORDS * RECORD_WORDS);
  }

  /** Send one record; waits while the receiver is a full ring behind (the socket's buffer). */
  put(page: number, flags: number, lo: number, hi: number): void {
    const head = this.w[HEAD];
    while (head - Atomics.load(this.w, TAIL) >= RING_RECORDS) Atomics.wait(this.w, TAIL, Atomics.load(this.w, TAIL), 1);
    const at = (head & (RING_RECORDS - 1)) * RECORD_WORDS;
    this.ring[at] = page;
    this.ring[at + 1] = flags;
    this.ring[at + 2] = lo;
    this.ring[at + 3] = hi;
    Atomics.store(this.w, HEAD, head + 1);
    if ((head & (NOTIFY_EVERY - 1)) === 0 || flags & RAM_SAVE_FLAG_EOS) Atomics.notify(this.w, HEAD);
  }

  /** Receive the next record into page/flags/lo/hi (waits for it). */
  get(): void {
    const tail = this.w[TAIL];
    while (Atomics.load(this.w, HEAD) === tail) Atomics.wait(this.w, HEAD, tail, 1);
    const at = (tail & (RING_RECORDS - 1)) * RECORD_WORDS;
    this.page = this.ring[at];
    this.flags = this.ring[at + 1];
    this.lo = this.ring[at + 2];
    this.hi = this.ring[at + 3];
    Atomics.store(this.w, TAIL, tail + 1);
    if ((tail & (NOTIFY_EVERY - 1)) === 0) Atomics.notify(this.w, TAIL);
  }
}
