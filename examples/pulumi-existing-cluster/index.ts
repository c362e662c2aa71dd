/** The Pulumi program (Pulumi.yaml `main`): resources in stack.ts, stack outputs here. */
import { platform, runObjects } from './stack';

/** Where the runners write their metrics (the existing Prometheus). */
export const remoteWriteUrl = platform.remoteWriteUrl;
/** The tests whose scripts are deployed, by name. */
export const tests = platform.config.tests.map((t) => t.name);
/** One run of each test, by name, as a kubectl List: applying it starts the run. */
export const runs = Object.fromEntries(Object.entries(runObjects).map(([name, items]) => [name, { apiVersion: 'v1', kind: 'List', items }]));
