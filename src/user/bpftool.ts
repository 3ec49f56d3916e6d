// bpftool prog (show), plain output (tools/bpf/bpftool/prog.c print_prog_plain, 5.11): one entry
// per loaded program, as the seed's listing shows them.

import { bpf_prog_infos } from './libbpf.ts';
import { PROG_TYPE_NAME } from '../kernel/include/uapi/linux/bpf.ts';
import type { Stdio } from './stdio.ts';

/** strftime "%FT%T%z" of a wall-clock time in ms, in UTC (the simulated machine's time zone). */
function iso_seconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+0000`;
}

/**
 * Print every program. `boot_wall_ms` is the wall clock at the machine's boot: loaded_at is the
 * load's boot-relative time on it (bpftool: time(NULL) - (CLOCK_MONOTONIC now - load_time)).
 */
export function bpftool_prog_show(io: Stdio, boot_wall_ms: number): number {
  for (const info of bpf_prog_infos()) {
    const type = PROG_TYPE_NAME[info.type] ?? `type ${info.type}`;
    const tag = [...info.tag].map((b) => b.toString(16).padStart(2, '0')).join('');
    io.out(`${info.id}: ${type}  ${info.name ? `name ${info.name}  ` : ''}tag ${tag}${info.gpl_compatible ? '  gpl' : ''}`);
    io.out(`\tloaded_at ${iso_seconds(boot_wall_ms + info.load_time / 1e6)}  uid ${info.created_by_uid}`);
    let line = `\txlated ${info.xlated_prog_len}B${info.jited_prog_len ? `  jited ${info.jited_prog_len}B` : '  not jited'}  memlock ${info.memlock}B`;
    if (info.map_ids.length) line += `  map_ids ${info.map_ids.join(',')}`;
    io.out(line);
    if (info.btf_id) io.out(`\tbtf_id ${info.btf_id}`);
  }
  return 0;
}
