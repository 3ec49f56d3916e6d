// Which result groups `lkp ncompare` compares with which (lib/compare.rb Comparer#compare_groups,
// AxesGrouper#group): result roots with the same axes are one (uniq!); the rest are grouped by
// their axes without the compared one (commit), each group of two or more compared on its own,
// its first root the base, the groups in the order their first roots came.

import type { Group } from '../select.ts';

const COMPARE_AXIS = 'commit';

const axes_key = (axes: readonly [string, string][], without?: string) => JSON.stringify(axes.filter(([k]) => k !== without));

/** The sets lkp would compare; groups that scalelab wrote (with manifests) are compared all together, as given. */
export function lkp_compare_sets(groups: readonly Group[]): { sets: Group[][]; left_out: Group[] } {
  if (groups.some((g) => g.runs.some((r) => r.manifest))) return { sets: [[...groups]], left_out: [] };
  const seen = new Set<string>();
  const unique = groups.filter((g) => {
    const k = axes_key(g.axes);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const by_common = new Map<string, Group[]>();
  for (const g of unique) {
    const k = axes_key(g.axes, COMPARE_AXIS);
    by_common.set(k, [...(by_common.get(k) ?? []), g]);
  }
  const sets = [...by_common.values()].filter((s) => s.length >= 2);
  const compared = new Set(sets.flat());
  return { sets, left_out: groups.filter((g) => !compared.has(g)) };
}
