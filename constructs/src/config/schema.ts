import { z } from 'zod';
import { DEFAULT_NAMESPACES } from '../contract/labels';
import { backendIssues } from '../backend/backend';
import { monitoringConfig, remoteWriteAuthRules } from './monitoring';
import { networkConfig } from './network';
import { dnsLabel } from './rules';
import { imageDigestRules, runnerConfigSchema, runnerImageRules } from './runner';
import { classicRegressionProblems } from '../k6/regression-grammar';
import { defaultTests, testSchema } from './tests';

/** The platform config of one environment, composed from its sections, with the checks that span sections. */

/** The schema of one environment's platform config: every section, its defaults and the checks across sections. */
export const platformConfigSchema = z
  .strictObject({
    /** Environment name (dev, staging, prod): label value and output folder. */
    environment: dnsLabel(30).default('dev'),
    namespaces: z
      .strictObject({
        /** Namespace of kube-prometheus-stack and the dashboards. */
        monitoring: dnsLabel().default(DEFAULT_NAMESPACES.monitoring),
        /** Namespace of test scripts and runs. */
        loadTests: dnsLabel().default(DEFAULT_NAMESPACES.loadTests),
      })
      .prefault({}),
    monitoring: monitoringConfig.prefault({}),
    runner: runnerConfigSchema.prefault({}),
    network: networkConfig.prefault({}),
    tests: z.array(testSchema).default(() => defaultTests.map((t) => testSchema.parse(t))),
  })
  .superRefine((cfg, ctx) => {
    runnerImageRules(cfg.runner, ctx);
    imageDigestRules(cfg.runner, ctx);
    remoteWriteAuthRules(cfg.monitoring.remoteWriteUrl, cfg.runner.remoteWriteAuth, ctx);
    backendRules(cfg, ctx);
    const seen = new Map<string, number>();
    cfg.tests.forEach((t, i) => {
      const first = seen.get(t.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['tests', i, 'name'], input: t.name, message: `must be unique, already used by 'tests[${first}]'` });
      } else {
        seen.set(t.name, i);
      }
      if (!cfg.runner.nativeHistograms) {
        for (const p of classicRegressionProblems(t.regression ?? {}, t.thresholds))
          ctx.addIssue({ code: 'custom', path: ['tests', i, 'regression', ...p.path], input: p.input, message: p.message });
      }
    });
    const runIds = new Map<string, number>();
    cfg.tests.forEach((t, i) => {
      if (t.runId === undefined) return;
      const first = runIds.get(t.runId);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tests', i, 'runId'],
          input: t.runId,
          message: `must be unique, already the run id of 'tests[${first}]' (both runs would share their objects and testid)`,
        });
      } else runIds.set(t.runId, i);
    });
    if (cfg.namespaces.monitoring === cfg.namespaces.loadTests) {
      ctx.addIssue({
        code: 'custom',
        path: ['namespaces', 'loadTests'],
        input: cfg.namespaces.loadTests,
        message: `must differ from namespaces.monitoring (the load-test namespace gets its own restricted Pod Security level and NetworkPolicies)`,
      });
    }
    if (!cfg.monitoring.enabled && cfg.monitoring.remoteWriteUrl === undefined && cfg.monitoring.backend === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'remoteWriteUrl'],
        input: undefined,
        message: 'must be set when monitoring.enabled is false (runners need a Prometheus to write to)',
      });
    }
    if (cfg.monitoring.grafana.ingress.enabled && cfg.monitoring.grafana.ingress.host === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'grafana', 'ingress', 'host'],
        input: undefined,
        message: 'must be set when the ingress is enabled',
      });
    }
  });

/**
 * `monitoring.backend`: what its kind needs (backend.ts `backendIssues`), and no second, conflicting way to say where
 * runners write or how they authenticate.
 */
function backendRules(
  cfg: { monitoring: z.output<typeof monitoringConfig>; runner: { remoteWriteAuth?: unknown } },
  ctx: z.core.$RefinementCtx,
): void {
  const b = cfg.monitoring.backend;
  if (b === undefined) return;
  for (const issue of backendIssues(b)) {
    ctx.addIssue({ code: 'custom', path: ['monitoring', 'backend', ...issue.path], input: issue.input, message: issue.message });
  }
  if (cfg.monitoring.remoteWriteUrl !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['monitoring', 'remoteWriteUrl'],
      input: cfg.monitoring.remoteWriteUrl,
      message: 'must not be set with monitoring.backend (set monitoring.backend.remoteWriteUrl instead)',
    });
  }
  if (cfg.runner.remoteWriteAuth !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['runner', 'remoteWriteAuth'],
      input: undefined,
      message: 'must not be set with monitoring.backend (set monitoring.backend.auth instead: runners, the CLI and Grafana share it)',
    });
  }
}

/** The parsed, defaulted platform configuration of one environment. */
export type PlatformConfig = z.output<typeof platformConfigSchema>;
/** What a user writes: every member optional where a default exists. */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
