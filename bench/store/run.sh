#!/usr/bin/env bash
# The store benchmark, as reported in the issue: builds the release preset, runs store_bench
# three times (the 1 M-record dataset is built by the first run and reused by the others;
# ingest is measured afresh each run), and prints the median of every figure.
#
#   bench/store/run.sh [DIR] [extra store_bench arguments...]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/store-bench}
shift || true
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
cmake --preset release >/dev/null
cmake --build build/release --target store_bench -j2 >/dev/null
mkdir -p "$dir"
rm -f "$dir"/sample.txt  # a fresh dataset for this run
for i in 1 2 3; do
  reuse=""
  [[ $i -gt 1 ]] && reuse="--reuse"
  echo "== run $i" >&2
  build/release/bench/store/store_bench --dir "$dir" $reuse "$@" | tee "$dir/run$i.txt" >&2
done
python3 - "$dir" <<'PY'
import statistics, sys, collections
runs = collections.OrderedDict()
targets = {}
for i in (1, 2, 3):
    for line in open(f"{sys.argv[1]}/run{i}.txt"):
        parts = line.split()
        if len(parts) < 3:
            continue
        name, value, unit = parts[0], float(parts[1]), parts[2]
        runs.setdefault(name, []).append(value)
        targets[name] = (unit, " ".join(parts[3:]))
print(f"{'figure':34} {'median':>14} {'unit':8} {'runs':>6}  target")
for name, values in runs.items():
    unit, target = targets[name]
    print(f"{name:34} {statistics.median(values):14.3f} {unit:8} {len(values):>6}  {target}")
PY
