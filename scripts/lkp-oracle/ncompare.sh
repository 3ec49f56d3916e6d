#!/bin/bash
# ncompare.sh -- run the REAL `lkp ncompare [-a] <commit> <commit>` from lkp-tests (an unmodified
# checkout named by $LKP_SRC; the golden vectors were made with bbbc29c495d9)
# on the result groups of one case directory, and print exactly what it prints.
#
# usage: lkp-ncompare-oracle.sh <case_dir> [all|default]      (default: default)
#   <case_dir>/groups       group dirs relative to <case_dir>, base first, each "result/<testcase>/.../<commit>"
#   <case_dir>/result/...   lkp result tree: <group>/<run#>/stats.json (+ optional job.yaml)
# stdout = ncompare's stdout; ncompare's/indexer's stderr goes to stderr; exit status = ncompare's.
#
# How it works / what is shimmed (nothing in lkp-tests is patched, no lkp function is replaced):
#  1. lkp hard-codes RESULT_ROOT_DIR=/lkp/result and KTEST_DATA_DIR=/lkp/data (lib/constant.rb, frozen
#     constants, no env override). So each invocation makes a fresh temp dir T, copies <case_dir>/result
#     to T/lkp/result, and runs everything inside a private mount namespace (`unshare -m`) in which T/lkp
#     is bind-mounted on /lkp. Cases never mix and invocations can run in parallel; the host /lkp is just
#     an empty mount point. (Fallback if unshare/mount is not permitted: a global flock and a wiped real /lkp.)
#  2. Indexing = lkp's own code (lib/index-groups.rb): create_mresult_root_tables, then for each run dir
#     in numeric order `unite_stats(run)` (lib/matrix.rb: loads the existing stats.json, sets
#     stats_source, unite_to(stats, group) and unite_to(stats, parent, 100)), then `convert_mrt(group)`
#     (lib/result_root.rb: DataStore node in /lkp/data/mresult_root/<table>, date + commit indexes).
#  3. Commit order / git: ncompare calls axis_key_git('commit') = Git.open(project: 'linux',
#     may_not_exist: true), which returns nil when /lkp/repo/linux does not exist (it never does here).
#     With no git, lkp itself skips sort_commits (do_sort_mresult_roots: no sort keys), keeps the commit
#     value as-is in axes_gcommit/axis_format (no tag lookup), and compares the result roots in argv
#     order. We pass the commits in the order of <case_dir>/groups (base first). No git shim needed.
#  4. Ruby gems lkp requires are the Debian ones (ruby-git 1.13, ruby-activesupport 6.1,
#     ruby-tty-command 0.10); only `require`d, none of them takes part in the computation/formatting
#     (Array#sum is Ruby's own; average/stddev/printf are lkp's lib/statistics.rb + Kernel#printf).
set -u -o pipefail

case_dir=${1:?usage: $0 <case_dir> [all|default]}
sel=${2:-default}
case $sel in
  all) flag=-a ;;
  default) flag= ;;
  *) echo "$0: selection must be 'all' or 'default'" >&2; exit 2 ;;
esac
case_dir=$(cd "$case_dir" && pwd) || exit 2
[[ -f $case_dir/groups && -d $case_dir/result ]] || { echo "$0: $case_dir lacks groups or result/" >&2; exit 2; }

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
export LKP_SRC=${LKP_SRC:?set LKP_SRC to an lkp-tests checkout}
[[ -x $LKP_SRC/bin/lkp ]] || { echo "$0: no lkp-tests at $LKP_SRC" >&2; exit 2; }

# make sure the gems lkp requires are present (Debian packages; rubygems.org is not used)
if ! ruby -e 'require "git"; require "active_support"; require "tty-command"' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q ruby-git ruby-activesupport ruby-tty-command >&2 ||
    { echo "$0: cannot install ruby-git ruby-activesupport ruby-tty-command" >&2; exit 2; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkp-oracle.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lkp/result" "$tmp/lkp/data" "$tmp/lkp/paths"
cp -a "$case_dir/result/." "$tmp/lkp/result/"

groups=() commits=()
while IFS= read -r g || [[ -n $g ]]; do
  g=${g%/}; [[ -z $g ]] && continue
  [[ $g == result/* ]] || { echo "$0: group '$g' is not under result/" >&2; exit 2; }
  [[ -d $case_dir/$g ]] || { echo "$0: group '$g' missing" >&2; exit 2; }
  groups+=("/lkp/$g"); commits+=("$(basename "$g")")
done < "$case_dir/groups"
(( ${#groups[@]} >= 2 )) || { echo "$0: need at least 2 groups" >&2; exit 2; }

# the script run with /lkp = this case's private tree
inner=$tmp/inner.sh
cat > "$inner" <<'EOS'
set -u
src=$1 sel_flag=$2; shift 2
n=$(( $# / 2 ))
groups=("${@:1:n}"); commits=("${@:n+1}")
if [[ $src != /lkp ]]; then
  mount --bind "$src" /lkp || exit 3
fi
cd /lkp || exit 3
unset LKP_VERBOSE
ruby "$ORACLE_LIB/index-groups.rb" "${groups[@]}" >/dev/null || { echo "indexing failed" >&2; exit 4; }
exec "$LKP_SRC/bin/lkp" ncompare $sel_flag "${commits[@]}"
EOS
export ORACLE_LIB=$here

mkdir -p /lkp 2>/dev/null
if unshare -m --propagation private true 2>/dev/null; then
  unshare -m --propagation private bash "$inner" "$tmp/lkp" "$flag" "${groups[@]}" "${commits[@]}"
  rc=$?
  [[ $rc == 3 ]] || exit $rc
  echo "$0: bind mount failed inside namespace, falling back to locked real /lkp" >&2
fi
# fallback: serialize on a lock and use the real /lkp, wiped before and after
exec 9>/tmp/lkp-ncompare-oracle.lock
flock 9
rm -rf /lkp/result /lkp/data /lkp/paths
cp -a "$tmp/lkp/." /lkp/
bash "$inner" /lkp "$flag" "${groups[@]}" "${commits[@]}"
rc=$?
rm -rf /lkp/result /lkp/data /lkp/paths
exit $rc
