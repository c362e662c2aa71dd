import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** ConfigMap key (and file name) of the starter script. */
export const STARTER_SCRIPT_KEY = 'start-runners.sh';
/** Where the starter container mounts its script. */
export const STARTER_MOUNT_PATH = '/opt/k6-platform';

/**
 * File the starter writes into its state directory once every runner is resumed (its readiness probe reads it); with
 * `START_GATE=external` (a multi-cluster run) once every runner is ready to be resumed by the start Job.
 */
export const STARTER_STARTED_FILE = 'started';

/**
 * The starter: a POSIX sh + curl script (constructs/src/k6/starter.sh) that waits until every runner reports k6's
 * PausedBeforeRun status on `GET /v1/status`, then resumes all of them at once with `PATCH /v1/status`; on timeout it
 * stops the ready runners and exits 1 naming the missing ones. With setup once it also runs setup() on runner 0,
 * hands the data to the others (`PUT /v1/setup`) before the resume, and runs teardown() once after all finished.
 * With `--stop` it asks every runner to stop. In a scheduled run with `abortOnFail` thresholds it also evaluates them
 * over all runners until the run is over (constructs/src/k6/abort-watch-file.ts). It needs no Kubernetes API access.
 */
export function starterScript(): string {
  return readFileSync(path.join(__dirname, 'starter.sh'), 'utf8');
}

/**
 * The command of the starter container: the script from the mounted ConfigMap, runner base URLs as arguments (runner 0
 * first), `--stop` in front to stop the runners instead, `--resume` to resume them at `START_AT` (the start Job of a
 * multi-cluster run).
 */
export function starterCommand(
  runnerUrls: readonly string[],
  options: { readonly stop?: boolean; readonly resume?: boolean } = {},
): { command: string[]; args: string[] } {
  const mode = options.stop === true ? ['--stop'] : options.resume === true ? ['--resume'] : [];
  return { command: ['sh', `${STARTER_MOUNT_PATH}/${STARTER_SCRIPT_KEY}`], args: [...mode, ...runnerUrls] };
}
