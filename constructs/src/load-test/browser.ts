import type { k8s } from 'cdk8s-plus-27';
import type { ResourceRequirements } from '../config/platform-config';
import { RUNNER_CONFIG_DEFAULTS, TMP_SIZE_LIMIT } from './constants';
import type { RunnerDefaults } from './props';
import type { TestScripts } from './test-scripts';

/**
 * Browser runners: tests whose bundle imports `k6/browser` run Chromium beside k6 in every runner pod. What they need
 * beyond an HTTP runner, from k6 v1.7.1:
 * - the image with Chromium (Dockerfile stage `with-browser`: alpine's chromium, user 12345, working directory and
 *   home /home/k6, K6_BROWSER_HEADLESS=true, K6_BROWSER_ARGS=no-sandbox);
 * - writable directories under a read-only root filesystem: k6 makes the browser profile with
 *   os.MkdirTemp($TMPDIR or /tmp, "k6browser-data-*") (internal/js/modules/k6/browser/storage/storage.go Dir.Make,
 *   chromium/browser_type.go tmpdir); Chromium writes caches (fontconfig) under $HOME, and relative screenshot paths
 *   resolve against the working directory;
 * - shared memory: k6 launches Chromium with --disable-dev-shm-usage (chromium/browser_type.go prepareFlags), which
 *   makes Chromium create its shared-memory files in the temporary directory instead of /dev/shm, so /tmp is sized for
 *   it; a memory-backed /dev/shm is there as well for scripts that drop the flag (`ignoreDefaultArgs`,
 *   K6_BROWSER_IGNORE_DEFAULT_ARGS), where a container runtime's 64 MiB default would crash tabs;
 * - no Chromium sandbox: it needs user namespaces, CAP_SYS_ADMIN or a setuid helper, which the restricted Pod Security
 *   profile (capabilities dropped, no privilege escalation, RuntimeDefault seccomp) withholds; `--no-sandbox` leaves
 *   the container as the isolation boundary (see docs/load-tests.md, Browser tests).
 */

/** The k6 module whose import makes a test a browser test. */
export const BROWSER_MODULE = 'k6/browser';
/** Requests, limits and volume sizes of browser runners when neither the test nor `runner.browser` sets them. */
export const DEFAULT_BROWSER_RUNNER = RUNNER_CONFIG_DEFAULTS.browser;
/** Home and working directory of the official image's k6 user (k6 v1.7.1 Dockerfile: `adduser -D -u 12345 k6`, `WORKDIR /home/k6`). */
export const BROWSER_HOME = '/home/k6';
/** Size limit of the emptyDir at {@link BROWSER_HOME} (Chromium's caches, screenshots written with a relative path). */
export const BROWSER_HOME_SIZE_LIMIT = '512Mi';
/** Volume names of a browser runner's writable directories besides /tmp. */
export const BROWSER_VOLUMES = { shm: 'dev-shm', home: 'home' } as const;

/** Whether any file of the bundle imports `k6/browser`. */
export function importsBrowser(scripts: Pick<TestScripts, 'modules'>): boolean {
  return scripts.modules.some((m) => m.module === BROWSER_MODULE);
}

/** The sizes a browser test overrides. */
interface BrowserTestSizes {
  readonly browser?: { readonly shmSize?: string | undefined; readonly tmpSize?: string | undefined } | undefined;
}

/** What a run's pods are built from: its scripts, the test's overrides and the runner-wide defaults. */
interface BrowserRunInputs {
  readonly test: BrowserTestSizes;
  readonly props: { readonly scripts: Pick<TestScripts, 'modules'>; readonly runner?: RunnerDefaults };
}

/** Requests and limits of a browser runner when the test sets none: `runner.browser.resources`, else the default. */
export function browserRunnerResources(runner: RunnerDefaults | undefined): ResourceRequirements {
  return runner?.browser?.resources ?? DEFAULT_BROWSER_RUNNER.resources;
}

/** Size limit of a runner's /tmp emptyDir: larger for a browser runner (the profile and Chromium's shared memory live there). */
export function tmpSizeLimit(run: BrowserRunInputs): string {
  if (!importsBrowser(run.props.scripts)) return TMP_SIZE_LIMIT;
  return run.test.browser?.tmpSize ?? run.props.runner?.browser?.tmpSize ?? DEFAULT_BROWSER_RUNNER.tmpSize;
}

/** An emptyDir of a browser runner, in the plain form each run form maps to its own types. */
export interface BrowserVolume {
  readonly name: string;
  readonly mountPath: string;
  readonly medium?: 'Memory';
  readonly sizeLimit: string;
}

/** The emptyDirs a browser runner gets besides /tmp: /dev/shm in memory and the k6 user's home; none for other runners. */
export function browserVolumes(run: BrowserRunInputs): BrowserVolume[] {
  if (!importsBrowser(run.props.scripts)) return [];
  const shm = run.test.browser?.shmSize ?? run.props.runner?.browser?.shmSize ?? DEFAULT_BROWSER_RUNNER.shmSize;
  return [
    { name: BROWSER_VOLUMES.shm, mountPath: '/dev/shm', medium: 'Memory', sizeLimit: shm },
    { name: BROWSER_VOLUMES.home, mountPath: BROWSER_HOME, sizeLimit: BROWSER_HOME_SIZE_LIMIT },
  ];
}

/** The mounts of {@link browserVolumes}. */
export function browserMounts(run: BrowserRunInputs): { name: string; mountPath: string }[] {
  return browserVolumes(run).map((v) => ({ name: v.name, mountPath: v.mountPath }));
}

/**
 * Environment of a browser runner: headless Chromium without its own sandbox, as the official image sets it, stated
 * in the manifest so that it holds on any browser image and is visible in review. A variable the test sets itself
 * (`env`, `secretEnv`) is left to the test: the API server warns about duplicate names.
 */
export function browserEnv(run: BrowserRunInputs & { readonly test: { readonly env: object; readonly secretEnv: object } }): k8s.EnvVar[] {
  if (!importsBrowser(run.props.scripts)) return [];
  const own = new Set([...Object.keys(run.test.env), ...Object.keys(run.test.secretEnv)]);
  return [
    { name: 'K6_BROWSER_HEADLESS', value: 'true' },
    { name: 'K6_BROWSER_ARGS', value: 'no-sandbox' },
  ].filter((e) => !own.has(e.name));
}
