#!/usr/bin/env ruby
# Index lkp result groups the way lkp's own pipeline does:
#   for every run dir (numeric order):  unite_stats(run)  -> lib/matrix.rb unite_to(stats, group) (+ unite_to to the parent, as lkp does)
#   for every group:                    convert_mrt(group) -> lib/result_root.rb (mresult_root DataStore node + indexes)
# Usage: index-groups.rb <group_dir_under_/lkp/result>...
LKP_SRC = ENV['LKP_SRC'] || abort('LKP_SRC not set')
require "#{LKP_SRC}/lib/result_root"
require "#{LKP_SRC}/lib/matrix"
require "#{LKP_SRC}/lib/data_store"

create_mresult_root_tables
ARGV.each do |group|
  runs = Dir["#{group}/[0-9]*"].select { |d| File.directory?(d) && File.basename(d) =~ /\A\d+\z/ }
  runs.sort_by! { |d| File.basename(d).to_i }
  runs.each do |run|
    unite_stats(run) or abort("unite_stats failed for #{run}")
  end
  convert_mrt(group)
end
