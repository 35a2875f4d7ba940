#!/bin/sh
# Runs each libFuzzer target for SECONDS on a scratch copy of its seed corpus (with its
# dictionary, if tests/fuzz/dict has one) and prints its coverage: edges (cov) and features
# (ft: edges and how often each ran) reached by the seeds alone, and after fuzzing. A target
# whose coverage does not grow past its seeds fails (it would be fuzzing blind), as does any
# crash or failed check.
# usage: scripts/fuzz.sh BUILD_DIR SECONDS TARGET...   (FUZZ_JOBS: how many at once)
set -eu
build=$1 seconds=$2
shift 2
# Targets run side by side, as many as there are cores (FUZZ_JOBS): each still has a core of
# its own for its SECONDS, and the whole takes half the time on the CI's two cores.
jobs=${FUZZ_JOBS:-$(nproc)}
results=$(mktemp -d)

# Fuzzes one target; writes its line of the table to $results/$t.line, and what went wrong
# (its log, the reason) to $results/$t.failed.
fuzz_one() {
    t=$1
    d=$(mktemp -d)
    cp tests/fuzz/corpus/"$t"/* "$d"/
    log=$(mktemp)
    dict=
    [ -f tests/fuzz/dict/"$t".dict ] && dict=-dict=tests/fuzz/dict/"$t".dict
    if ! "$build"/tests/fuzz/fuzz_"$t" $dict -max_total_time="$seconds" -max_len=512 \
        -print_final_stats=1 "$d" >"$log" 2>&1; then
        { cat "$log"; echo "fuzz_$t: FAILED"; } >>"$results/$t.failed"
    fi
    seed_cov=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -n 1)
    seed_ft=$(sed -n 's/.*INITED cov: [0-9]* ft: \([0-9]*\).*/\1/p' "$log" | head -n 1)
    cov=$(sed -n 's/.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    ft=$(sed -n 's/.*DONE *cov: [0-9]* ft: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    printf '%-16s %8s %8s %10s %10s %9s\n' "$t" "${seed_cov:-?}" "${cov:-?}" "${seed_ft:-?}" \
        "${ft:-?}" "${runs:-?}" >"$results/$t.line"
    if [ -z "$seed_ft" ] || [ -z "$ft" ] || [ "$ft" -le "$seed_ft" ]; then
        echo "fuzz_$t: coverage did not grow past its seed corpus" >>"$results/$t.failed"
    fi
    rm -rf "$d" "$log"
}

running=0
for t in "$@"; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait

status=0
printf '%-16s %8s %8s %10s %10s %9s\n' target seed-cov cov seed-ft ft runs
for t in "$@"; do
    cat "$results/$t.line" 2>/dev/null || echo "$t: no result"
    if [ -f "$results/$t.failed" ] || [ ! -f "$results/$t.line" ]; then
        cat "$results/$t.failed" >&2 2>/dev/null || true
        status=1
    fi
done
rm -rf "$results"
exit $status
