/** Every dashboard of the repository, in build order. */
import type { DashboardDefinition } from './common';
import { k6LoadTest } from './k6-load-test';
import { k6LoadTestClassic } from './k6-load-test-classic';
import { k6Runs } from './k6-runs';
import { k6Compare } from './k6-compare';

export * from './common';
export * from './k6-load-test';
export * from './k6-load-test-classic';
export * from './k6-runs';
export * from './k6-compare';

/** The dashboards `npm run dashboards` writes to dashboards/generated/<uid>.json. */
export const DASHBOARDS: readonly DashboardDefinition[] = [k6LoadTest, k6LoadTestClassic, k6Runs, k6Compare];
export * from './recorded-queries';
