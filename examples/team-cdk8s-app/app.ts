/**
 * A service team's own cdk8s app on top of the platform library: the team keeps its k6 scripts next to this file and
 * declares its test here (custom thresholds, two runners, one per node) instead of forking the platform repository.
 */
import * as path from 'node:path';
import { App } from 'cdk8s';
import { LoadTestPlatform } from '@k6-platform/constructs';

/** Nodes of the team's load-generator node pool (labelled `pool=loadgen`). */
export const LOADGEN_NODES = 2;

/** Builds the team's app; `main.ts` synthesizes it into `outdir`. */
export function buildTeamApp(outdir = path.join(__dirname, 'dist')): { app: App; platform: LoadTestPlatform } {
  const app = new App({ outdir, outputFileExtension: '.k8s.yaml' });
  const platform = new LoadTestPlatform(app, 'Checkout', {
    environment: 'staging',
    scriptsDir: path.join(__dirname, 'scripts'),
    namespaces: { loadTests: 'checkout-perf' },
    nodeCount: LOADGEN_NODES,
    tests: [
      {
        name: 'checkout-api',
        script: 'checkout.js',
        // Two runners, each on its own node of the load-generator pool (required pod anti-affinity per hostname).
        parallelism: 2,
        onePerNode: true,
        nodeSelector: { pool: 'loadgen' },
        vus: 50,
        duration: '5m',
        // The team's own pass/fail criteria, judged over both runners together.
        thresholds: {
          'http_req_duration{scenario:browse}': ['p(95)<400'],
          http_req_failed: ['rate<0.005'],
        },
        env: { BASE_URL: 'https://checkout.staging.example.com' },
        targets: [{ cidr: '203.0.113.0/24', ports: [443] }],
      },
    ],
  });
  return { app, platform };
}
