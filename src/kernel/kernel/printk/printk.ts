// The kernel log (kernel/printk/printk.c): a ring of fixed-size records in the arena, so a
// warning printed on any CPU reaches the run's output. The kernel never prints to the host.

import { get_string, mem32, put_string } from '../../../machine/memory.ts';
import { define_counter, define_global } from '../../../machine/symbols.ts';
import { this_cpu_inc } from '../../../machine/counters.ts';
import { spin_lock, spin_lock_init, spin_unlock } from '../../locking/spinlock.ts';

const RECORD_BYTES = 256;
const RECORD_TEXT = 8; // len word, pad, then text
const NR_RECORDS = 256;
const LB_LOCK = 0; // byte offset of the spinlock
const LB_SEQ = 2; // word: records written so far
const LB_RECORDS = 16; // byte offset of the first record
const log_buf = define_global('log_buf', LB_RECORDS + NR_RECORDS * RECORD_BYTES);

const nr_messages = define_counter('sim.printk.messages');

export function printk_init(): void {
  spin_lock_init(log_buf.addr + LB_LOCK, 'logbuf');
}

// kernel/printk/printk.c printk
export function printk(message: string): void {
  this_cpu_inc(nr_messages);
  spin_lock(log_buf.addr + LB_LOCK);
  const seq = mem32[(log_buf.addr >> 2) + LB_SEQ];
  const rec = log_buf.addr + LB_RECORDS + (seq % NR_RECORDS) * RECORD_BYTES;
  mem32[rec >> 2] = put_string(rec + RECORD_TEXT, message, RECORD_BYTES - RECORD_TEXT);
  mem32[(log_buf.addr >> 2) + LB_SEQ] = seq + 1;
  spin_unlock(log_buf.addr + LB_LOCK);
}

export interface KernelLog {
  messages: string[];
  /** Messages overwritten before they were read. */
  lost: number;
}

/** The log as it stands (`dmesg`). */
export function read_kernel_log(): KernelLog {
  const seq = mem32[(log_buf.addr >> 2) + LB_SEQ];
  const first = Math.max(0, seq - NR_RECORDS);
  const messages: string[] = [];
  for (let s = first; s < seq; s++) {
    const rec = log_buf.addr + LB_RECORDS + (s % NR_RECORDS) * RECORD_BYTES;
    messages.push(get_string(rec + RECORD_TEXT, mem32[rec >> 2]));
  }
  return { messages, lost: first };
}
