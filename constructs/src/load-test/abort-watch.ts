/**
 * The in-cluster abortOnFail watcher of a scheduled run: its file in the run's ConfigMap and the starter's environment
 * (constructs/src/k6/starter.sh evaluates it beside runner 0). Only scheduled runs carry it: a run that `loadtest run`
 * starts is watched by the CLI itself (cli/run/abort-watch.ts), and two watchers would race to stop it.
 */
import { ABORT_WATCH_KEY, abortWatchFile } from '../k6/abort-watch-file';
import { k6DurationSeconds, type TestConfig } from '../config/platform-config';
import { STARTER_MOUNT_PATH } from '../k6/starter';
import type { k8s } from 'cdk8s-plus-27';
import { RUNNER_CONFIG_DEFAULTS } from './constants';
import type { LoadTestProps } from './props';
import type { ResolvedBackend } from '../backend/backend';
import type { RemoteWriteAuth } from '../config/platform-config';
import { secretEnv } from './resources';
import type { RunContext } from './run-context';
import type { ThresholdsConfig } from '../k6/thresholds';

/** The remote-write path of Prometheus; its query API sits beside it under /api/v1/query. */
const PROMETHEUS_WRITE_PATH = '/api/v1/write';

/** The watch file of a scheduled test with abortOnFail thresholds, else undefined. */
export function scheduledAbortWatch(test: TestConfig, props: LoadTestProps, thresholds: ThresholdsConfig): string | undefined {
  if (test.schedule === undefined) return undefined;
  const native = props.runner?.nativeHistograms ?? RUNNER_CONFIG_DEFAULTS.nativeHistograms;
  const file = abortWatchFile(thresholds, native ? 'native' : 'classic', props.backend?.dialect);
  if (file === undefined) return undefined;
  prometheusQueryUrl(test, props);
  const tls = props.backend?.config.tls;
  if (tls?.caSecret !== undefined || tls?.clientCertSecret !== undefined) {
    // The starter container mounts none of the backend's TLS Secrets: refuse rather than watch with the wrong trust.
    throw new Error(
      `LoadTest: test '${test.name}' is scheduled and has abortOnFail thresholds, which the starter evaluates at the backend's query API; ` +
        "the starter cannot present 'monitoring.backend.tls.clientCertSecret' or trust 'monitoring.backend.tls.caSecret' yet: " +
        'run it with `loadtest run` (which watches abortOnFail itself), or drop abortOnFail from its thresholds',
    );
  }
  return file;
}

/**
 * Where the watcher queries: `prometheusQueryUrl`, else the backend's query URL (`monitoring.backend`), else the
 * remote-write URL without its `/api/v1/write` (Prometheus serves both). Any other endpoint needs the prop.
 */
export function prometheusQueryUrl(test: TestConfig, props: LoadTestProps): string {
  if (props.prometheusQueryUrl !== undefined) return props.prometheusQueryUrl;
  if (props.backend !== undefined) return props.backend.queryUrl;
  const url = props.remoteWriteUrl.replace(/\/+$/, '');
  if (url.endsWith(PROMETHEUS_WRITE_PATH)) return url.slice(0, -PROMETHEUS_WRITE_PATH.length);
  throw new Error(
    `LoadTest: test '${test.name}' is scheduled and has abortOnFail thresholds, which the starter evaluates at the Prometheus query API; ` +
      `'remoteWriteUrl' (${props.remoteWriteUrl.replace(/^(https?:\/\/)[^\s/@]*@/i, '$1***@')}) does not end in ${PROMETHEUS_WRITE_PATH}, so set 'prometheusQueryUrl'`,
  );
}

/** The starter's environment for the watch: the file, the push interval, the query URL, the run id and credentials. */
export function abortWatchEnv(ctx: RunContext, runIdRef: string): k8s.EnvVar[] {
  if (ctx.abortWatch === undefined) return [];
  const r = ctx.props.runner ?? {};
  const auth = r.remoteWriteAuth;
  return [
    { name: 'ABORT_WATCH_FILE', value: `${STARTER_MOUNT_PATH}/${ABORT_WATCH_KEY}` },
    // Runners' samples reach Prometheus once per push: a shorter interval would re-read the same data.
    {
      name: 'ABORT_INTERVAL_SECONDS',
      value: String(Math.max(1, Math.ceil(k6DurationSeconds(r.pushInterval ?? RUNNER_CONFIG_DEFAULTS.pushInterval)))),
    },
    { name: 'PROMETHEUS_QUERY_URL', value: prometheusQueryUrl(ctx.test, ctx.props) },
    { name: 'RUN_TESTID', value: runIdRef },
    ...watchCredentials(ctx.props.backend, auth),
  ];
}

/** The query API's credentials and tenant headers: the backend's, else the remote-write credentials of Prometheus. */
function watchCredentials(backend: ResolvedBackend | undefined, auth: RemoteWriteAuth | undefined): k8s.EnvVar[] {
  if (backend !== undefined) {
    const a = backend.config.auth;
    const headers = Object.entries(backend.headers).map(([name, value]) => `${name}: ${value}`);
    return [
      ...(headers.length > 0 ? [{ name: 'PROMETHEUS_HEADERS', value: headers.join('\n') }] : []),
      ...(a?.type === 'basic' ? [{ name: 'PROMETHEUS_USERNAME', value: a.username }, secretEnv('PROMETHEUS_PASSWORD', a.passwordSecret)] : []),
      ...(a?.type === 'bearer' ? [secretEnv('PROMETHEUS_BEARER_TOKEN', a.tokenSecret)] : []),
      ...(backend.config.tls.insecureSkipVerify ? [{ name: 'PROMETHEUS_INSECURE', value: 'true' }] : []),
    ];
  }
  // The remote-write credentials read the same endpoint's query API.
  if (auth?.type === 'basic') return [secretEnv('PROMETHEUS_USERNAME', auth.username), secretEnv('PROMETHEUS_PASSWORD', auth.password)];
  if (auth?.type === 'bearer') return [secretEnv('PROMETHEUS_BEARER_TOKEN', auth.token)];
  return [];
}
