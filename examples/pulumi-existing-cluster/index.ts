/** The Pulumi program (Pulumi.yaml `main`): resources in stack.ts, stack outputs here. */
import { platform } from './stack';

/** Where the runners write their metrics (the existing Prometheus). */
export const remoteWriteUrl = platform.remoteWriteUrl;
/** The tests deployed, by name. */
export const tests = platform.config.tests.map((t) => t.name);
