// Reading /proc/stat text (fs/proc/stat.c's format): the time fields of the machine line and of
// each CPU, in USER_HZ ticks, and the interrupt and context-switch totals.

/** user nice system idle iowait irq softirq steal guest guest_nice, in show_stat's order. */
export type CpuFields = [number, number, number, number, number, number, number, number, number, number];
export const USER = 0, NICE = 1, SYSTEM = 2, IDLE = 3, IOWAIT = 4, IRQ = 5, SOFTIRQ = 6, STEAL = 7, GUEST = 8, GUEST_NICE = 9;

export interface ProcStat {
  /** The `cpu` line. */
  all: CpuFields;
  /** The `cpuN` lines. */
  cpus: CpuFields[];
  intr: number;
  ctxt: number;
  procs_running: number;
}

function fields(line: string): CpuFields {
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  while (f.length < 10) f.push(0);
  return f.slice(0, 10) as CpuFields;
}

export function parse_proc_stat(text: string): ProcStat {
  const out: ProcStat = { all: fields('cpu'), cpus: [], intr: 0, ctxt: 0, procs_running: 0 };
  for (const line of text.split('\n')) {
    const word = line.slice(0, line.indexOf(' '));
    if (word === 'cpu') out.all = fields(line);
    else if (/^cpu[0-9]+$/.test(word)) out.cpus.push(fields(line));
    else if (word === 'intr') out.intr = Number(line.split(' ')[1]);
    else if (word === 'ctxt') out.ctxt = Number(line.split(' ')[1]);
    else if (word === 'procs_running') out.procs_running = Number(line.split(' ')[1]);
  }
  return out;
}
