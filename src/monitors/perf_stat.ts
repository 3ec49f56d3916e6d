// perf stat's interval output into stats, named as lkp names perf-stat's (programs/perf-stat/parse:
// `perf-stat.ps.<event>` is an event's count per second over the run, the last interval left out
// because it was cut short). For `perf stat -b` the stats are `perf-stat.b.<event>`: the counts of
// the complete intervals, summed, over the seconds they cover (from perf's start to the last one).

const INTERVAL_LINE = /^\s*(\d+\.\d+)\s+([\d,]+|<not counted>)\s+(\S+)/;

export function perf_stat_b_stats(stdout: readonly string[]): Record<string, number> {
  const intervals: Array<{ t: number; counts: Map<string, number> }> = [];
  for (const line of stdout) {
    const m = INTERVAL_LINE.exec(line);
    if (!m) continue;
    const t = Number(m[1]);
    if (intervals.length === 0 || intervals[intervals.length - 1].t !== t) intervals.push({ t, counts: new Map() });
    const counts = intervals[intervals.length - 1].counts;
    counts.set(m[3], (counts.get(m[3]) ?? 0) + (m[2] === '<not counted>' ? 0 : Number(m[2].replaceAll(',', ''))));
  }
  const complete = intervals.slice(0, -1);
  if (complete.length === 0) return {};
  const seconds = complete[complete.length - 1].t;
  const out: Record<string, number> = {};
  for (const { counts } of complete) for (const [event, v] of counts) out[`perf-stat.b.${event}`] = (out[`perf-stat.b.${event}`] ?? 0) + v;
  for (const k of Object.keys(out)) out[k] /= seconds;
  return out;
}
