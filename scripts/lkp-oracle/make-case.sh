#!/bin/bash
# make-case.sh <gen-case.rb|gen-hard.rb> <seed> <out_dir> -- generate a case and what the real lkp
# ncompare prints for it (expected.all, expected.default; ncompare.sh, $LKP_SRC). A case on which
# lkp itself fails (it does, on some stems that are not Ruby regexes) is removed, with a line on stderr.
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
gen=${1:?usage: $0 <gen-case.rb|gen-hard.rb> <seed> <out_dir>} seed=${2:?seed} out=${3:?out_dir}
rm -rf "$out"
ruby "$here/$gen" "$seed" "$out" > /dev/null || { echo "$out: generation failed" >&2; exit 1; }
for sel in all default; do
  if ! "$here/ncompare.sh" "$out" $sel > "$out/expected.$sel" 2> "$out/.stderr"; then
    echo "$out: lkp ncompare failed ($sel): $(grep -m1 ERROR "$out/.stderr")" >&2
    rm -rf "$out"
    exit 1
  fi
done
rm -f "$out/.stderr"
