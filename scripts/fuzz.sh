#!/bin/sh
# Runs each libFuzzer target for SECONDS on a scratch copy of its seed corpus (with its
# dictionary, if tests/fuzz/dict has one) and prints its coverage: edges (cov) and features
# (ft: edges and how often each ran) reached by the seeds alone, and after fuzzing. A target
# whose coverage does not grow past its seeds fails (it would be fuzzing blind), as does any
# crash or failed check.
# usage: scripts/fuzz.sh BUILD_DIR SECONDS TARGET...
set -eu
build=$1 seconds=$2
shift 2
status=0
printf '%-16s %8s %8s %10s %10s %9s\n' target seed-cov cov seed-ft ft runs
for t in "$@"; do
    d=$(mktemp -d)
    cp tests/fuzz/corpus/"$t"/* "$d"/
    log=$(mktemp)
    dict=
    [ -f tests/fuzz/dict/"$t".dict ] && dict=-dict=tests/fuzz/dict/"$t".dict
    if ! "$build"/tests/fuzz/fuzz_"$t" $dict -max_total_time="$seconds" -max_len=512 \
        -print_final_stats=1 "$d" >"$log" 2>&1; then
        cat "$log"
        echo "fuzz_$t: FAILED" >&2
        status=1
    fi
    seed_cov=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -n 1)
    seed_ft=$(sed -n 's/.*INITED cov: [0-9]* ft: \([0-9]*\).*/\1/p' "$log" | head -n 1)
    cov=$(sed -n 's/.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    ft=$(sed -n 's/.*DONE *cov: [0-9]* ft: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    printf '%-16s %8s %8s %10s %10s %9s\n' "$t" "${seed_cov:-?}" "${cov:-?}" "${seed_ft:-?}" \
        "${ft:-?}" "${runs:-?}"
    if [ -z "$seed_ft" ] || [ -z "$ft" ] || [ "$ft" -le "$seed_ft" ]; then
        echo "fuzz_$t: coverage did not grow past its seed corpus" >&2
        status=1
    fi
    rm -rf "$d" "$log"
done
exit $status
