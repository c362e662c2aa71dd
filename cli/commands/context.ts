/** What every command shares: the CLI's context, the Prometheus client and timeout it resolves, test lookup. */
import type { PlatformConfig, TestConfig } from '@k6-platform/constructs/internal';
import { DEFAULT_PROMETHEUS_URL } from '@k6-platform/constructs/internal';
import { discoverEnvironments, environmentExists, loadEnvironmentConfig } from '@k6-platform/constructs/output';
import type { RunCluster } from '../cluster/cluster';
import { UsageError } from '../exit-codes';
import type { Colors, Output } from '../output';
import { BACKEND_APIS, resolveBackend, type QueryDialect, type ResolvedBackend } from '@k6-platform/constructs/internal';
import {
  PROMETHEUS_PASSWORD_ENV,
  PROMETHEUS_TENANT_ENV,
  PROMETHEUS_USER_ENV,
  redactUrl,
  resolvePrometheusAuth,
  splitCredentials,
  type PrometheusAuth,
} from '../prometheus/auth';
import { prometheusClient, type PrometheusClientOptions, type PromQuerier } from '../prometheus/client';
import type { FollowOptions } from '../run/follow';
import { UnknownTestError } from '../run/run-plan';
import { defaultJudge, type Judge } from '../verdict/judge';
import { DEFAULT_VERDICT_TIMEOUT_MS } from '../verdict/verdict';
import { HTTP_URL, PROMETHEUS_URL_ENV, TIMEOUT_ENV, timeoutMs } from './options';

/** Everything the CLI touches outside itself; tests replace the cluster, Prometheus, clock and signal. */
export interface CliContext {
  /** Where output goes (colors and the live progress line depend on its TTY flag). */
  readonly out: Output;
  /** Environment variables (NO_COLOR, LOADTEST_PROMETHEUS_URL, LOADTEST_GRAFANA_URL). */
  readonly env: NodeJS.ProcessEnv;
  /** Repository root: Pulumi.<env>.yaml, scripts/, dashboards/generated/, dist/. */
  readonly rootDir: string;
  /** Connects to a cluster. @default - the current kube-context through @kubernetes/client-node (cli/cluster/kube.ts) */
  readonly connect?: (context?: string) => Promise<RunCluster>;
  /** Makes a Prometheus client for a base URL. @default - HTTP client of cli/prometheus/client.ts */
  readonly prometheus?: (url: string) => PromQuerier;
  /** Judges a run and prints the table. @default - cli/verdict/verdict.ts */
  readonly judge?: Judge;
  /** The clock. @default - the system clock */
  readonly now?: () => Date;
  /** Aborted on Ctrl-C. @default - never aborted */
  readonly signal?: AbortSignal;
  /** Waits between polls. @default - a timer */
  readonly sleep?: FollowOptions['sleep'];
  /** Milliseconds between polls of `run`. @default 2000 */
  readonly pollIntervalMs?: number;
  /** Milliseconds between abortOnFail evaluations of `run`. @default - the runners' push interval (`runner.pushInterval`) */
  readonly abortIntervalMs?: number;
  /** A multi-cluster `run`: how far ahead the shared start time is. @default START_LEAD_MS of cli/commands/run.ts */
  readonly startLeadMs?: number;
  /** A multi-cluster `run`: how late a cluster may resume. @default MAX_START_LATE_MS of cli/commands/run.ts */
  readonly maxStartLateMs?: number;
}

/** Where an action stores its exit code. */
export interface CommandResult {
  /** The exit code of the command that ran. */
  code: number;
}

/** A Prometheus base URL and its client. */
export interface ResolvedPrometheus {
  /** The base URL (from the option, the environment, or the default), without credentials: safe to print. */
  readonly base: string;
  /** The client for it. */
  readonly client: PromQuerier;
  /** The credentials its requests carry (never printed). */
  readonly auth?: PrometheusAuth;
}

/** The Prometheus options a command declares (`--prometheus`, `--prometheus-token-file`, `--prometheus-tenant`). */
export interface PrometheusFlags {
  readonly prometheus?: string;
  readonly prometheusTokenFile?: string;
  readonly prometheusTenant?: string;
}

const nonEmpty = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined);

/**
 * The tenant headers of the queries: `--prometheus-tenant` / `$LOADTEST_PROMETHEUS_TENANT` in the backend's tenant
 * header (X-Scope-OrgID when the config names no backend: Mimir's and Cortex's), else the config's own tenant headers.
 */
function tenantHeaders(tenant: string | undefined, backend: ResolvedBackend | undefined): Record<string, string> | undefined {
  if (tenant !== undefined) {
    if (!/^[\x21-\x7e]+$/.test(tenant)) {
      throw new UsageError(
        `the tenant of --prometheus-tenant / $${PROMETHEUS_TENANT_ENV} must be printable ASCII without spaces, got ${JSON.stringify(tenant)}`,
      );
    }
    const header =
      backend?.config.tenantHeader ?? (backend !== undefined ? BACKEND_APIS[backend.config.kind].tenantHeader : undefined) ?? 'X-Scope-OrgID';
    return { [header]: tenant };
  }
  return backend !== undefined && Object.keys(backend.headers).length > 0 ? { ...backend.headers } : undefined;
}

/** The environment, with the backend's basic-auth user name from the config when only the password is given there. */
function backendUserEnv(env: NodeJS.ProcessEnv, backend: ResolvedBackend | undefined): NodeJS.ProcessEnv {
  const auth = backend?.config.auth;
  if (auth?.type !== 'basic' || nonEmpty(env[PROMETHEUS_USER_ENV]) !== undefined || nonEmpty(env[PROMETHEUS_PASSWORD_ENV]) === undefined) return env;
  return { ...env, [PROMETHEUS_USER_ENV]: auth.username };
}

/** The context with its defaults filled in, and the resolvers the commands share. */
export interface CommandKit {
  /** The context the program was built with. */
  readonly ctx: CliContext;
  /** `ctx.out`. */
  readonly out: Output;
  /** `ctx.out.colors`. */
  readonly c: Colors;
  /** The judge (the context's or the verdict of cli/verdict/verdict.ts). */
  readonly judge: Judge;
  /** The clock. */
  readonly now: () => Date;
  /**
   * The Prometheus of `--prometheus`, else `$LOADTEST_PROMETHEUS_URL`, else the query URL of the config's
   * `monitoring.backend`, else the contract's default, with the credentials of cli/prometheus/auth.ts and the tenant
   * headers (`--prometheus-tenant`, `$LOADTEST_PROMETHEUS_TENANT`, else the backend's).
   */
  readonly prometheusOf: (flags: PrometheusFlags, options?: PrometheusClientOptions, cfg?: PlatformConfig) => ResolvedPrometheus;
  /** The verdict timeout of `--timeout`, else `$LOADTEST_TIMEOUT`, else the verdict's default. */
  readonly timeoutOf: (opt: number | undefined) => number;
}

/** Fills in the context's defaults once for all commands. */
export function commandKit(ctx: CliContext): CommandKit {
  const { out } = ctx;
  const c = out.colors;
  const prometheusOf = (flags: PrometheusFlags, options?: PrometheusClientOptions, cfg?: PlatformConfig): ResolvedPrometheus => {
    const fromEnv = ctx.env[PROMETHEUS_URL_ENV];
    if (flags.prometheus === undefined && fromEnv !== undefined && fromEnv !== '' && !HTTP_URL.test(fromEnv)) {
      throw new UsageError(`$${PROMETHEUS_URL_ENV} must be an http(s) URL such as http://localhost:9090. Got ${JSON.stringify(redactUrl(fromEnv))}.`);
    }
    const backend = cfg?.monitoring.backend !== undefined ? resolveBackend(cfg.monitoring.backend) : undefined;
    const raw = flags.prometheus ?? (fromEnv !== '' ? fromEnv : undefined) ?? backend?.queryUrl ?? DEFAULT_PROMETHEUS_URL;
    const { url: base, basic } = splitCredentials(raw.replace(/\/+$/, ''));
    const credentials = resolvePrometheusAuth({
      env: backendUserEnv(ctx.env, backend),
      ...(flags.prometheusTokenFile !== undefined ? { tokenFile: flags.prometheusTokenFile } : {}),
      ...(basic !== undefined ? { urlBasic: basic } : {}),
    });
    const headers = tenantHeaders(flags.prometheusTenant ?? nonEmpty(ctx.env[PROMETHEUS_TENANT_ENV]), backend);
    const auth = credentials !== undefined || headers !== undefined ? { ...credentials, ...(headers !== undefined ? { headers } : {}) } : undefined;
    const client =
      ctx.prometheus !== undefined ? ctx.prometheus(base) : prometheusClient(base, { ...options, ...(auth !== undefined ? { auth } : {}) });
    return { base, client, ...(auth !== undefined ? { auth } : {}) };
  };
  const timeoutOf = (opt: number | undefined): number => {
    if (opt !== undefined) return opt;
    const fromEnv = ctx.env[TIMEOUT_ENV];
    if (fromEnv === undefined || fromEnv === '') return DEFAULT_VERDICT_TIMEOUT_MS;
    try {
      return timeoutMs(fromEnv);
    } catch (e) {
      throw new UsageError(`$${TIMEOUT_ENV} ${(e as Error).message} Got ${JSON.stringify(fromEnv)}.`);
    }
  };
  return { ctx, out, c, judge: ctx.judge ?? defaultJudge, now: ctx.now ?? (() => new Date()), prometheusOf, timeoutOf };
}

/** The test named `name` in the environment's config, or an {@link UnknownTestError} listing the tests there are. */
export function findTest(cfg: PlatformConfig, name: string): TestConfig {
  const test = cfg.tests.find((t) => t.name === name);
  if (test === undefined) throw new UnknownTestError(name, cfg);
  return test;
}

/** How the environment's runners write trends, for the verdict's queries. */
export function trendsOf(cfg: PlatformConfig): 'native' | 'classic' {
  return cfg.runner.nativeHistograms ? 'native' : 'classic';
}

/** The query dialect of the environment's metrics backend (`monitoring.backend.kind`), for the verdict's queries. */
export function dialectOf(cfg: PlatformConfig): QueryDialect {
  return cfg.monitoring.backend !== undefined ? resolveBackend(cfg.monitoring.backend).dialect : 'prometheus';
}

/** The output with stdout swallowed (errors still shown). */
export function silent(out: Output): Output {
  return { ...out, write: () => undefined };
}

/**
 * The config of `--env`: an environment without its stack file is a usage error (exit 2) naming the environments
 * the repository has, and saying where the CLI looked, since a wrong directory is the usual cause.
 */
export function environmentConfig(rootDir: string, env: string): PlatformConfig {
  requireEnvironment(rootDir, env);
  return loadEnvironmentConfig(rootDir, env);
}

/** Throws the usage error of {@link environmentConfig} when `env` has no stack file in `rootDir` (`dev` needs none). */
export function requireEnvironment(rootDir: string, env: string): void {
  if (!environmentExists(rootDir, env)) {
    throw new UsageError(
      `--env ${env}: there is no Pulumi.${env}.yaml in ${rootDir} (environments there: ${discoverEnvironments(rootDir).join(', ')}); ` +
        `pick one of those, or run from the repository's root (or pass --root <dir>)`,
    );
  }
}
