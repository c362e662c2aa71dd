/**
 * Credentials for a Prometheus behind auth (a reverse proxy, Grafana Cloud, an ingress with basic auth): a bearer token
 * or basic auth, from the environment, a token file, or the URL's `user:pass@`. Secrets are never printed: URLs are
 * shown without their credentials, and messages name the variable or file, never the value.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../exit-codes';

/** Environment variable with a bearer token for Prometheus. */
export const PROMETHEUS_TOKEN_ENV = 'LOADTEST_PROMETHEUS_TOKEN';
/** Environment variable with the basic-auth user for Prometheus (with {@link PROMETHEUS_PASSWORD_ENV}). */
export const PROMETHEUS_USER_ENV = 'LOADTEST_PROMETHEUS_USER';
/** Environment variable with the basic-auth password for Prometheus (with {@link PROMETHEUS_USER_ENV}). */
export const PROMETHEUS_PASSWORD_ENV = 'LOADTEST_PROMETHEUS_PASSWORD';
/** Environment variable with the tenant (org) id of a multi-tenant backend when `--prometheus-tenant` is not given. */
export const PROMETHEUS_TENANT_ENV = 'LOADTEST_PROMETHEUS_TENANT';

/** How requests to Prometheus authenticate: at most one of the two credentials, and the tenant headers. */
export interface PrometheusAuth {
  /** `Authorization: Bearer <token>`. */
  readonly bearerToken?: string;
  /** `Authorization: Basic base64(<user>:<password>)`. */
  readonly basic?: { readonly user: string; readonly password: string };
  /** Headers naming the tenant of a multi-tenant backend (`X-Scope-OrgID: team-a`), sent with every query. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The `Authorization` header value of `auth`, if any. */
export function authorizationHeader(auth: PrometheusAuth | undefined): string | undefined {
  if (auth?.bearerToken !== undefined) return `Bearer ${auth.bearerToken}`;
  if (auth?.basic !== undefined) return `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.password}`).toString('base64')}`;
  return undefined;
}

/**
 * A base URL without its `user:pass@` (fetch refuses URLs with credentials, and messages must not show them), and
 * the basic auth it carried.
 */
export function splitCredentials(baseUrl: string): { readonly url: string; readonly basic?: PrometheusAuth['basic'] } {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    return { url: redactUrl(baseUrl) };
  }
  if (u.username === '' && u.password === '') return { url: baseUrl };
  const basic = { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  // URL adds a "/" to a bare origin; the base URL had none (or had it trimmed)
  const url = u.toString().replace(/\/+$/, '');
  return { url, basic };
}

/** A URL as it may be printed: anything before the last `@` of the authority (after `scheme://`, if any) replaced by `***`. */
export function redactUrl(s: string): string {
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i, '$1***@');
}

/** Where the credentials come from, besides the environment variables. */
export interface AuthSources {
  /** The environment. */
  readonly env: NodeJS.ProcessEnv;
  /** `--prometheus-token-file`, read at once (so a missing file is a usage error before any query). */
  readonly tokenFile?: string;
  /** The `user:pass@` of the Prometheus URL. */
  readonly urlBasic?: PrometheusAuth['basic'];
}

/** A bearer token read from `file`: one line, surrounding whitespace trimmed. */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new UsageError(
      `--prometheus-token-file ${file}: cannot read it (${typeof code === 'string' ? code : String(e)}); give a file holding the token`,
    );
  }
  const token = text.trim();
  if (token === '') throw new UsageError(`--prometheus-token-file ${file} is empty; it must hold the bearer token`);
  if (/[\r\n]/.test(token)) throw new UsageError(`--prometheus-token-file ${file} holds more than one line; it must hold only the bearer token`);
  return token;
}

/**
 * The credentials to use: a bearer token (`--prometheus-token-file`, else `$LOADTEST_PROMETHEUS_TOKEN`) or basic
 * auth (`$LOADTEST_PROMETHEUS_USER` and `$LOADTEST_PROMETHEUS_PASSWORD`, else the URL's `user:pass@`); both kinds at
 * once, or a user without a password, is a usage error.
 */
export function resolvePrometheusAuth(src: AuthSources): PrometheusAuth | undefined {
  const value = (name: string) => ((src.env[name] ?? '') !== '' ? src.env[name] : undefined);
  const token = src.tokenFile !== undefined ? readTokenFile(src.tokenFile) : value(PROMETHEUS_TOKEN_ENV);
  const user = value(PROMETHEUS_USER_ENV);
  const password = value(PROMETHEUS_PASSWORD_ENV);
  if ((user === undefined) !== (password === undefined)) {
    const [set, missing] = user !== undefined ? [PROMETHEUS_USER_ENV, PROMETHEUS_PASSWORD_ENV] : [PROMETHEUS_PASSWORD_ENV, PROMETHEUS_USER_ENV];
    throw new UsageError(`$${set} is set but $${missing} is not: basic auth for Prometheus needs both`);
  }
  const basic = user !== undefined && password !== undefined ? { user, password } : src.urlBasic;
  if (token !== undefined && basic !== undefined) {
    const tokenFrom = src.tokenFile !== undefined ? '--prometheus-token-file' : `$${PROMETHEUS_TOKEN_ENV}`;
    const basicFrom = user !== undefined ? `$${PROMETHEUS_USER_ENV}/$${PROMETHEUS_PASSWORD_ENV}` : 'the user:password@ of the Prometheus URL';
    throw new UsageError(`Prometheus credentials given twice: a bearer token (${tokenFrom}) and basic auth (${basicFrom}); give one`);
  }
  if (token !== undefined) {
    // An invalid header value would make fetch throw a message that quotes it.
    if (!/^[\x21-\x7e]+$/.test(token)) {
      const from = src.tokenFile !== undefined ? `--prometheus-token-file ${src.tokenFile}` : `$${PROMETHEUS_TOKEN_ENV}`;
      throw new UsageError(`the bearer token of ${from} holds spaces or characters an HTTP header cannot carry (printable ASCII only)`);
    }
    return { bearerToken: token };
  }
  return basic !== undefined ? { basic } : undefined;
}
