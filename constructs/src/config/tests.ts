import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { checkRegressionRules, checkThresholds } from '../k6/thresholds';
import { affinity, INT32_MAX, intInRange, labelMap, timeZone, toleration } from './kubernetes';
import { egressTarget } from './network';
import { validitySchema } from './validity';
import {
  dnsLabel,
  dnsSubdomain,
  ENV_NAME,
  imageReference,
  K6_DURATION,
  k6Duration,
  k6DurationSeconds,
  quantity,
  resources,
  secretKeyRef,
} from './rules';

/**
 * One load test (`tests[]`): its script, parallelism and thresholds, the run options of the LoadTest construct, and
 * the cross-field checks of a test on its own (deadline, VUs, run-id length, operator mode).
 */

/** RFC 1035 label (starts with a letter): run ids, because they name Services. */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Longest Kubernetes object name that is also a DNS label (pod hostnames, Service and Job names). */
export const MAX_LABEL_LENGTH = 63;
/** The CronJob controller names each Job `<cronjob>-<scheduled time in minutes since the epoch>`: 8 digits until 2160. */
export const CRON_JOB_SUFFIX_LENGTH = 9;
/** Kubernetes limits CronJob names to 52 characters (11 are left for the Job name suffix). */
export const MAX_CRON_JOB_NAME_LENGTH = 52;
/** k6 flags the platform sets itself; `extraArgs` may not set them. */
export const RESERVED_K6_FLAGS = [
  '--execution-segment',
  '--execution-segment-sequence',
  '--paused',
  '-p',
  '--address',
  '-a',
  '--config',
  '-c',
] as const;

const CRON_RULE = 'must be a cron expression with 5 fields such as "0 2 * * *", or a macro such as "@daily"';
const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
/** Whether a CronJob accepts `schedule`: 5 standard fields (checked by cron-parser) or a predefined macro. */
export function isValidCronSchedule(schedule: string): boolean {
  const s = schedule.trim();
  if (CRON_MACROS.includes(s)) return true;
  if (s.split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** A ConfigMap or Secret whose keys all become environment variables. */
const envFromSource = z
  .strictObject({
    configMap: dnsSubdomain.optional(),
    secret: dnsSubdomain.optional(),
    /** Prefix of every variable. @default - none */
    prefix: z.string().regex(ENV_NAME, { error: 'must be an environment variable name prefix' }).optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.configMap === undefined) === (e.secret === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], input: e, message: 'must set exactly one of "configMap" or "secret"' });
    }
  });

const k6Flag = z.string().refine((a) => !RESERVED_K6_FLAGS.some((f) => a === f || a.startsWith(`${f}=`)), {
  error: `must not set a flag the platform sets itself (${RESERVED_K6_FLAGS.join(', ')})`,
});
/** `k6 run`-only flags joined with a value (`--out=json`, `-ojson`, `--linger=true`): the operator's initializer keeps them. */
const OPERATOR_JOINED_RUN_FLAG = /^(--(out|linger|no-usage-report)=|-[ol].)/;
/** A path inside a volume: relative, "/"-separated, no "." or ".." segment (a volume mount's subPath). */
const volumeSubPath = z.string().refine((p) => p === '' || (!p.startsWith('/') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..')), {
  error: 'must be a relative path inside the volume such as "k6/data" (no leading "/", no "." or ".." segments)',
});
const DATA_MODES = ['image', 'pvc', 'oci-volume'] as const;
/**
 * Where the files of a bundle too large for any ConfigMap (over 1 MiB) come from; each is mounted at its own path
 * under /scripts, so the script opens it as it does on disk. Smaller files stay in the bundle's ConfigMaps.
 */
const dataSources = z.discriminatedUnion('mode', [
  z.strictObject({
    /** Baked into a content-addressed data image (built like the runner image), copied into the pod by an init container. */
    mode: z.literal('image'),
  }),
  z.strictObject({
    /** Read from a PersistentVolumeClaim the user creates and fills; mounted read-only, never created or deleted. */
    mode: z.literal('pvc'),
    /** Name of the PersistentVolumeClaim in the load-test namespace. */
    claimName: dnsSubdomain,
    /** Folder of the files inside the volume; each file is at `<subPath>/<its path under scripts/>`. @default "" (the volume's root) */
    subPath: volumeSubPath.default(''),
  }),
  z.strictObject({
    /** A Kubernetes image volume (`volumes[].image`, KEP-4639): an OCI image or artifact holding the files, mounted read-only. */
    mode: z.literal('oci-volume'),
    /** The image or artifact; each file is at `<subPath>/<its path under scripts/>`. @example "registry.example.com/team/data@sha256:…" */
    image: imageReference,
    /** When the kubelet pulls it. @default "IfNotPresent" */
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    /** Folder of the files inside the image. @default "" (the image's root) */
    subPath: volumeSubPath.default(''),
  }),
]);
/**
 * `tests[].data`: the union of the data sources above, its mode checked first, so
 * an unknown one is reported as itself with the modes there are (typed as the union it pipes into).
 */
export const testDataSchema = z
  .looseObject(
    { mode: z.enum(DATA_MODES, { error: `must be one of ${DATA_MODES.map((m) => `"${m}"`).join(', ')}` }) },
    { error: 'must be an object with a "mode"' },
  )
  .pipe(dataSources) as unknown as typeof dataSources;
/** Where a test's large files come from (`tests[].data`), as parsed. */
export type TestData = z.output<typeof testDataSchema>;

/** Options of the k6-operator TestRun (mode "operator"). */
const operatorOptions = z.strictObject({
  /** Run every runner on a different node (TestRun `separate`). @default false */
  separate: z.boolean().default(false),
  /** Delete the run's Jobs and pods when it finishes (TestRun `cleanup: post`). @default false */
  cleanup: z.boolean().default(false),
  /** Namespace of the k6-operator controller, which polls the runners (NetworkPolicy ingress). @default "k6-operator-system" */
  namespace: dnsLabel().default('k6-operator-system'),
});

/** Longest suffix appended to a run id (Job/Service names, pod hostnames) for a test's mode, schedule and parallelism. */
export function runIdSuffixLength(test: { readonly mode: string; readonly parallelism: number; readonly schedule?: string | undefined }): number {
  const lastIndex = String(test.parallelism - 1).length;
  if (test.mode === 'operator') return Math.max('-initializer'.length, `-service-${test.parallelism}`.length);
  if (test.schedule !== undefined) return CRON_JOB_SUFFIX_LENGTH + 1 + lastIndex; // <cronjob>-<minutes>-<index>
  return '-runner-'.length + lastIndex; // <run>-runner-<index>
}

/** One load test: a k6 script under scripts/ and how to run it. */
export const testSchema = z
  .strictObject({
    /** Test name: part of every object name of its runs. */
    name: dnsLabel(40),
    /** Entry file, relative to scripts/. */
    script: z.string().min(1, { error: 'must name a script file under scripts/' }),
    /** Where the bundle's files too large for a ConfigMap (over 1 MiB) come from. @default - none: such a file fails the synth */
    data: testDataSchema.optional(),
    /** Number of runner pods. @default 2 */
    parallelism: z
      .number({ error: 'must be an integer' })
      .int({ error: 'must be an integer' })
      .min(1, { error: 'must be at least 1' })
      .max(1000, { error: 'must be at most 1000' })
      .default(2),
    /** Extra environment for the script (`__ENV`). */
    env: z.record(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' }), z.string()).default({}),
    /** Run as plain Kubernetes Jobs (`jobs`) or as a k6-operator TestRun (`operator`). @default "jobs" */
    mode: z.enum(['jobs', 'operator']).default('jobs'),
    /**
     * Pass/fail criteria in k6's own syntax, judged over ALL runners of a run and also passed to k6: per metric key a
     * list (may be empty) of expression strings or k6's object form `{ threshold, abortOnFail?, delayAbortEval? }`
     * (runners never judge thresholds: `loadtest run` evaluates abortOnFail over all runners every push interval and
     * stops every runner when one crosses; runs started without it are not watched; see docs/verdict.md).
     * @example { "http_req_duration{scenario:api}": ["p(95)<500"], "http_req_failed": [{ "threshold": "rate<0.01", "abortOnFail": true }] }
     * @default - none
     */
    thresholds: z
      .record(
        z.string().min(1),
        z.array(
          z.union(
            [
              z.string(),
              z.strictObject({
                threshold: z.string({ error: 'must be a k6 threshold expression such as "rate<0.01"' }),
                abortOnFail: z.boolean({ error: 'must be true or false' }).optional(),
                delayAbortEval: z
                  .union([z.string(), z.number(), z.null()], { error: 'must be a k6 duration such as "10s", or milliseconds' })
                  .optional(),
              }),
            ],
            { error: 'must be a k6 threshold expression string, or { threshold, abortOnFail?, delayAbortEval? }' },
          ),
          { error: 'must be a list of k6 thresholds' },
        ),
      )
      .superRefine(checkThresholds)
      .default({}),
    /**
     * How much worse than its baseline a run may be (`loadtest compare`, docs/compare.md): per metric key (as in
     * thresholds, tag filters included) a list of rules `<stat> < +N%`, `< +Npp` (ratios) or `< +N` (the stat's unit,
     * ms for time trends), or `> -N…` where lower is worse; stats p(N), avg, med (trends), rate (rates, counters),
     * count (counters).
     * @example { "http_req_duration": ["p(95) < +10%"], "http_req_failed": ["rate < +0.5pp"] }
     * @default - none
     */
    regression: z
      .record(
        z.string().min(1),
        z.array(z.string({ error: 'must be a regression rule string such as "p(95) < +10%"' }), { error: 'must be a list of regression rules' }),
      )
      .superRefine(checkRegressionRules)
      // optional, not defaulted: an absent key keeps the parsed test, and so the default run id's hash, as before
      .optional(),
    // Run options (LoadTest construct). Runner-wide defaults (image, resources, pushInterval, ...) live in `runner`.
    /** Id of the run: names its objects and is the `testid` tag. Scheduled runs use it as prefix. @default - "<name>-<content hash>" */
    runId: z
      .string()
      .max(MAX_LABEL_LENGTH, { error: `must be at most ${MAX_LABEL_LENGTH} characters` })
      .regex(DNS_1035_LABEL, { error: 'must be a DNS label starting with a letter: lower-case letters, digits and "-"' })
      .optional(),
    /** Total duration the script declares (all stages/scenarios): with `gracePeriod` it sets the runners' deadline. @default - no deadline */
    duration: k6Duration.optional(),
    /** Extra time past `duration` for init, setup(), graceful stop and teardown() before Kubernetes stops the run. @default "2m" */
    gracePeriod: k6Duration.default('2m'),
    /** Highest number of VUs the script declares; checked against `parallelism` (each runner needs one). @default - not checked */
    vus: z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }).optional(),
    /** How long the starter waits for every runner to be ready before it fails the run. @default "5m" */
    startTimeout: k6Duration.default('5m'),
    /** Seconds a finished run's Jobs and pods are kept (logs) before Kubernetes deletes them. @default 86400 */
    ttlSecondsAfterFinished: intInRange(0, INT32_MAX).default(86400),
    /** When the verdict reports the run INCONCLUSIVE instead of PASS or FAIL (starved runners). @default - see config/validity.ts */
    validity: validitySchema.prefault({}),
    /** Requests and limits of each runner. @default - runner.resources (runner.browser.resources when the script imports k6/browser) */
    resources: resources.optional(),
    /** Sizes of a browser runner's /dev/shm and /tmp (when the script imports k6/browser). @default - runner.browser.shmSize, runner.browser.tmpSize */
    browser: z.strictObject({ shmSize: quantity.optional(), tmpSize: quantity.optional() }).optional(),
    /** Node labels runners must be scheduled on. @default {} */
    nodeSelector: labelMap.default({}),
    /** Taints runners tolerate. @default [] */
    tolerations: z.array(toleration).default([]),
    /** Kubernetes affinity of the runner pods, as in a pod spec. @default - none */
    affinity: affinity.optional(),
    /** At most one runner per node (required pod anti-affinity on the hostname). @default false */
    onePerNode: z.boolean().default(false),
    /** Secrets to pull the runner image with. @default [] */
    imagePullSecrets: z.array(dnsSubdomain).default([]),
    /** Environment variables from Secret keys (never literals): name -> {name, key}. @default {} */
    secretEnv: z.record(z.string().regex(ENV_NAME, { error: 'must be an environment variable name' }), secretKeyRef).default({}),
    /** ConfigMaps or Secrets whose keys all become environment variables. @default [] */
    envFrom: z.array(envFromSource).default([]),
    /** Extra k6 arguments, one list element each. @example ["--no-connection-reuse"] @default [] */
    extraArgs: z.array(k6Flag).default([]),
    /** What runners may reach besides DNS and Prometheus (NetworkPolicy egress). @default [] */
    targets: z.array(egressTarget).default([]),
    /** Cron schedule: makes the test a CronJob; each scheduled run gets its own testid. @example "0 2 * * *" @default - run once */
    schedule: z.string().refine(isValidCronSchedule, { error: CRON_RULE }).optional(),
    /** IANA time zone of `schedule`. @example "Europe/Berlin" @default - the controller's time zone (UTC on most clusters) */
    timeZone: timeZone.optional(),
    /** Run setup() and teardown() on runner 0 only (k6 `noSetup`/`noTeardown` on the others). @default false */
    setupOnce: z.boolean().default(false),
    /** k6-operator TestRun options (mode "operator"). */
    operator: operatorOptions.prefault({}),
  })
  .superRefine((t, ctx) => {
    if (t.duration !== undefined && [t.startTimeout, t.duration, t.gracePeriod].every((d) => K6_DURATION.test(d))) {
      // The runners' Job deadline, as LoadTest computes it: 0 would fail every run at once.
      const deadline = k6DurationSeconds(t.startTimeout) + k6DurationSeconds(t.duration) + k6DurationSeconds(t.gracePeriod);
      if (deadline < 1 || deadline > INT32_MAX) {
        ctx.addIssue({
          code: 'custom',
          path: ['duration'],
          input: t.duration,
          message: `must make the runners' deadline (startTimeout ${t.startTimeout} + duration ${t.duration} + gracePeriod ${t.gracePeriod} = ${deadline} seconds, activeDeadlineSeconds) an integer from 1 to ${INT32_MAX}`,
        });
      }
    }
    if (t.vus !== undefined && t.vus < t.parallelism) {
      ctx.addIssue({
        code: 'custom',
        path: ['vus'],
        input: t.vus,
        message: `must be at least parallelism (${t.parallelism}) so that every runner gets a VU`,
      });
    }
    if (t.runId !== undefined) {
      const suffix = runIdSuffixLength(t);
      const max = Math.min(MAX_LABEL_LENGTH - suffix, t.schedule !== undefined && t.mode === 'jobs' ? MAX_CRON_JOB_NAME_LENGTH : MAX_LABEL_LENGTH);
      if (t.runId.length > max) {
        ctx.addIssue({
          code: 'custom',
          path: ['runId'],
          input: t.runId,
          message: `must be at most ${max} characters here: names derived from it add up to ${suffix} more and must fit in ${MAX_LABEL_LENGTH}`,
        });
      }
    }
    if (t.mode === 'operator') {
      if (t.schedule !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedule'],
          input: t.schedule,
          message: 'must not be set with mode "operator" (schedules need mode "jobs")',
        });
      }
      // The operator's initializer runs `k6 archive` with the args minus a separate `--out`/`-o` and its value, `--linger`,
      // `-l` and `--no-usage-report` (k6-operator v1.6.0 pkg/types/k6cli.go ParseCLI); joined forms stay, and `k6 archive`
      // has none of these `k6 run`-only flags.
      t.extraArgs.forEach((arg, i) => {
        if (OPERATOR_JOINED_RUN_FLAG.test(arg)) {
          ctx.addIssue({
            code: 'custom',
            path: ['extraArgs', i],
            input: arg,
            message:
              'must not join a `k6 run`-only flag (--out/-o, --linger/-l, --no-usage-report) with a value with mode "operator" ' +
              '(the operator\'s initializer passes it on to `k6 archive`, which rejects it): write "--out", "<output>" as two items, or "--linger"',
          });
        }
      });
      if (t.setupOnce) {
        ctx.addIssue({
          code: 'custom',
          path: ['setupOnce'],
          input: t.setupOnce,
          message: 'must be false with mode "operator" (the operator gives every runner the same arguments)',
        });
      }
    }
  });
/** One load test, as parsed and defaulted. */
export type TestConfig = z.output<typeof testSchema>;
/** One load test as a caller writes it: every member with a default optional (a parsed {@link TestConfig} is one too). */
export type TestInput = z.input<typeof testSchema>;

/** The sample test from the original write-up, so `dev` has something to run with no file at all. */
export const defaultTests: z.input<typeof testSchema>[] = [
  {
    name: 'sample',
    script: 'sample.js',
    // scripts/sample.js: stages of 30s + 30s up to 200 VUs, against https://test.k6.io/ (any public address, 80/443).
    duration: '1m',
    vus: 200,
    targets: [{ cidr: '0.0.0.0/0', ports: [80, 443] }],
  },
];
