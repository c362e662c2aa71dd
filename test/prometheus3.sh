#!/usr/bin/env sh
# Every test file that starts a Prometheus (`startPrometheus(`) again on Prometheus 3.5.3, except those the Node 22 run
# already runs on it (test/suites.sh).
set -eu
cd "$(dirname "$0")/.."
. test/suites.sh
files=$(grep -rl --include='*.test.ts' --exclude-dir=node_modules 'startPrometheus(' cli test dashboards constructs | sort)
for t in $NODE22_TESTS; do files=$(printf '%s\n' $files | grep -v "^$t") || true; done
[ -n "$files" ] || { echo "test:prometheus3: no test file starts a Prometheus" >&2; exit 1; }
PROMETHEUS_BIN=$PROMETHEUS3_BIN exec node node_modules/jest/bin/jest.js $files "$@"
