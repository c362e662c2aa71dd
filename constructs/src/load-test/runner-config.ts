/**
 * Runner i's k6 config file (`--config`; k6 v1.7.1 internal/cmd/config.go reads options and `linger` from it). It holds
 * no thresholds: runners run with `--no-thresholds`. With setup once, no runner runs setup() or teardown() itself
 * (the starter runs them through runner 0's REST API), and runner 0 lingers after its run so that teardown() can run
 * once every runner has finished.
 */
export function runnerK6Config(executionSegment: string, index: number, setupOnce: boolean): Record<string, unknown> {
  return { executionSegment, ...(setupOnce ? { noSetup: true, noTeardown: true, ...(index === 0 ? { linger: true } : {}) } : {}) };
}

/** ConfigMap key of runner i's k6 config. */
export function runnerConfigKey(index: number): string {
  return `runner-${index}.json`;
}
