import { k8s } from 'cdk8s-plus-27';
import { starterCommand } from '../k6/starter';
import { START_COMPONENT, STARTER_UID, STOPPER_COMPONENT } from './constants';
import { meta, operatorRunnerUrls, podBase, podLabels, runnerUrls, starterContainer, starterVolume, type RunContext } from './run-context';

/**
 * The manifest of the Job that stops an unscheduled run of either mode: it asks every runner to stop through k6's REST
 * API (`PATCH /v1/status`, `stopped: true`) from inside the namespace, where the runners' NetworkPolicy admits it.
 */
export function stopJobManifest(ctx: RunContext): Record<string, unknown> {
  if (ctx.test.schedule !== undefined) {
    throw new Error(`LoadTest: test '${ctx.test.name}' has no stop Job (only unscheduled runs have one)`);
  }
  const urls = ctx.test.mode === 'operator' ? operatorRunnerUrls(ctx) : runnerUrls(ctx);
  return starterJob(ctx, `${ctx.runId}-stop`, STOPPER_COMPONENT, 120, starterContainer(ctx, starterCommand(urls, { stop: true }), STARTER_UID));
}

/**
 * A one-shot Job of the starter script, a REST client of the runners: the runners' ServiceAccount (no token, no RBAC;
 * it needs neither), never retried, gone 10 minutes after it ends.
 */
function starterJob(ctx: RunContext, name: string, component: string, deadlineSeconds: number, container: k8s.Container): Record<string, unknown> {
  return k8s.KubeJob.manifest({
    metadata: meta(ctx, name, component),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: deadlineSeconds,
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels: podLabels(ctx, component) },
        spec: {
          ...podBase(`${ctx.runId}-runner`),
          restartPolicy: 'Never',
          containers: [container],
          volumes: [starterVolume(ctx)],
          ...(ctx.test.imagePullSecrets.length > 0 ? { imagePullSecrets: ctx.test.imagePullSecrets.map((name) => ({ name })) } : {}),
        },
      },
    },
  }) as Record<string, unknown>;
}

/** How long the start Job's starter waits for runners that are not (or no longer) paused and ready. */
const START_JOB_READY_SECONDS = 30;

/**
 * The manifest of the Job that resumes one cluster's runners of a multi-cluster run at `startAtMs` (unix ms), the
 * time every cluster's start Job gets. It is a REST client of the runners like the stop Job, with a NetworkPolicy
 * of its own (component `start`); `maxLateMs` bounds how late it may resume (then it resumes nothing and fails).
 */
export function startJobManifest(ctx: RunContext, startAtMs: number, maxLateMs: number): Record<string, unknown> {
  if (ctx.shard === undefined) throw new Error(`LoadTest: test '${ctx.test.name}' has no start Job (only a run over several clusters has one)`);
  if (!Number.isSafeInteger(startAtMs) || startAtMs <= 0)
    throw new Error(`LoadTest: the start time must be a positive unix time in ms, got ${startAtMs}`);
  if (!Number.isSafeInteger(maxLateMs) || maxLateMs < 0)
    throw new Error(`LoadTest: the start bound must be a non-negative number of ms, got ${maxLateMs}`);
  const env = [
    { name: 'START_AT', value: String(startAtMs) },
    { name: 'MAX_LATE_MS', value: String(maxLateMs) },
    { name: 'START_TIMEOUT_SECONDS', value: String(START_JOB_READY_SECONDS) },
  ];
  const container = { ...starterContainer(ctx, starterCommand(runnerUrls(ctx), { resume: true }), STARTER_UID), env };
  return starterJob(ctx, `${ctx.runId}-start`, START_COMPONENT, 300, container);
}
