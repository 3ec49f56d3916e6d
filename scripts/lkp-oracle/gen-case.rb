#!/usr/bin/env ruby
# frozen_string_literal: true

# gen-case.rb -- generate a RANDOM (seeded, reproducible) lkp ncompare case directory:
#
#   <out>/groups                      two group dirs relative to <out>, base first
#   <out>/result/<testcase>/<path_params>/<tbox_group>/<rootfs>/<kconfig>/<compiler>/<commit>/<run#>/stats.json
#                                     (+ job.yaml in every run, in some runs, or in none -- per case)
#   <out>/README                      what was generated (seed, knobs)
#
# usage: gen-case.rb <seed> <out_dir>
#
# stats.json is written exactly the way lkp stores it (lib/yaml.rb save_json = JSON.pretty_generate,
# no trailing newline): a flat hash of stat => Integer|Float, so a whole-number float is stored as
# `7.0` (and parsed back by Ruby as Float, unlike `7`), float zero as `0.0`.
# Expected outputs are NOT made here; see make-cases.sh (runs lkp-ncompare-oracle.sh).

require 'json'
require 'fileutils'

seed = Integer(ARGV[0] || abort('usage: gen-case.rb <seed> <out_dir>'))
out = ARGV[1] || abort("usage: gen-case.rb <seed> <out_dir>")
R = Random.new(seed)

require_relative 'seeded'

# ---------------------------------------------------------------- case-level knobs
testcase = chance(0.8) ? 'will-it-scale' : 'hackbench'
tbox = pick(%w[lkp-icl-2sp9 lkp-spr-2sp4 lkp-csl-2sp3 lkp-skl-fpga01])
rootfs = pick(%w[debian-12-x86_64-20240206.cgz debian-12-x86_64-20240206.cgz debian-11.1-x86_64-20220510.cgz])
kconfig = pick(%w[x86_64-rhel-8.3 x86_64-rhel-9.4])
compiler = pick(%w[gcc-12 gcc-12 clang-18])
governor = chance(0.6) ? 'performance' : nil
wis_test = pick(%w[brk2 mmap1 page_fault3 futex1 signal1])

params = {} # param => value (what lkp's Job#each_param yields)
job_top = {}
job_prog = {}
if testcase == 'will-it-scale'
  job_top['nr_task'] = pick(['100%', '50%', '16'])
  job_prog['mode'] = pick(%w[process thread])
  job_prog['test'] = wis_test
else
  job_top['nr_threads'] = pick(['100%', '800%', '50%'])
  job_top['iterations'] = pick([4, 8])
  job_prog['mode'] = pick(%w[process thread])
  job_prog['ipc'] = pick(%w[pipe socket])
end
job_top['cpufreq_governor'] = governor if governor
params.merge!(job_top).merge!(job_prog)
# lkp Job#path_params: params sorted by name, values joined by '-'
path_params = params.sort_by { |k, _| k }.map { |_, v| v.to_s[0..30] }.join('-')

job_mode = pick_w([[:all, 45], [:none, 40], [:partial, 15]])
commits = [sha1, sha1]
nruns = [1 + rnd(6), 1 + rnd(6)]
run_ids = nruns.map do |n|
  if chance(0.1) && n > 1
    ids = (0...(n + 2)).to_a
    sample(ids, n).sort # gaps in the run numbers
  else
    (0...n).to_a
  end
end

# ---------------------------------------------------------------- stat name pools
ncpu = pick([104, 128, 224, 48])
PERF_SYMS = %w[
  native_queued_spin_lock_slowpath mas_wr_store_entry mas_wr_node_store kmem_cache_alloc kmem_cache_free
  __call_rcu_common rcu_do_batch do_syscall_64 entry_SYSCALL_64_after_hwframe __do_sys_brk do_vmi_align_munmap
  _raw_spin_lock clear_page_erms unmap_page_range zap_pte_range mas_walk osq_lock rwsem_down_write_slowpath
  __slab_free ___slab_alloc intel_idle cpuidle_enter_state
].freeze

pools = {}
pools[:testcase] =
  if testcase == 'will-it-scale'
    %W[will-it-scale.per_process_ops will-it-scale.per_thread_ops will-it-scale.workload will-it-scale.scalability
       will-it-scale.#{ncpu}.processes will-it-scale.#{ncpu}.processes_idle will-it-scale.#{ncpu}.threads
       will-it-scale.#{ncpu}.threads_idle will-it-scale.time.elapsed_time will-it-scale.time.throughput]
  else
    %w[hackbench.throughput hackbench.throughput_avg hackbench.throughput_best hackbench.throughput_worst
       hackbench.workload hackbench.time.user_time]
  end
pools[:othertest] =
  if testcase == 'will-it-scale'
    %w[hackbench.throughput hackbench.throughput_avg]
  else
    %W[will-it-scale.per_process_ops will-it-scale.#{ncpu}.processes]
  end
pools[:sim] = %w[sim.maple.nodes_allocated_per_op sim.maple.nodes_freed_per_op sim.mm.brk sim.rcu.stall_error
                 sim.page_alloc.pages_per_op sim.vma.merges]
pools[:time] = %w[time.elapsed_time time.elapsed_time.max time.minor_page_faults time.major_page_faults
                  time.system_time time.user_time time.voluntary_context_switches time.involuntary_context_switches
                  time.percent_of_cpu_this_job_got time.maximum_resident_set_size]
pools[:vmstat] = %w[vmstat.system.cs vmstat.system.in vmstat.memory.cache vmstat.memory.free vmstat.procs.r
                    vmstat.cpu.id vmstat.cpu.sy vmstat.cpu.us vmstat.io.bo]
pools[:mpstat] = %w[mpstat.cpu.all.idle% mpstat.cpu.all.iowait% mpstat.cpu.all.irq% mpstat.cpu.all.soft%
                    mpstat.cpu.all.sys% mpstat.cpu.all.usr% mpstat.max_utilization_pct mpstat.max_utilization.seconds]
pools[:meminfo] = %w[meminfo.Slab meminfo.SUnreclaim meminfo.SReclaimable meminfo.Active meminfo.AnonPages
                     meminfo.Committed_AS meminfo.Mapped meminfo.Shmem meminfo.KernelStack meminfo.PageTables]
pools[:slabinfo] = %w[slabinfo.maple_node.active_objs slabinfo.maple_node.num_objs slabinfo.vm_area_struct.num_objs
                      slabinfo.vm_area_struct.active_slabs slabinfo.kmalloc-64.active_objs]
pools[:proc_vmstat] = %w[proc-vmstat.pgalloc_normal proc-vmstat.pgfree proc-vmstat.numa_hit proc-vmstat.numa_local
                         proc-vmstat.pgfault proc-vmstat.nr_anon_pages proc-vmstat.nr_slab_unreclaimable
                         proc-vmstat.allocstall_normal proc-vmstat.pgactivate]
pools[:numa] = %w[numa-numastat.node0.local_node numa-numastat.node1.numa_hit numa-meminfo.node0.Slab]
pools[:perf_stat] = %w[perf-stat.i.ipc perf-stat.overall.cpi perf-stat.i.node-load-miss-rate% perf-stat.i.cache-misses
                       perf-stat.overall.branch-miss-rate% perf-stat.ps.instructions]
pools[:perf_profile] = %w[calltrace children self].flat_map do |kind|
  PERF_SYMS.map { |s| "perf-profile.#{kind}.cycles-pp.#{s}" }
end + %w[perf-profile.calltrace.cycles-pp.brk.__entry_text_start
         perf-profile.calltrace.cycles-pp.do_vmi_align_munmap.__do_sys_brk.do_syscall_64
         perf-profile.calltrace.cycles-pp.native_queued_spin_lock_slowpath._raw_spin_lock.rcu_do_batch]
pools[:sched_debug] = %w[sched_debug.cfs_rq:/.load.max sched_debug.cpu.nr_switches.avg sched_debug.cpu.nr_running.stddev
                         sched_debug.cfs_rq:/.load.0 sched_debug.cpu.clock.3]
pools[:lock_stat] = %w[lock_stat.mmap_lock.contentions lock_stat.mmap_lock.waittime-total lock_stat.mmap_lock.con-bounces
                       lock_stat.rcu_node_0.contentions lock_stat.&zone->lock.holdtime-max]
pools[:interrupts] = %w[interrupts.CPU0.LOC:Local_timer_interrupts interrupts.NMI:Non-maskable_interrupts
                        interrupts.CAL:Function_call_interrupts interrupts.RES:Rescheduling_interrupts
                        interrupts.CPU1.TLB:TLB_shootdowns]
pools[:softirqs] = %w[softirqs.CPU1.RCU softirqs.RCU softirqs.SCHED softirqs.TIMER softirqs.NET_RX softirqs.CPU0.SCHED]
pools[:dmesg_ts] = %w[dmesg.timestamp:last kmsg.timestamp:last]
FUNC_POOL = %w[
  dmesg.BUG:soft_lockup-CPU##stuck_for#s dmesg.WARNING:at_mm/mmap.c:#do_vmi_align_munmap dmesg.RIP:mas_wr_spanning_store
  dmesg.Kernel_panic-not_syncing:Fatal_exception dmesg.WARNING:possible_circular_locking_dependency_detected
  dmesg.boot_failures dmesg.INFO:rcu_preempt_self-detected_stall_on_CPU
  kmsg.perf:interrupt_took_too_long kmsg.sanitizer_test kmsg.rcu:INFO:rcu_preempt_detected_stalls
  stderr.has_stderr stderr.Failed_to_get_program_name stderr.grep:write_error
  last_state.booting last_state.exit_fail last_state.running last_state.OOM
  will-it-scale.fail sim.page_alloc.failures sim.selftest.killed_by_signal
].freeze

# ---------------------------------------------------------------- stat specs
Spec = Struct.new(:name, :func, :base, :factor, :noise, :num, :zero, :missing, :p_occ, :count, :write_zero,
                  :pct, :pair)

def perf_spec(name)
  s = Spec.new(name, false)
  s.pct = name.end_with?('%') || name.start_with?('perf-profile.')
  mag = if s.pct
          pick_w([[rnd * 2, 30], [1 + rnd * 9, 30], [10 + rnd * 60, 30], [0.01 + rnd * 0.2, 10]])
        else
          pick_w([[10**(rnd * 3 - 2), 15],   # 0.01 .. 10
                  [10**(1 + rnd * 2), 20],   # 10 .. 1000
                  [10**(3 + rnd * 5), 35],   # 1000 .. 1e8
                  [10**(8 + rnd * 6.5), 25], # 1e8 .. 3e14
                  [1e-5 * (1 + rnd * 9), 5]]) # tiny (Ruby writes 1.0e-05 style)
        end
  s.base = mag
  s.factor = pick_w([[1.0, 40], [1.004, 6], [1.03, 8], [0.97, 6], [1.12, 8], [0.85, 6], [1.6, 6], [0.4, 5],
                     [3.5, 4], [12.0, 2], [:to_zero, 4], [:from_zero, 4]])
  s.noise = pick_w([[0.0, 12], [0.002, 15], [0.01, 20], [0.03, 20], [0.08, 15], [0.25, 10], [0.8, 3]])
  s.num = if name.start_with?('perf-profile.')
            pick_w([[:float, 60], [:int, 25], [:whole, 15]])
          elsif s.base > 50 && name =~ /^(proc-vmstat|interrupts|softirqs|slabinfo|meminfo|numa|lock_stat|time\.(min|maj|vol|inv))/
            pick_w([[:int, 60], [:float, 25], [:whole, 15]])
          else
            pick_w([[:float, 60], [:int, 22], [:whole, 18]])
          end
  s.zero = pick_w([[nil, 82], [:all, 8], [:some, 10]])
  s.missing = pick_w([[nil, 82], [:some, 12], [:group0, 3], [:group1, 3]])
  s
end

def func_spec(name)
  s = Spec.new(name, true)
  s.p_occ = [pick([0.0, 0.0, 0.3, 0.5, 1.0]), pick([0.0, 0.3, 0.5, 1.0, 1.0])]
  s.p_occ.reverse! if chance(0.3)
  s.count = pick_w([[1, 80], [:multi, 12], [:float1, 8]])
  s.write_zero = chance(0.12) # also store an explicit 0 when it did not happen
  s.missing = nil
  s
end

specs = []
want = {
  testcase: 2 + rnd(7), othertest: rnd(2) * (1 + rnd(2)), sim: 1 + rnd(4), time: 2 + rnd(6), vmstat: 1 + rnd(5),
  mpstat: 2 + rnd(5), meminfo: 1 + rnd(5), slabinfo: rnd(4), proc_vmstat: 1 + rnd(6), numa: rnd(3),
  perf_stat: rnd(5), perf_profile: 3 + rnd(14), sched_debug: rnd(4), lock_stat: rnd(4), interrupts: rnd(4),
  softirqs: rnd(4), dmesg_ts: rnd(3)
}
cat_order = want.keys.shuffle(random: R)
cat_order.each do |cat|
  sample(pools[cat], want[cat]).each { |n| specs << perf_spec(n) }
end
sample(FUNC_POOL, 1 + rnd(8)).each { |n| specs << func_spec(n) }
# .pass / .fail / .error / .warn families (lkp only compares X.fail if the base has X.pass and vice versa)
fam_bases = testcase == 'will-it-scale' ? ["will-it-scale.#{wis_test}", 'will-it-scale.sanity'] : %w[hackbench.pipe hackbench.socket]
fam_bases << 'sim.selftest'
sample(fam_bases, rnd(3)).each do |b|
  bad = pick(%w[fail error warn])
  s = Spec.new("#{b}.pass", true)
  s.pair = { bad: "#{b}.#{bad}", p_bad: [pick([0.0, 0.0, 0.3, 1.0]), pick([0.0, 0.3, 0.6, 1.0])],
             only: pick_w([[nil, 70], [:pass, 15], [:bad, 15]]) }
  specs << s
end
specs.shuffle!(random: R) if chance(0.25) # sometimes no category ordering at all

incomplete = chance(0.25)
p_incomplete = [pick([0.0, 0.3, 0.5]), pick([0.0, 0.3, 0.5])]
p_incomplete[rnd(2)] = 0.4 if incomplete && p_incomplete == [0.0, 0.0]
all_incomplete_group = incomplete && chance(0.15) ? rnd(2) : nil
# when incomplete, at least this [group, run index] is an incomplete run
forced_incomplete = incomplete ? [g0 = rnd(2), rnd(nruns[g0])] : nil

# ---------------------------------------------------------------- values
def to_num(v, num)
  case num
  when :int then v.round
  when :whole then v.round.to_f
  else v.to_f
  end
end

def perf_value(s, g, run_idx)
  mean = s.base
  if g == 1
    mean = case s.factor
           when :to_zero then 0.0
           when :from_zero then s.base
           else s.base * s.factor
           end
  elsif s.factor == :from_zero
    mean = 0.0
  end
  return to_num(0, s.num) if s.zero == :all
  return to_num(0, s.num) if s.zero == :some && run_idx.odd? && chance(0.7)

  v = mean * (1 + s.noise * gauss)
  v = 0.0 if v.negative?
  v = 100.0 if s.pct && v > 100 # percentages stay percentages
  to_num(v, s.num)
end

groups = []
2.times do |g|
  commit = commits[g]
  gdir = File.join('result', testcase, path_params, tbox, rootfs, kconfig, compiler, commit)
  groups << gdir
  ids = run_ids[g]
  job_runs = case job_mode
             when :all then ids
             when :none then []
             else sample(ids, 1 + rnd(ids.size)) # at least one run per group has job.yaml
             end
  ids.each_with_index do |rid, idx|
    rdir = File.join(out, gdir, rid.to_s)
    FileUtils.mkdir_p rdir
    inc = incomplete && (all_incomplete_group == g || forced_incomplete == [g, idx] || chance(p_incomplete[g]))
    stats = {}
    specs.each do |s|
      if s.pair
        only = s.pair[:only]
        bad = chance(s.pair[:p_bad][g])
        stats[s.pair[:bad]] = 1 if bad && only != :pass
        stats[s.name] = 1 if !bad && only != :bad
        next
      end
      if s.func
        if chance(s.p_occ[g])
          stats[s.name] = case s.count
                          when :multi then 1 + rnd(4)
                          when :float1 then 1.0
                          else 1
                          end
        elsif s.write_zero
          stats[s.name] = 0
        end
        next
      end
      next if s.missing == :some && chance(0.35)
      next if s.missing == :group0 && g.zero?
      next if s.missing == :group1 && g == 1
      next if inc && s.name.start_with?("#{testcase}.") && chance(0.6)

      stats[s.name] = perf_value(s, g, idx)
    end
    if inc
      stats['last_state.is_incomplete_run'] = 1
    elsif incomplete && chance(0.1)
      stats['last_state.is_incomplete_run'] = 0
    end
    File.write(File.join(rdir, 'stats.json'), JSON.pretty_generate(stats, allow_nan: true))

    next unless job_runs.include?(rid)

    job = +''
    job << "suite: #{testcase}\ntestcase: #{testcase}\n"
    job_top.each { |k, v| job << "#{k}: #{v}\n" unless k == 'cpufreq_governor' }
    job << "#{testcase}:\n"
    job_prog.each { |k, v| job << "  #{k}: #{v}\n" }
    job << "cpufreq_governor: #{governor}\n" if governor
    job << "tbox_group: #{tbox}\nrootfs: #{rootfs}\nkconfig: #{kconfig}\ncompiler: #{compiler}\ncommit: #{commit}\n"
    File.write(File.join(rdir, 'job.yaml'), job)
  end
end

File.write(File.join(out, 'groups'), groups.map { |g| "#{g}\n" }.join)
File.write(File.join(out, 'README'), <<~TXT)
  generated by scripts/lkp-oracle/gen-case.rb #{seed}
  testcase=#{testcase} job.yaml=#{job_mode} runs=#{nruns.join('+')} run_ids=#{run_ids.map { |a| a.join(',') }.join(' / ')}
  incomplete=#{incomplete} p_incomplete=#{p_incomplete.inspect} all_incomplete_group=#{all_incomplete_group.inspect}
  stats specs=#{specs.size}
TXT
puts out
