// The perf-profile monitor: lkp's children/self/calltrace percentages from folded stacks, and the
// naming of V8 profile frames. Expected values are worked by hand from perf report's rules
// (--children counts a sample once per symbol; `folded,0.5,callee` prints each chain from the
// symbol to the root that holds ≥ 0.5% of all samples, with two decimals) and lkp's parse (the
// first 5 frames of a chain make its key and equal keys add up; .isra.N etc. are dropped; values
// below 0.05 are not printed).

import { describe, expect, it } from 'vitest';
import { perf_profile_stats } from '../src/monitors/perf_profile.ts';
import { classify_source, fold_profile, type CpuProfile, type FrameKind } from '../src/monitors/v8_profile.ts';

describe('perf-profile stats from folded stacks', () => {
  it('children, self and calltrace of a 1000-sample profile worked by hand', () => {
    const folded = {
      'c;b;a': 500,
      'b;a': 290,
      'd;a': 150,
      e: 20,
      'f;a': 4, // 0.4%: its chain is below perf's 0.5%, its children and self are not
      'g;h;i;j;k;l;a': 10,
      'g;h;i;j;k;m;a': 10, // the same first five frames as the line above: one key, summed
      'r;s;r;a': 6, // r twice in one sample counts once, with the chain from its lower frame
      'n.isra.0;a': 5, // fixup_symbol_name makes it n
      'n;a': 5,
    };
    const c = (s: string) => `perf-profile.children.cycles-pp.${s}`;
    const self = (s: string) => `perf-profile.self.cycles-pp.${s}`;
    const t = (s: string) => `perf-profile.calltrace.cycles-pp.${s}`;
    const expected: Record<string, number> = {
      [c('a')]: 98, [c('b')]: 79, [c('c')]: 50, [c('d')]: 15, [c('e')]: 2, [c('f')]: 0.4,
      [c('g')]: 2, [c('h')]: 2, [c('i')]: 2, [c('j')]: 2, [c('k')]: 2, [c('l')]: 1, [c('m')]: 1,
      [c('r')]: 0.6, [c('s')]: 0.6, [c('n')]: 1,
      [self('c')]: 50, [self('b')]: 29, [self('d')]: 15, [self('e')]: 2, [self('f')]: 0.4, [self('g')]: 2, [self('r')]: 0.6, [self('n')]: 1,
      [t('c.b.a')]: 50, [t('b.a')]: 79, [t('a')]: 98, [t('d.a')]: 15, [t('e')]: 2,
      [t('g.h.i.j.k')]: 2, [t('h.i.j.k.l')]: 1, [t('h.i.j.k.m')]: 1, [t('i.j.k.l.a')]: 1, [t('i.j.k.m.a')]: 1,
      [t('j.k.l.a')]: 1, [t('j.k.m.a')]: 1, [t('k.l.a')]: 1, [t('k.m.a')]: 1, [t('l.a')]: 1, [t('m.a')]: 1,
      [t('r.s.r.a')]: 0.6, [t('s.r.a')]: 0.6, [t('n.a')]: 1,
    };
    const stats = perf_profile_stats(folded);
    expect(stats).toEqual(expected);
    // lkp prints its keys sorted.
    expect(Object.keys(stats)).toEqual(Object.keys(expected).sort());
  });

  it('prints nothing below 0.05 and rounds what it prints to two decimals', () => {
    const stats = perf_profile_stats({ 'x;y': 3, z: 9997 });
    // x and y are 0.03%: not printed; z is 99.97%.
    expect(stats).toEqual({
      'perf-profile.children.cycles-pp.z': 99.97,
      'perf-profile.self.cycles-pp.z': 99.97,
      'perf-profile.calltrace.cycles-pp.z': 99.97,
    });
    expect(perf_profile_stats({})).toEqual({});
  });
});

describe('V8 profile frames under Linux names', () => {
  it('places frames by source file', () => {
    expect(classify_source('../../src/kernel/mm/mmap.ts')).toBe('kernel');
    expect(classify_source('../../workloads/brk2.ts')).toBe('user');
    expect(classify_source('../../src/user/libc.ts')).toBe('user');
    expect(classify_source('../../src/machine/cpu.ts')).toBe('other');
    expect(classify_source('../../src/runner/worker.ts')).toBe('harness');
    expect(classify_source('../../node_modules/piscina/dist/worker.js')).toBe('harness');
  });

  it('folds samples into stacks: harness frames and accessors out, syscall and fault entry frames in, sys_X as __do_sys_X, sleeping tasks out', () => {
    // 15: schedule_wait under do_brk_flags's caller: the task asleep, not counted.
    const node = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children });
    const profile: CpuProfile = {
      nodes: [
        node(1, '(root)', '', [2, 9, 16]),
        node(2, 'run_task', 'harness', [3, 13]),
        node(3, 'testcase', 'user', [4, 8]),
        node(4, 'brk', 'user', [5, 7]),
        node(5, 'sys_brk', 'kernel', [6, 15]),
        node(6, 'do_brk_flags', 'kernel', [17]),
        node(7, 'syscall_enter_from_user_mode', 'kernel', [14]),
        node(8, '', 'user', [10]),
        node(9, '(garbage collector)', ''),
        node(10, 'write_fault', 'user', [11]),
        node(11, 'exc_page_fault', 'kernel'),
        node(13, 'wait_for_go', 'harness'),
        node(14, 'safe_point', 'other'),
        node(15, 'schedule_wait', 'kernel'),
        node(16, '(idle)', ''),
        node(17, 'vm_start', 'kernel'), // an accessor: vma->vm_start on Linux, its time do_brk_flags's
      ],
      samples: [6, 6, 17, 7, 5, 11, 9, 13, 14, 3, 15, 15, 16],
    };
    const kind_of = (url: string): FrameKind => (url === '' ? 'harness' : (url as FrameKind));
    const syscall = 'do_syscall_64;entry_SYSCALL_64_after_hwframe;brk;testcase';
    expect(fold_profile(profile, kind_of)).toEqual({
      [`do_brk_flags;__do_sys_brk;${syscall}`]: 3,
      [`syscall_enter_from_user_mode;${syscall}`]: 1,
      [`__do_sys_brk;${syscall}`]: 1,
      [`safe_point;syscall_enter_from_user_mode;${syscall}`]: 1,
      'exc_page_fault;asm_exc_page_fault;write_fault;testcase': 1,
      v8_garbage_collector: 1,
      testcase: 1,
    });
  });
});
