#!/usr/bin/env ruby
# frozen_string_literal: true

# gen-hard.rb -- ADVERSARIAL (seeded, reproducible) lkp ncompare case generator. Same layout as gen-case.rb:
#
#   <out>/groups        2..4 group dirs relative to <out>, base first (lkp ncompare c1 c2 [c3 [c4]])
#   <out>/result/<testcase>/<path_params>/<tbox_group>/<rootfs>/<kconfig>/<compiler>/<commit>/<run#>/stats.json
#                       (+ job.yaml per run, depending on the case's job mode)
#   <out>/README        seed, the features that are on, per-group run counts, job mode
#
# usage: gen-hard.rb <seed> <out_dir>
#
# Every case turns on feature (seed % FEATURES.size) plus a random subset of the others, so that a run
# of consecutive seeds covers all of them. stats.json is written by hand (pretty_generate layout, no
# trailing newline) so that the number LITERALS can be chosen: 1e5, 2.5E-3, 7.0, -0.0, 1.0e+20,
# integers > 2**53, -1 / -1.0 ... (Ruby's JSON keeps Integer vs Float by the literal; lkp cares).
# Expected outputs are made by make-hard.sh (lkp-ncompare-oracle.sh).

require 'json'
require 'fileutils'

seed = Integer(ARGV[0] || abort('usage: gen-hard.rb <seed> <out_dir>'))
out = ARGV[1] || abort("usage: gen-hard.rb <seed> <out_dir>")
R = Random.new((seed * 7919) + 17)

require_relative 'seeded'

# A raw JSON number literal, written as is.
Lit = Struct.new(:text) do
  def to_s = text
end

def lit(v)
  case v
  when Lit then v.text
  when Integer then v.to_s
  when Float then v.to_s # Ruby's JSON writes Float#to_s: 7.0, -0.0, 1.0e+20, 1.0e-07
  else raise "bad value #{v.inspect}"
  end
end

# pretty_generate layout for a flat {stat: number} hash, no trailing newline
def stats_json(h)
  return '{}' if h.empty?

  "{\n#{h.map { |k, v| "  #{k.to_json}: #{lit(v)}" }.join(",\n")}\n}"
end

# ------------------------------------------------------------------ features
FEATURES = %i[multi3 multi4 big_runs tiny_runs minus_one negatives huge tiny_vals exp_literals whole_floats
              pp_threshold pp_ties passfail_meta incomplete job_variants missing_zero cancel fmt_ties].freeze
feat = {}
FEATURES.each { |f| feat[f] = chance(0.3) }
feat[FEATURES[seed % FEATURES.size]] = true
# HARD_SUPPRESS=a,b,... (diagnostics only: switch off inputs that trigger already-known divergences)
#   bigint: no integers > 2**53 (and no cancel)   frac: no fractional failure counts   regex: no Ruby-only
#   regexp stems   monitors: no perf-profile monitor sections   split: no job.yaml setups that make lkp split
#   the groups by axes   margin: no -1s when a group has >= 32 runs   printf: no exact decimal-tie values
#   yaml: no YAML 1.1 quirks (016, 1_000, 0x10, 5:00, on) in job.yaml
SUP = (ENV['HARD_SUPPRESS'] || '').split(',').map(&:to_sym)
feat[:cancel] = false if SUP.include?(:bigint)
feat[:fmt_ties] = false if SUP.include?(:printf)
feat[:multi4] = false if feat[:multi3] && feat[:multi4] && chance(0.5)
# invalid Ruby regexp in a .pass stem crashes lkp (RegexpError) in default mode: only a few seeds
bad_regex = (seed % 23) == 7 && !SUP.include?(:regex)

ngroups = if feat[:multi4] then 4
          elsif feat[:multi3] then 3
          else
            chance(0.25) ? 3 : 2
          end

testcase = pick_w([['will-it-scale', 50], ['hackbench', 30], ['ebizzy', 20]])
tbox = pick(%w[lkp-icl-2sp9 lkp-spr-2sp4 lkp-csl-2sp3 lkp-skl-fpga01 lkp-cpl-4sp2])
rootfs = pick(%w[debian-12-x86_64-20240206.cgz debian-11.1-x86_64-20220510.cgz])
kconfig = pick(%w[x86_64-rhel-8.3 x86_64-rhel-9.4])
compiler = pick(%w[gcc-12 clang-18])
wis_test = pick(%w[brk2 mmap1 page_fault3 futex1 signal1])
ncpu = pick([104, 128, 224, 48, 16])

# ------------------------------------------------------------------ runs per group
nruns = Array.new(ngroups) do
  pick_w([[rrange(3, 8), 60], [rrange(1, 2), 15], [rrange(9, 14), 10], [rrange(32, 40), 8], [rrange(41, 70), 7]])
end
tiny_gs = []
if feat[:tiny_runs]
  tiny_gs = sample((0...ngroups).to_a, 1 + rnd([2, ngroups - (feat[:big_runs] ? 1 : 0)].min))
  tiny_gs.each { |g| nruns[g] = 1 + rnd(2) }
end
if feat[:big_runs]
  rest = (0...ngroups).to_a - tiny_gs
  sample(rest, 1 + rnd(rest.size)).each { |g| nruns[g] = pick([32, 33, 34, rrange(35, 63), 64, 65, rrange(66, 70)]) }
end
# keep cases small: at most 160 runs in total
nruns[nruns.index(nruns.max)] -= 5 while nruns.sum > 160
run_ids = nruns.map do |n|
  if chance(0.15) && n > 1
    sample((0...(n + 3 + rnd(8))).to_a, n).sort # gaps (and lexicographic != numeric order past 9)
  else
    (0...n).to_a
  end
end

$big_case = nruns.max >= 32
# ------------------------------------------------------------------ job.yaml, params and axes
job_mode = if feat[:job_variants] && SUP.include?(:split)
             pick(%i[partial quirky monitors none all])
           elsif feat[:job_variants]
             pick(%i[partial base_only split_param inconsistent quirky monitors none all head_missing])
           else
             pick_w([[:all, 45], [:none, 35], [:partial, 20]])
           end
governor = chance(0.6) ? pick(%w[performance powersave]) : nil

# params per group: an ordered list of [key, raw_yaml_text, value_for_path, where] (where: :top or :prog)
def base_params(testcase, wis_test, quirky)
  case testcase
  when 'will-it-scale'
    nr = pick([['nr_task', '100%', '100%'], ['nr_task', '16', '16'], ['nr_task', '50%', '50%']])
    if quirky && chance(0.6) # YAML 1.1 scalars as Psych reads them: octal, _, hex, sexagesimal, .nan, flow seq, date
      nr = pick([['nr_task', '016', '14'], ['nr_task', '1_000', '1000'], ['nr_task', '0x10', '16'], ['nr_task', '1:30:00', '5400'],
                 ['nr_task', '.nan', 'NaN'], ['nr_task', '[1, 2]', '1_2'], ['nr_task', '2012-01-01', '2012-01-01']])
    end
    ps = [[nr[0], nr[1], nr[2], :top]]
    ps << ['runtime', '300s', '300s', :top] if chance(0.5)
    ps << ['runtime', '5:00', '18000', :top] if quirky && chance(0.5) && ps.none? { |p| p[0] == 'runtime' }
    ps << ['mode', pick(%w[process thread]), nil, :prog]
    ps << ['test', wis_test, nil, :prog]
    ps << ['smt', pick(%w[on 1 0 yes]), nil, :prog] if quirky && chance(0.5)
  when 'hackbench'
    ps = [['nr_threads', pick(['100%', '800%', '50%', '1600%']), nil, :top],
          ['iterations', pick(%w[4 8 20]), nil, :top],
          ['mode', pick(%w[process thread]), nil, :prog],
          ['ipc', pick(%w[pipe socket]), nil, :prog]]
    ps << ['runtime', pick(%w[300s 600s]), nil, :top] if chance(0.3)
    ps << ['iterations', '1e3', '1e3', :top] if quirky && chance(0.4) && ps.reject! { |p| p[0] == 'iterations' }
  else # ebizzy
    ps = [['nr_threads', pick(['200%', '100%']), nil, :top],
          ['duration', pick(%w[10s 30s]), nil, :prog],
          ['iterations', pick(%w[100x 10x]), nil, :prog]]
    ps << ['duration', '1.5e3', '1.5e3', :prog] if quirky && chance(0.5) && ps.reject! { |p| p[0] == 'duration' }
  end
  ps.map { |k, raw, pv, w| [k, raw, pv || raw, w] }
end

job_mode = :quirky if [45, 48].include?(seed) && !SUP.include?(:yaml) # two more YAML-quirk cases in 1..60
quirky = job_mode == :quirky && !SUP.include?(:yaml)
params0 = base_params(testcase, wis_test, quirky)
params0 << ['cpufreq_governor', governor, governor, :top] if governor
group_params = Array.new(ngroups) { params0.map(&:dup) }
split_groups = []
if job_mode == :split_param
  # some heads get another value of one param: lkp groups result roots by their non-commit axes
  k = params0.first[0]
  alt = { 'nr_task' => '16', 'nr_threads' => '400%' }[k] || '16'
  alt = '50%' if alt == params0.first[1]
  split_groups = ngroups == 2 ? [1] : sample((1...ngroups).to_a, 1 + rnd(ngroups - 1))
  split_groups.each { |g| group_params[g][0] = [k, alt, alt, :top] }
end
if job_mode != :split_param && !governor && chance(0.15) && ngroups > 2 && !SUP.include?(:split)
  # cpufreq_governor present in some groups only
  split_groups = [ngroups - 1]
  group_params[ngroups - 1] << ['cpufreq_governor', 'performance', 'performance', :top]
end

def path_params_of(ps) = ps.sort_by { |k, *| k }.map { |p| p[2].to_s[0..30] }.join('-').tr('^-a-zA-Z0-9+=:.%', '_')

MONITOR_SECTIONS = [
  "perf-profile:\n  delay: 20\n",
  "perf-profile:\n  runtime: 50\n",          # perf-profile has a no-stdout-monitor: its options are no params
  "perf-profile:\n  nr_threads: 4\n  duration: 5s\n",
  "mpstat:\n  interval: 10\n",
  "vmstat:\n  runtime: 30\n",
  "sched_debug:\n  interval: 60\n",
  "lock_stat:\n",
  "iostat:\n  test: foo\n",
  "perf-stat:\n  interval: 5\n",
  "proc-vmstat:\n  nr_task: 8\n"
].freeze

def job_yaml(testcase, ps, tbox, rootfs, kconfig, compiler, commit, monitors, extra)
  j = +"suite: #{testcase}\ntestcase: #{testcase}\ncategory: benchmark\n"
  ps.select { |p| p[3] == :top && p[0] != 'cpufreq_governor' }.each { |k, raw, *| j << "#{k}: #{raw}\n" }
  progs = ps.select { |p| p[3] == :prog }
  unless progs.empty?
    j << "#{testcase}:\n"
    progs.each { |k, raw, *| j << "  #{k}: #{raw}\n" }
  end
  monitors.each { |m| j << m }
  gov = ps.find { |p| p[0] == 'cpufreq_governor' }
  j << "cpufreq_governor: #{gov[1]}\n" if gov
  j << extra
  j << "tbox_group: #{tbox}\ntestbox: #{tbox}\nrootfs: #{rootfs}\nkconfig: #{kconfig}\ncompiler: #{compiler}\ncommit: #{commit}\n"
  j
end

monitors = if %i[monitors quirky].include?(job_mode) || chance(0.2)
             sample(SUP.include?(:monitors) ? MONITOR_SECTIONS.reject { |m| m.start_with?('perf-profile') } : MONITOR_SECTIONS, 1 + rnd(3))
           else
             []
           end

# ------------------------------------------------------------------ stat specs
PERF_SYMS = %w[
  native_queued_spin_lock_slowpath mas_wr_store_entry mas_wr_node_store kmem_cache_alloc kmem_cache_free
  __call_rcu_common rcu_do_batch do_syscall_64 entry_SYSCALL_64_after_hwframe __do_sys_brk do_vmi_align_munmap
  _raw_spin_lock clear_page_erms unmap_page_range zap_pte_range mas_walk osq_lock rwsem_down_write_slowpath
  __slab_free ___slab_alloc intel_idle cpuidle_enter_state poll_idle asm_exc_page_fault
].freeze

pools = {}
pools[:testcase] =
  case testcase
  when 'will-it-scale'
    %W[will-it-scale.per_process_ops will-it-scale.per_thread_ops will-it-scale.workload will-it-scale.scalability
       will-it-scale.#{ncpu}.processes will-it-scale.#{ncpu}.processes_idle will-it-scale.#{ncpu}.threads
       will-it-scale.time.elapsed_time will-it-scale.time.user_time will-it-scale.time.system_time
       will-it-scale.time.voluntary_context_switches]
  when 'hackbench'
    %w[hackbench.throughput hackbench.throughput_avg hackbench.throughput_best hackbench.throughput_worst
       hackbench.workload hackbench.time.user_time hackbench.time.elapsed_time hackbench.time.minor_page_faults]
  else
    %w[ebizzy.throughput ebizzy.throughput.per_thread.min ebizzy.throughput.per_thread.max
       ebizzy.throughput.per_thread.stddev_percent ebizzy.time.user ebizzy.time.sys ebizzy.time.real]
  end
pools[:othertest] = %w[hackbench.throughput will-it-scale.per_process_ops ebizzy.throughput] - pools[:testcase]
pools[:time] = %w[time.elapsed_time time.elapsed_time.max time.minor_page_faults time.major_page_faults
                  time.system_time time.user_time time.voluntary_context_switches time.involuntary_context_switches
                  time.percent_of_cpu_this_job_got time.maximum_resident_set_size time.file_system_outputs]
pools[:vmstat] = %w[vmstat.system.cs vmstat.system.in vmstat.memory.cache vmstat.memory.free vmstat.procs.r
                    vmstat.cpu.id vmstat.cpu.sy vmstat.cpu.us vmstat.io.bo vmstat.io.bi]
pools[:mpstat] = %w[mpstat.cpu.all.idle% mpstat.cpu.all.iowait% mpstat.cpu.all.irq% mpstat.cpu.all.soft%
                    mpstat.cpu.all.sys% mpstat.cpu.all.usr% mpstat.max_utilization_pct mpstat.max_utilization.seconds]
pools[:meminfo] = %w[meminfo.Slab meminfo.SUnreclaim meminfo.Active meminfo.AnonPages meminfo.Committed_AS
                     meminfo.Mapped meminfo.Shmem meminfo.KernelStack numa-meminfo.node0.Slab numa-meminfo.node1.AnonPages]
pools[:slabinfo] = %w[slabinfo.maple_node.active_objs slabinfo.maple_node.num_objs slabinfo.vm_area_struct.num_objs
                      slabinfo.kmalloc-64.active_objs slabinfo.radix_tree_node.active_slabs]
pools[:proc_vmstat] = %w[proc-vmstat.pgalloc_normal proc-vmstat.pgfree proc-vmstat.numa_hit proc-vmstat.pgfault
                         proc-vmstat.nr_anon_pages proc-vmstat.nr_slab_unreclaimable proc-vmstat.allocstall_normal
                         proc-vmstat.compact_stall proc-vmstat.pgactivate numa-vmstat.node0.nr_free_pages]
pools[:iostat] = %w[iostat.sda.util iostat.sda.await iostat.sda.r/s iostat.nvme0n1.wkB/s iostat.cpu.iowait
                    iostat.nvme0n1.avgrq-sz]
pools[:perf_stat] = %w[perf-stat.i.ipc perf-stat.overall.cpi perf-stat.i.node-load-miss-rate% perf-stat.i.cache-misses
                       perf-stat.overall.branch-miss-rate% perf-stat.ps.instructions]
pools[:sched_debug] = %w[sched_debug.cfs_rq:/.load.max sched_debug.cpu.nr_switches.avg sched_debug.cpu.nr_running.stddev
                         sched_debug.cfs_rq:/.load.0 sched_debug.cpu.clock.3 sched_debug.cpu.ttwu.127
                         sched_debug.cpu.x.avg sched_debug.cpu.max_idle_balance_cost.1.5 sched_debug.cpu_clk
                         sched_debug.sysctl_sched.sysctl_sched_base_slice sched_debug.cfs_rq:/.runnable_avg.5a]
pools[:lock_stat] = %w[lock_stat.mmap_lock.contentions lock_stat.mmap_lock.waittime-total lock_stat.mmap_lock.con-bounces
                       lock_stat.rcu_node_0.contentions lock_stat.&zone->lock.holdtime-max lock_stat.&rq->__lock.waittime-total
                       lock_stat.&mm->mmap_lock.holdtime-total lock_stat.timekeeper_lock.contentions
                       lock_stat.&base->lock.acquisitions lock_stat.x.waittime-total lock_stat.meminfo_lock.contentions]
pools[:interrupts] = %w[interrupts.CPU0.LOC:Local_timer_interrupts interrupts.NMI:Non-maskable_interrupts
                        interrupts.CAL:Function_call_interrupts interrupts.RES:Rescheduling_interrupts
                        interrupts.CPU1.TLB:TLB_shootdowns interrupts.0:IO-APIC.2-edge.timer]
pools[:softirqs] = %w[softirqs.CPU1.RCU softirqs.RCU softirqs.SCHED softirqs.TIMER softirqs.NET_RX softirqs.CPU0.SCHED]
pools[:timeish] = %w[dmesg.timestamp:last kmsg.timestamp:last kmsg.rcu.time.stall stderr.timestamp:42
                     last_state.time.post_run dmesg.bootstage:last dmesg.foo.time.bar sim.time.elapsed]
pools[:sim] = %w[sim.maple.nodes_allocated_per_op sim.mm.brk sim.page_alloc.pages_per_op sim.vma.merges sim.vma.delta]
pools[:perf_profile] = %w[calltrace children self].flat_map do |kind|
  PERF_SYMS.map { |s| "perf-profile.#{kind}.cycles-pp.#{s}" }
end + %w[perf-profile.calltrace.cycles-pp.brk.__entry_text_start
         perf-profile.calltrace.cycles-pp.do_vmi_align_munmap.__do_sys_brk.do_syscall_64]

Spec = Struct.new(:name, :kind, :base, :factors, :noise, :num, :zero, :missing, :sign, :m1, :fixed, :p_occ,
                  :count, :write_zero, :pair)

def factor_list(n)
  Array.new(n) do |g|
    g.zero? ? 1.0 : pick_w([[1.0, 30], [1.004, 5], [1.03, 8], [0.97, 6], [1.12, 8], [0.85, 6], [1.6, 8], [0.4, 6],
                            [3.5, 5], [12.0, 3], [:to_zero, 4], [:from_zero, 4]])
  end
end

def num_style(feat)
  ws = [[:float, 50], [:int, 30], [:whole, 12]]
  ws << [:exp, 25] if feat[:exp_literals]
  ws << [:whole, 20] if feat[:whole_floats]
  pick_w(ws)
end

def perf_spec(name, feat, ngroups)
  s = Spec.new(name, :perf)
  pct = name.end_with?('%') || name.start_with?('perf-profile.')
  mags = [[10**(rnd * 3 - 2), 15], [10**(1 + rnd * 2), 20], [10**(3 + rnd * 5), 30], [10**(8 + rnd * 4), 15]]
  mags << [10**(15 + rnd * 5), 30] if feat[:huge] && !pct
  mags << [1e-7 * (1 + rnd * 9), 25] if feat[:tiny_vals]
  mags = [[rnd * 2, 30], [1 + rnd * 9, 30], [10 + rnd * 60, 30], [1e-7 * (1 + rnd * 9), feat[:tiny_vals] ? 20 : 0]] if pct
  s.base = pick_w(mags)
  s.factors = factor_list(ngroups)
  s.noise = pick_w([[0.0, 12], [0.002, 15], [0.01, 20], [0.03, 20], [0.08, 15], [0.25, 10], [0.8, 3]])
  s.num = num_style(feat)
  s.num = :bigint if feat[:huge] && s.base >= 1e15 && chance(0.6) && !SUP.include?(:bigint)
  s.zero = pick_w([[nil, 80], [:all_int, feat[:missing_zero] ? 10 : 3], [:all_float, feat[:missing_zero] ? 10 : 3],
                   [:some, 8]])
  s.missing = pick_w([[nil, 78], [:some, feat[:missing_zero] ? 15 : 8], [:group, feat[:missing_zero] ? 8 : 3],
                      [:first_runs, feat[:missing_zero] ? 8 : 2]])
  s.missing = [:group, rnd(ngroups)] if s.missing == :group
  s.sign = if feat[:negatives] && !pct && chance(0.45)
             pick([:neg, :neg, :mixed])
           else
             :pos
           end
  s.m1 = feat[:minus_one] && chance(0.35) && !(SUP.include?(:margin) && $big_case) ? pick_w([[:few, 40], [:many, 20], [:all, 8], [:with_lower, 15], [:float, 17]]) : nil
  s
end

def func_spec(name, feat)
  s = Spec.new(name, :func)
  s.p_occ = [pick([0.0, 0.0, 0.3, 0.5, 1.0]), pick([0.0, 0.3, 0.5, 1.0, 1.0]), pick([0.0, 0.5, 1.0]), pick([0.0, 0.5, 1.0])]
  s.p_occ[0], s.p_occ[1] = s.p_occ[1], s.p_occ[0] if chance(0.3)
  s.count = pick_w([[1, 70], [:multi, 12], [:float1, 8], [:frac, SUP.include?(:frac) ? 0 : (feat[:whole_floats] || feat[:exp_literals] ? 8 : 2)],
                    [:bigint, feat[:huge] && !SUP.include?(:bigint) ? 8 : 0]])
  s.write_zero = pick_w([[nil, 80], [:int, 12], [:float, 8]])
  s
end

# a stat with fixed literal values per group: fixed[g] = array of literal texts, cycled over the runs
def fixed_spec(name, per_group)
  s = Spec.new(name, :fixed)
  s.fixed = per_group
  s
end

specs = []
want = {
  testcase: 2 + rnd(6), othertest: rnd(2), time: 1 + rnd(5), vmstat: 1 + rnd(4), mpstat: 1 + rnd(4),
  meminfo: rnd(4), slabinfo: rnd(3), proc_vmstat: 1 + rnd(4), iostat: rnd(3), perf_stat: rnd(4),
  perf_profile: 2 + rnd(10), sched_debug: rnd(5), lock_stat: rnd(5), interrupts: rnd(3), softirqs: rnd(3),
  timeish: rnd(4), sim: rnd(3)
}
want.each_key.to_a.shuffle(random: R).each do |cat|
  sample(pools[cat], want[cat]).each { |n| specs << perf_spec(n, feat, ngroups) }
end

FUNC_POOL = %w[
  dmesg.BUG:soft_lockup-CPU##stuck_for#s dmesg.WARNING:at_mm/mmap.c:#do_vmi_align_munmap dmesg.RIP:mas_wr_spanning_store
  dmesg.Kernel_panic-not_syncing:Fatal_exception dmesg.boot_failures dmesg.INFO:rcu_preempt_self-detected_stall_on_CPU
  kmsg.perf:interrupt_took_too_long kmsg.sanitizer_test kmsg.rcu:INFO:rcu_preempt_detected_stalls
  stderr.has_stderr stderr.Failed_to_get_program_name stderr.grep:write_error
  last_state.booting last_state.exit_fail last_state.running last_state.OOM last_state.test.will-it-scale.exit_code.1
  will-it-scale.fail sim.page_alloc.failures sim.selftest.killed_by_signal hackbench.errors ebizzy.warnings
  sim.error_count
].freeze
sample(FUNC_POOL, 2 + rnd(7)).each { |n| specs << func_spec(n, feat) }

# .pass / .fail / .error / .warn families; lkp's skip_function_stat? builds /^#{stem}\.(error|warn|fail)$/ unescaped
NORMAL_STEMS = case testcase
               when 'will-it-scale' then ["will-it-scale.#{wis_test}", 'will-it-scale.sanity']
               when 'hackbench' then %w[hackbench.pipe hackbench.socket]
               else %w[ebizzy.selftest]
               end + %w[sim.selftest kernel-selftests.net.tcp_fastopen]
META_STEMS = {
  'foo(bar)' => %w[foobar.fail], 'a+b' => %w[aab.fail], 'x.y' => %w[xzy.fail], 'c++' => %w[c++.fail c.fail],
  'foo{,2}' => %w[foo.fail foo{,2}.fail], 't[1]' => %w[t1.fail t[1].fail], 'q?' => %w[q.fail],
  'x\h' => %w[xa.fail xh.fail], '(?i)ab' => %w[AB.fail], 'm.n*' => %w[mxnnn.error], 'p$' => %w[p.warn],
  'dot.s' => %w[dotXs.fail]
}.freeze
BAD_STEMS = { 'foo[bar' => ['foo[bar.fail'], 'baz(' => ['baz(.fail'] }.freeze

META = SUP.include?(:regex) ? META_STEMS.reject { |k, _| ['x\\h', '(?i)ab', 'foo{,2}', 'c++'].include?(k) } : META_STEMS
fams = sample(NORMAL_STEMS, rnd(3)).map { |st| [st, []] }
fams += sample(META.to_a, 2 + rnd(4)) if feat[:passfail_meta]
fams += sample(META.to_a, 1) if !feat[:passfail_meta] && chance(0.3)
fams += sample(BAD_STEMS.to_a, 1) if bad_regex
fams.each do |stem, decoys|
  bad = pick(%w[fail error warn])
  s = Spec.new("#{stem}.pass", :pair)
  s.pair = { bad: "#{stem}.#{bad}", p_bad: Array.new(ngroups) { pick([0.0, 0.0, 0.3, 0.6, 1.0]) },
             only: pick_w([[nil, 55], [:pass, 15], [:bad, 15], [:base_pass_only, 15]]),
             decoys: decoys.select { chance(0.7) } }
  specs << s
end

# perf-profile medians exactly 5 / 5.0 / 6 / 6.0 (lkp's threshold is Integer 5: it only gates Integer medians)
if feat[:pp_threshold]
  (2 + rnd(5)).times do
    name = "perf-profile.#{pick(%w[self children calltrace])}.cycles-pp.#{pick(PERF_SYMS)}"
    next if specs.any? { |s| s.name == name }

    per = Array.new(ngroups) do
      c = pick([5, 5, 6, 6, 4, 7])
      style = pick(%i[int float mixed mixed_noise])
      n = nruns.max
      Array.new(n) do |i|
        v = style == :mixed_noise ? c + pick([-1, 0, 0, 0, 1]) : c
        float = case style
                when :int then false
                when :float then true
                else chance(0.5)
                end
        float = (i.even?) if style == :mixed && n <= 3
        float ? Lit.new("#{v}.0") : Lit.new(v.to_s)
      end
    end
    specs << fixed_spec(name, per)
  end
end

# several perf-profile rows of one family with identical changes (sort ties in Compare.sort_stats)
if feat[:pp_ties]
  (1 + rnd(2)).times do
    kind = pick(%w[self children calltrace])
    k = 3 + rnd(4)
    syms = sample(PERF_SYMS, k)
    vals = Array.new(ngroups) do |g|
      c = pick([0.5, 1.25, 2.0, 3.5, 7.0, 12.0, 40.0]) * (g.zero? ? 1 : pick([1, 1, 1.5, 2, 0.5]))
      Array.new(nruns.max) { |i| i.odd? && chance(0.5) ? c + (SUP.include?(:printf) ? 0.2718281828 : 0.25) : c }
    end
    int_like = chance(0.3) # the same values as Integers
    syms.each do |sym|
      name = "perf-profile.#{kind}.cycles-pp.#{sym}"
      next if specs.any? { |s| s.name == name }

      per = vals.map do |vs|
        vs2 = chance(0.5) && !SUP.include?(:printf) ? vs.shuffle(random: R) : vs # same mean, other order: same change, other stddev
        vs2.map { |v| int_like ? Lit.new(v.round.to_s) : v.to_f }
      end
      specs << fixed_spec(name, per)
    end
  end
end

# exact binary ties for printf's rounding: %.1f of +0.25, %.2f of x.125, %.4g of 123450000, %.2g of 125000%, ...
if feat[:fmt_ties]
  tie_stats = [
    ['perf-profile.self.cycles-pp.tie_quarter', [5.0, 5.25, 4.75, 5.125]],
    ['mpstat.cpu.all.soft%', [10.125, 10.375, 0.625, 2.875]],
    ['vmstat.memory.cache', [400.0, 449.0, 351.0, 449.0]],          # +12.25% / -12.25%
    ['proc-vmstat.pgactivate', [123_450_000.0, 246_850_000.0, 123_450_000.0, 1_234_500.5]],
    ['time.voluntary_context_switches', [1.0, 1251.0, 2251.0, 3.0]], # +125000% (%.2g)
    ['will-it-scale.scalability', [0.125, 0.375, 2.5, 0.625]],
    ['meminfo.Shmem', [2000.5, 2000.5, -2000.5, 3000.5]]
  ]
  sample(tie_stats, 2 + rnd(4)).each do |name, vs|
    specs.reject! { |s| s.name == name }
    per = Array.new(ngroups) { |g| [vs[g % vs.size]] * nruns.max }
    specs << fixed_spec(name, per)
  end
end

# integer sums that Ruby does exactly (Array#sum) and doubles cannot: 2**60+3, -2**60, 5 -> 8
if feat[:cancel]
  names = sample(%w[meminfo.Committed_AS sim.mm.brk vmstat.memory.free perf-stat.ps.instructions], 1 + rnd(2))
  names.each do |name|
    specs.reject! { |s| s.name == name }
    per = Array.new(ngroups) do |g|
      big = 2**(55 + rnd(8))
      a = [Lit.new((big + 3 + g).to_s), Lit.new((-big).to_s), Lit.new((5 + (2 * g)).to_s)]
      a << Lit.new((big + 1).to_s) << Lit.new((-big).to_s) if chance(0.5)
      a
    end
    specs << fixed_spec(name, per)
  end
  if chance(0.5) # a failure stat with a count > 2**53 (printed %d exactly by Ruby)
    per = Array.new(ngroups) { |g| [Lit.new((2**60 + 1 + g).to_s)] }
    specs << fixed_spec('kmsg.huge_count_test', per)
  end
end

# margin probe: lkp trims size >> 5 values a side (size counted BEFORE the leading -1s are dropped,
# lib/stats.rb sort_remove_margin); an outlier that only the trimming removes decides "changed"
if nruns.max >= 32 && (feat[:big_runs] || feat[:minus_one])
  (1 + rnd(2)).times do |t|
    name = pick(%w[vmstat.system.cs proc-vmstat.pgfault time.user_time mpstat.cpu.all.usr% will-it-scale.workload
                   hackbench.throughput perf-stat.i.ipc])
    name = "#{name}.probe#{t}" if t.positive?
    specs.reject! { |s| s.name == name }
    m1 = feat[:minus_one] && !SUP.include?(:margin) ? pick([0, 1, 2, 3, 4]) : 0
    per = Array.new(ngroups) do |g|
      c = g.zero? ? 100.0 : pick([200.0, 100.0, 50.0])
      outlier = c > 100 ? 60.0 : 160.0 # one value on the wrong side of the base
      Array.new(nruns[g]) do |i|
        if i < m1 then pick([-1, -1.0])
        elsif i == m1 && g.positive? then outlier
        else c * (1 + (0.01 * ((i % 5) - 2)))
        end
      end
    end
    specs << fixed_spec(name, per)
  end
end

specs.uniq!(&:name)
specs.shuffle!(random: R) if chance(0.3)
shuffle_keys = chance(0.2) # each run writes its keys in another order

# ------------------------------------------------------------------ incomplete runs
inc_p = Array.new(ngroups) { 0.0 }
inc_val = '1'
if feat[:incomplete]
  inc_p = Array.new(ngroups) { pick([0.0, 0.0, 0.3, 0.5, 1.0]) }
  inc_p[rnd(ngroups)] = pick([0.3, 0.5, 1.0]) if inc_p.all?(&:zero?)
  inc_val = pick_w([['1', 70], ['1.0', 20], ['2', 10]])
end
complete_marker = feat[:incomplete] ? pick([nil, nil, '0', '0.0']) : nil

# ------------------------------------------------------------------ values
def styled(v, num, base_mag)
  case num
  when :int then v.round
  when :whole then v.round.to_f
  when :bigint then v.abs < 2**53 ? v.round : Lit.new((v.to_i + rnd(1000) - 500).to_s)
  when :exp
    if v.abs >= 1 && v == v.round && chance(0.4)
      Lit.new(format('%de%d', (v / 10**Math.log10(v.abs).floor).round, Math.log10(v.abs).floor)) # 3e5 style
    else
      e = format(pick(['%.3e', '%.6E', '%.2e']), v)
      e = e.sub(/e\+0*(\d)/, 'e\1').sub(/E\+0*(\d)/, 'E\1') if chance(0.5) # 1.234e5 / 1.234E5
      e = e.sub(/e-0+(\d)/, 'e-\1') if chance(0.5)
      Lit.new(e)
    end
  else
    base_mag < 1e-3 && chance(0.3) ? Lit.new(format('%.4e', v)) : v.to_f
  end
end

def perf_value(s, g, idx, n)
  f = s.factors[g]
  mean = case f
         when :to_zero then 0.0
         when :from_zero then g.zero? ? 0.0 : s.base
         else s.base * f
         end
  mean = 0.0 if g.zero? && s.factors.include?(:from_zero)
  return 0 if s.zero == :all_int
  return 0.0 if s.zero == :all_float
  return (s.num == :int ? 0 : 0.0) if s.zero == :some && idx.odd? && chance(0.7)

  if s.m1
    case s.m1
    when :all then return -1
    when :many then return -1 if chance(0.6)
    when :few then return -1 if idx < 2 || (n >= 32 && idx < 4)
    when :float then return -1.0 if idx.zero? || chance(0.1)
    when :with_lower
      return -1 if idx.even?
      return -5 if idx == 1
    end
  end
  v = mean * (1 + (s.noise * gauss))
  v = v.abs
  v = -v if s.sign == :neg || (s.sign == :mixed && chance(0.5))
  v = 100.0 if s.name.end_with?('%') && v > 100
  v = -0.0 if v.zero? && s.num == :whole && chance(0.5)
  styled(v, s.num, s.base)
end

commits = Array.new(ngroups) { sha1 }
groups = []
ngroups.times do |g|
  ps = group_params[g]
  pp = path_params_of(ps)
  gdir = File.join('result', testcase, pp, tbox, rootfs, kconfig, compiler, commits[g])
  groups << gdir
  ids = run_ids[g]
  job_runs = case job_mode
             when :all, :quirky, :monitors, :split_param then ids
             when :none then []
             when :base_only then g.zero? ? ids : []
             when :head_missing then g == ngroups - 1 ? [] : ids
             when :partial, :inconsistent then sample(ids, 1 + rnd(ids.size))
             end
  n = ids.size
  all_inc = inc_p[g] >= 1.0
  ids.each_with_index do |rid, idx|
    rdir = File.join(out, gdir, rid.to_s)
    FileUtils.mkdir_p rdir
    inc = all_inc || (inc_p[g].positive? && chance(inc_p[g]))
    stats = {}
    specs.each do |s|
      case s.kind
      when :pair
        pr = s.pair
        only = pr[:only]
        only = g.zero? ? :pass : nil if only == :base_pass_only
        bad = chance(pr[:p_bad][g])
        stats[pr[:bad]] = 1 if bad && only != :pass
        stats[s.name] = 1 if !bad && only != :bad
        pr[:decoys].each { |d| stats[d] = 1 } if g.zero? && idx.zero?
      when :func
        if chance(s.p_occ[g % 4])
          stats[s.name] = case s.count
                          when :multi then 1 + rnd(4)
                          when :float1 then 1.0
                          when :frac then pick([0.1, 0.2, 0.7, Lit.new('1e-1'), Lit.new('5E-1')])
                          when :bigint then Lit.new((2**53 + 1 + rnd(1000)).to_s)
                          else 1
                          end
        elsif s.write_zero
          stats[s.name] = s.write_zero == :int ? 0 : 0.0
        end
      when :fixed
        vs = s.fixed[g]
        stats[s.name] = vs[idx % vs.size]
      else
        next if s.missing == :some && chance(0.35)
        next if s.missing.is_a?(Array) && s.missing[1] == g
        next if s.missing == :first_runs && idx < [2, n - 1].min
        next if inc && !s.name.start_with?('dmesg.', 'kmsg.', 'stderr.', 'last_state.') && chance(0.7)

        stats[s.name] = perf_value(s, g, idx, n)
      end
    end
    if inc
      stats['last_state.is_incomplete_run'] = Lit.new(inc_val)
      stats['last_state.booting'] = 1 if chance(0.3)
    elsif complete_marker && chance(0.5)
      stats['last_state.is_incomplete_run'] = Lit.new(complete_marker)
    end
    stats = stats.to_a.shuffle(random: R).to_h if shuffle_keys
    File.write(File.join(rdir, 'stats.json'), stats_json(stats))

    next unless job_runs.include?(rid)

    jps = ps
    extra = +''
    if job_mode == :inconsistent && chance(0.5)
      # another value of one param in some runs: MResultRoot#job_file takes the first job.yaml in glob order
      jps = ps.map(&:dup)
      jps[0] = [jps[0][0], pick(['32', '25%', '200%']), nil, jps[0][3]]
      extra << "queue: bisect\n"
    end
    File.write(File.join(rdir, 'job.yaml'), job_yaml(testcase, jps, tbox, rootfs, kconfig, compiler, commits[g], monitors, extra))
  end
end

File.write(File.join(out, 'groups'), groups.map { |gd| "#{gd}\n" }.join)
File.write(File.join(out, 'README'), <<~TXT)
  generated by scripts/lkp-oracle/gen-hard.rb #{seed}
  testcase=#{testcase} groups=#{ngroups} runs=#{nruns.join('+')} job.yaml=#{job_mode} split_groups=#{split_groups.inspect}
  features=#{feat.select { |_, v| v }.keys.join(',')}#{bad_regex ? ',bad_regex' : ''}#{SUP.empty? ? '' : " suppressed=#{SUP.join(',')}"}
  incomplete p=#{inc_p.inspect} value=#{inc_val} complete_marker=#{complete_marker.inspect} shuffle_keys=#{shuffle_keys}
  stats specs=#{specs.size} monitors=#{monitors.size}
TXT
puts out
