#!/usr/bin/env sh
# `npm test`: lint, every jest test on Node 20 (Prometheus 2.42), the Prometheus-backed ones again on Prometheus 3.5.3
# (test/prometheus3.sh), and the synth, package and CLI tests on Node 22 (test/node22.sh). The Node 22 run starts
# first, beside the others: many of its tests wait on child processes (npm install, the synth app, Prometheus), so
# running it alongside keeps both cores busy. Its output is printed after the rest; the exit code is the first failure's.
set -u
cd "$(dirname "$0")/.."
out22=$(mktemp)
trap 'rm -f "$out22"' EXIT
sh test/node22.sh >"$out22" 2>&1 &
pid22=$!
rc=0
npm run lint || rc=$?
if [ "$rc" -eq 0 ]; then node node_modules/jest/bin/jest.js || rc=$?; fi
if [ "$rc" -eq 0 ]; then sh test/prometheus3.sh || rc=$?; fi
rc22=0
wait "$pid22" || rc22=$?
echo "== npm run test:node22 (Node 22, Prometheus 3.5.3) =="
cat "$out22"
[ "$rc" -ne 0 ] || rc=$rc22
exit "$rc"
