#!/usr/bin/env sh
# `npm test`: lint, every jest test on Node 20 (Prometheus 2.42), the Prometheus-backed ones again on Prometheus 3.5.3
# (test/prometheus3.sh), and the synth, package and CLI tests on Node 22 (test/node22.sh). Lint and the Node 22 run
# go beside the Node 20 jest run from the start: many tests wait on child processes (npm install, the synth app,
# Prometheus), so running them alongside keeps both cores busy. Their output is printed after the jest runs; any
# failure fails the whole, with the first failure's exit code.
set -u
cd "$(dirname "$0")/.."
outlint=$(mktemp)
out22=$(mktemp)
trap 'rm -f "$outlint" "$out22"' EXIT
npm run lint >"$outlint" 2>&1 &
pidlint=$!
sh test/node22.sh >"$out22" 2>&1 &
pid22=$!
rc=0
node node_modules/jest/bin/jest.js || rc=$?
if [ "$rc" -eq 0 ]; then sh test/prometheus3.sh || rc=$?; fi
rclint=0
wait "$pidlint" || rclint=$?
echo "== npm run lint =="
cat "$outlint"
rc22=0
wait "$pid22" || rc22=$?
echo "== npm run test:node22 (Node 22, Prometheus 3.5.3) =="
cat "$out22"
[ "$rc" -ne 0 ] || rc=$rclint
[ "$rc" -ne 0 ] || rc=$rc22
exit "$rc"
