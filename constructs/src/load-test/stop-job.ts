import { k8s } from 'cdk8s-plus-27';
import { starterCommand } from '../k6/starter';
import { STARTER_UID, STOPPER_COMPONENT } from './constants';
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
  return k8s.KubeJob.manifest({
    metadata: meta(ctx, `${ctx.runId}-stop`, STOPPER_COMPONENT),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 120,
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels: podLabels(ctx, STOPPER_COMPONENT) },
        spec: {
          // The runners' ServiceAccount: no token, no RBAC; the stop needs neither.
          ...podBase(`${ctx.runId}-runner`),
          restartPolicy: 'Never',
          containers: [starterContainer(ctx, starterCommand(urls, { stop: true }), STARTER_UID)],
          volumes: [starterVolume(ctx)],
          ...(ctx.test.imagePullSecrets.length > 0 ? { imagePullSecrets: ctx.test.imagePullSecrets.map((name) => ({ name })) } : {}),
        },
      },
    },
  }) as Record<string, unknown>;
}
