/**
 * Finding and reading the kubeconfig the way kubectl does (`$KUBECONFIG`, else ~/.kube/config, else the in-cluster
 * service account), with errors that say what is wrong and what to do. client-node's own `loadFromDefault` falls back
 * to `http://localhost:8080` when nothing is found, which later surfaces as "HTTP protocol is not allowed when
 * skipTLSVerify is not set"; a corrupt file surfaces as a YAML error naming no file.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../exit-codes';
import { SERVICE_ACCOUNT_TOKEN } from './cluster';

/** Where the kubeconfig came from (for messages). */
export interface LoadedKubeConfig {
  readonly kc: KubeConfig;
  /** The files read, or `in-cluster service account`. */
  readonly source: string;
}

/** What {@link loadKubeConfig} reads instead of the process (tests). */
export interface KubeConfigEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly serviceAccountToken: string;
}

const HOW_TO_SET =
  'point $KUBECONFIG at a kubeconfig file (export KUBECONFIG=$HOME/.kube/config), or write ~/.kube/config ' +
  "(your cluster's get-credentials command, or kind/minikube/k3d create one), then check it with: kubectl config get-contexts";

/** Reads one kubeconfig file, naming it when it is not one. */
function readFile(file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new Error(`loadtest: the kubeconfig ${file} is not a valid kubeconfig: ${reason}`);
  }
  return kc;
}

/** The kubeconfig of `$KUBECONFIG` (its existing files, merged as kubectl merges them: the first wins). */
function fromKubeconfigEnv(value: string): LoadedKubeConfig {
  const files = value.split(path.delimiter).filter((f) => f !== '');
  const existing = files.filter((f) => existsSync(f));
  if (existing.length === 0) {
    throw new Error(`loadtest: $KUBECONFIG names no file that exists (${files.join(', ')}): no kubeconfig to reach a cluster with; ${HOW_TO_SET}`);
  }
  const [first, ...rest] = existing.map((f) => readFile(f));
  for (const kc of rest) first!.mergeConfig(kc, true);
  return { kc: first!, source: existing.join(path.delimiter) };
}

/**
 * The kubeconfig kubectl would use. Throws an error saying how to set one when there is none, naming the file when one
 * cannot be read, and listing the contexts when `context` is not one of them (a usage error).
 */
export function loadKubeConfig(context: string | undefined, where: Partial<KubeConfigEnvironment> = {}): LoadedKubeConfig {
  const env = where.env ?? process.env;
  const home = where.home ?? homedir();
  const token = where.serviceAccountToken ?? SERVICE_ACCOUNT_TOKEN;
  const homeConfig = path.join(home, '.kube', 'config');
  let loaded: LoadedKubeConfig;
  if ((env.KUBECONFIG ?? '') !== '') loaded = fromKubeconfigEnv(env.KUBECONFIG!);
  else if (existsSync(homeConfig)) loaded = { kc: readFile(homeConfig), source: homeConfig };
  else if (existsSync(token)) {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    loaded = { kc, source: 'the in-cluster service account' };
  } else {
    throw new Error(
      `loadtest: no kubeconfig found ($KUBECONFIG is not set, ${homeConfig} does not exist, and this is not a pod in a cluster), ` +
        `so there is no cluster to run on; ${HOW_TO_SET}`,
    );
  }
  const names = loaded.kc.getContexts().map((c) => c.name);
  const known = names.length > 0 ? names.join(', ') : 'none';
  if (context !== undefined) {
    if (loaded.kc.getContextObject(context) === null) {
      throw new UsageError(`unknown kube-context '${context}' (--context): the kubeconfig ${loaded.source} has these contexts: ${known}`);
    }
    loaded.kc.setCurrentContext(context);
  } else if (names.length === 0) {
    throw new Error(`loadtest: the kubeconfig ${loaded.source} has no contexts; ${HOW_TO_SET}`);
  } else if (loaded.kc.getContextObject(loaded.kc.getCurrentContext()) === null) {
    const current = loaded.kc.getCurrentContext();
    throw new Error(
      `loadtest: the kubeconfig ${loaded.source} has ${current ? `current-context '${current}', which is not one of its contexts` : 'no current-context'}: ` +
        `pick one with kubectl config use-context <name>, or pass --context <name> (contexts: ${known})`,
    );
  }
  return loaded;
}

/** Network failures that mean the API server did not answer at all (not an HTTP error of the API server). */
const UNREACHABLE = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|socket hang up)\b/;

/** The innermost message of an error and its causes. */
function messages(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur !== null && typeof cur === 'object'; i++) {
    const { message, code } = cur as { message?: unknown; code?: unknown };
    if (typeof message === 'string') parts.push(message);
    if (typeof code === 'string') parts.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

/**
 * A hint for an error of a call to the API server, when it is one the kube-context explains: nothing answered
 * (`kubectl cluster-info`), or a plain-HTTP server that client-node refuses without `insecure-skip-tls-verify`.
 */
export function connectionHint(e: unknown, context: string, server: string): string | undefined {
  const text = messages(e);
  const reason = UNREACHABLE.exec(text)?.[1];
  if (reason !== undefined) {
    return `the API server ${server} of kube-context '${context}' is unreachable (${reason}); check the cluster is up and the context is the right one: kubectl cluster-info --context ${context}`;
  }
  if (text.includes('HTTP protocol is not allowed')) {
    return `the API server of kube-context '${context}' is ${server}: plain HTTP, which the Kubernetes client accepts only with insecure-skip-tls-verify: true on the cluster`;
  }
  return undefined;
}
