#!/bin/bash
# The activity record's cost on the mail path: instructions per app-password check on
# /auth/nginx with the record on (activity_days=30, the default: every decision queued,
# written in batches by the writer thread, whose work callgrind counts too) against off
# (activity_days=0), the same build, one after the other in one run.
#
# Usage: bench/activity.sh [KUNCI]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KUNCI=$(realpath "${1:-build/kunci}")
on=$(KUNCI_SETTINGS="activity_days=30" "$HERE/instructions.sh" "$KUNCI" | awk '{print $5}')
off=$(KUNCI_SETTINGS="activity_days=0" "$HERE/instructions.sh" "$KUNCI" | awk '{print $5}')
echo "instructions per app-password check, activity record on:  $on"
echo "instructions per app-password check, activity record off: $off"
python3 -c "print(f'ratio on/off: {$on / $off:.3f}')"
