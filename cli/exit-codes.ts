/**
 * Exit codes of the `loadtest` CLI. The verdict's own codes (pass, thresholds failed, no data, Prometheus unreachable)
 * come from cli/verdict/verdict.ts (`VERDICT_EXIT_CODES`: 0 pass, 99 fail, 3 no data, 4 unreachable); these are the CLI's
 * additions, chosen not to collide with them. 105 is k6's own code for an external abort.
 */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** An unexpected error (config invalid, synth failed, API error). */
  error: 1,
  /** Bad command-line arguments (unknown option, invalid value, unknown test). */
  usage: 2,
  /** The run did not complete: a runner failed, the starter failed, the deadline passed or the Jobs vanished. */
  runFailed: 97,
  /** The run was stopped with Ctrl-C (k6's own code for an external abort). */
  interrupted: 105,
} as const;

/**
 * A usage error found outside commander's own parsing (an environment variable, a file named by an option, a
 * kube-context): printed as `error: <message>` and ending the command with {@link EXIT.usage}, like commander's own.
 */
export class UsageError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
