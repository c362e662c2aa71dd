/** The CLI's shared argument parsers and the options several commands declare the same way. */
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_PROMETHEUS_URL, RUN_ID, RUN_ID_MAX } from '@k6-platform/constructs/internal';
import { DEFAULT_ENVIRONMENT } from '@k6-platform/constructs/output';
import { UsageError } from '../exit-codes';
import { PROMETHEUS_PASSWORD_ENV, PROMETHEUS_TENANT_ENV, PROMETHEUS_TOKEN_ENV, PROMETHEUS_USER_ENV, redactUrl } from '../prometheus/auth';
import { JSON_SCHEMA_VERSION } from '../verdict/json';
import { DEFAULT_VERDICT_TIMEOUT_MS, VERDICT_EXIT_CODES } from '../verdict/verdict';

/** Environment variable naming the Prometheus base URL when `--prometheus` is not given. */
export const PROMETHEUS_URL_ENV = 'LOADTEST_PROMETHEUS_URL';
/** Environment variable naming the Grafana base URL when `--grafana` is not given. */
export const GRAFANA_URL_ENV = 'LOADTEST_GRAFANA_URL';
/** Environment variable with the verdict timeout (`30s`, `2m`) when `--timeout` is not given. */
export const TIMEOUT_ENV = 'LOADTEST_TIMEOUT';

/** What `--prometheus`, `--grafana` and their environment variables accept: an http(s) URL. */
export const HTTP_URL = /^https?:\/\/[^\s/]+(\/\S*)?$/;

/** An http(s) base URL without trailing slashes (for `--prometheus`, `--grafana`). */
export function httpUrl(value: string): string {
  return httpUrlOption('an http(s) URL option')(value);
}

/**
 * The parser of an http(s) base URL option named `flags` (e.g. `--prometheus <url>`). commander quotes a bad value in
 * its message; a value holding `user:pass@` is quoted here instead, with the credentials replaced by `***`.
 */
export function httpUrlOption(flags: string): (value: string) => string {
  return (value) => {
    if (HTTP_URL.test(value)) return value.replace(/\/+$/, '');
    const rule = 'must be an http(s) URL such as http://localhost:9090.';
    if (value.includes('@')) throw new UsageError(`option '${flags}' argument '${redactUrl(value)}' is invalid. ${rule}`);
    throw new InvalidArgumentError(rule);
  };
}

/** An environment name: a DNS label, since it becomes `Pulumi.<name>.yaml` and `dist/<name>/`. */
export function environmentName(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value))
    throw new InvalidArgumentError('must be an environment name such as "dev" (lower-case letters, digits, "-").');
  return value;
}

/** A run id (k6 testid) in the contract's grammar. */
export function runId(value: string): string {
  if (value.length > RUN_ID_MAX || !RUN_ID.test(value)) {
    throw new InvalidArgumentError(
      `must start with a lower-case letter, then lower-case letters, digits and "-", end alphanumeric, at most ${RUN_ID_MAX} characters.`,
    );
  }
  return value;
}

/** A duration such as `30s`, `1m30s`, `500ms` in milliseconds (for `--timeout`). */
export function timeoutMs(value: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(value);
  const ms = m === null || value === '' ? NaN : Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0);
  if (!(ms > 0)) throw new InvalidArgumentError('must be a positive duration such as "30s", "2m" or "1m30s".');
  return ms;
}

/** A Prometheus range duration such as `30m`, `24h`, `7d` (for `--since`). */
export function promDuration(value: string): string {
  if (!/^([0-9]+[smhdwy])+$/.test(value)) throw new InvalidArgumentError('must be a Prometheus duration such as "30m", "24h" or "7d".');
  return value;
}

/** Accumulates a repeated `--env` into a list, checking each name. */
export function collectEnv(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), environmentName(value)];
}

/** `--prometheus <url>`. */
export function prometheusOption(): Option {
  return new Option(
    '--prometheus <url>',
    `Prometheus base URL; user:password@ in it is basic auth, never printed (default: $${PROMETHEUS_URL_ENV}, else ${DEFAULT_PROMETHEUS_URL})`,
  ).argParser(httpUrlOption('--prometheus <url>'));
}

/** `--prometheus-token-file <file>`: a bearer token for Prometheus, read from a file (never printed). */
export function prometheusTokenFileOption(): Option {
  return new Option(
    '--prometheus-token-file <file>',
    `file holding a bearer token for Prometheus (default: $${PROMETHEUS_TOKEN_ENV}; basic auth: $${PROMETHEUS_USER_ENV} and $${PROMETHEUS_PASSWORD_ENV})`,
  );
}

/** `--prometheus-tenant <id>`: the tenant (org) id of a multi-tenant backend, sent in its tenant header. */
export function prometheusTenantOption(): Option {
  return new Option(
    '--prometheus-tenant <id>',
    `tenant (org) id for a multi-tenant backend, sent as the backend's tenant header, X-Scope-OrgID unless monitoring.backend names another (default: $${PROMETHEUS_TENANT_ENV}, else monitoring.backend.tenant)`,
  );
}

/** `--json`: the documented JSON document on stdout alone (docs/cli.md). */
export function jsonOption(): Option {
  return new Option('--json', `print one JSON document (schemaVersion ${JSON_SCHEMA_VERSION}, docs/cli.md) and nothing else on stdout`);
}

/** `--junit <file>`: the verdict as JUnit XML, one testcase per threshold. */
export function junitOption(): Option {
  return new Option('--junit <file>', 'also write the verdict as JUnit XML to <file> (one testsuite per run, one testcase per threshold)');
}

/** `--timeout <duration>`: the verdict's whole time budget. */
export function timeoutOption(): Option {
  return new Option(
    '--timeout <duration>',
    `how long the verdict may take over all its Prometheus queries, e.g. 30s, 2m (default: $${TIMEOUT_ENV}, else ${DEFAULT_VERDICT_TIMEOUT_MS / 1000}s); past it: exit ${VERDICT_EXIT_CODES.unreachable}`,
  ).argParser(timeoutMs);
}

/** `--env <name>`: one environment, `dev` by default. */
export function envOption(): Option {
  return new Option('--env <name>', 'environment: Pulumi.<name>.yaml (only dev runs on defaults without one)')
    .default(DEFAULT_ENVIRONMENT)
    .argParser(environmentName);
}
