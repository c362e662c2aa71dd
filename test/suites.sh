# The test files `npm run test:node22` runs again on Node 22: the synth, package (both packages, and the scaffold a
# team installs them into) and CLI tests. They run there on Prometheus 3.5.3, so `npm run test:prometheus3` leaves
# them out: every Prometheus-backed test file runs once on 2.42 (jest on Node 20) and once on 3.5.3. Sourced from the
# repository root.
NODE22_TESTS="test/synth.test.ts test/package.test.ts test/init-cli.test.ts test/cli"
PROMETHEUS3_BIN=$PWD/.tools/prometheus-3/usr/bin/prometheus
