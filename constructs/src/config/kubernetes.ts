import { z } from 'zod';
import { DNS_SUBDOMAIN, dnsLabel } from './rules';

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes field formats the API server enforces (k8s.io/apimachinery/pkg/util/validation and the core/v1 rules for
// tolerations and affinity), so a bad value fails here and not at `kubectl apply`.
// ---------------------------------------------------------------------------------------------------------------

/** Largest value of an int32 field (Kubernetes stores replica counts, seconds and weights as int32). */
export const INT32_MAX = 2147483647;
/** An integer in `[min, max]`; every message names the range. */
export const intInRange = (min: number, max: number) => {
  const rule = `must be an integer from ${min} to ${max}`;
  return z.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
};

/** The name part of a qualified name (label key, topology key): at most 63 characters. */
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_KEY_RULE =
  'must be a label key: an optional DNS-subdomain prefix (at most 253 characters) and "/", then a name of at most 63 characters (letters, digits, "-", "_", "."; starting and ending alphanumeric)';
/** Whether `key` is a Kubernetes qualified name (label keys, node selector keys, topology keys): `[prefix/]name`. */
export function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1]!;
  if (name.length > 63 || !QUALIFIED_NAME_PART.test(name)) return false;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    return prefix.length > 0 && prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix);
  }
  return true;
}
const LABEL_VALUE_RULE = 'must be a label value: at most 63 characters, empty or letters, digits, "-", "_", "." starting and ending alphanumeric';
/** Whether `value` is a Kubernetes label value. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME_PART.test(value));
}
/** A Kubernetes label key (see {@link isLabelKey}). */
export const labelKey = z.string().refine(isLabelKey, { error: LABEL_KEY_RULE });
/** A Kubernetes label value (see {@link isLabelValue}). */
export const labelValue = z.string().refine(isLabelValue, { error: LABEL_VALUE_RULE });
/** A map of label keys to label values (node selectors, pod labels). */
export const labelMap = z.record(labelKey, labelValue);

const TIME_ZONE_RULE = 'must be an IANA time zone such as "Europe/Berlin" or "UTC"';
/**
 * Why `zone` is not a time zone the runtime knows (IANA names and the aliases `Intl.DateTimeFormat` accepts, such as
 * "US/Pacific"), or undefined when it is one. Names differing only in case are refused with the right spelling: the
 * CronJob controller loads zones from the case-sensitive tz database.
 */
export function timeZoneProblem(zone: string): string | undefined {
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return TIME_ZONE_RULE;
  if (Intl.supportedValuesOf('timeZone').includes(zone)) return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat(undefined, { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return `${TIME_ZONE_RULE}; it is not in the IANA time zone database`;
  }
  if (resolved !== zone && resolved.toLowerCase() === zone.toLowerCase())
    return `${TIME_ZONE_RULE}, spelled "${resolved}" (names are case-sensitive)`;
  return undefined;
}
/** An IANA time zone the runtime knows (see {@link timeZoneProblem}). */
export const timeZone = z.string().superRefine((zone, ctx) => {
  const problem = timeZoneProblem(zone);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', input: zone, message: problem });
});

/** A taint toleration, with the rules of core/v1 `validateTolerations`. */
export const toleration = z
  .strictObject({
    key: z
      .string()
      .refine((k) => k === '' || isLabelKey(k), { error: LABEL_KEY_RULE })
      .optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: labelValue.optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    /** Seconds a NoExecute taint is tolerated (int64 in Kubernetes; a negative value means 0). */
    tolerationSeconds: z.number({ error: 'must be an integer number of seconds' }).int({ error: 'must be an integer number of seconds' }).optional(),
  })
  .superRefine((t, ctx) => {
    const operator = t.operator ?? 'Equal';
    if ((t.key === undefined || t.key === '') && operator !== 'Exists') {
      ctx.addIssue({
        code: 'custom',
        path: ['operator'],
        input: t.operator,
        message: 'must be "Exists" when "key" is empty (an empty key matches all keys and all values)',
      });
    }
    if (operator === 'Exists' && t.value !== undefined && t.value !== '') {
      ctx.addIssue({ code: 'custom', path: ['value'], input: t.value, message: 'must be empty when "operator" is "Exists"' });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      ctx.addIssue({
        code: 'custom',
        path: ['tolerationSeconds'],
        input: t.tolerationSeconds,
        message: `must only be set with effect "NoExecute" (effect is ${t.effect === undefined ? 'not set' : `"${t.effect}"`})`,
      });
    }
  });

/** Rules of a selector requirement: values for In/NotIn, none for Exists/DoesNotExist, one integer for Gt/Lt. */
function requirementRules(r: { operator: string; values?: readonly string[] | undefined }, ctx: z.core.$RefinementCtx): void {
  const n = r.values?.length ?? 0;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) {
    ctx.addIssue({ code: 'custom', path: ['values'], input: r.values, message: `must list at least one value with operator "${r.operator}"` });
  }
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) {
    ctx.addIssue({ code: 'custom', path: ['values'], input: r.values, message: `must be empty with operator "${r.operator}"` });
  }
  if ((r.operator === 'Gt' || r.operator === 'Lt') && (n !== 1 || !/^-?[0-9]+$/.test(r.values![0]!))) {
    ctx.addIssue({ code: 'custom', path: ['values'], input: r.values, message: `must be exactly one integer with operator "${r.operator}"` });
  }
}
const nodeSelectorRequirement = z
  .strictObject({
    key: labelKey,
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']),
    values: z.array(labelValue).optional(),
  })
  .superRefine(requirementRules);
const nodeSelectorTerm = z.strictObject({
  matchExpressions: z.array(nodeSelectorRequirement).optional(),
  matchFields: z.array(nodeSelectorRequirement).optional(),
});
const labelSelector = z.strictObject({
  matchLabels: labelMap.optional(),
  matchExpressions: z
    .array(
      z
        .strictObject({ key: labelKey, operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(labelValue).optional() })
        .superRefine(requirementRules),
    )
    .optional(),
});
const podAffinityTerm = z.strictObject({
  labelSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  namespaces: z.array(dnsLabel()).optional(),
  topologyKey: labelKey,
  matchLabelKeys: z.array(labelKey).optional(),
  mismatchLabelKeys: z.array(labelKey).optional(),
});
const weight = intInRange(1, 100);
const podAffinity = z.strictObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.array(podAffinityTerm).optional(),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(z.strictObject({ weight, podAffinityTerm })).optional(),
});
/** core/v1 Affinity, field by field (unknown fields are errors, as `kubectl apply --validate=strict` makes them). */
export const affinity = z.strictObject({
  nodeAffinity: z
    .strictObject({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .strictObject({ nodeSelectorTerms: z.array(nodeSelectorTerm).min(1, { error: 'must list at least one term' }) })
        .optional(),
      preferredDuringSchedulingIgnoredDuringExecution: z.array(z.strictObject({ weight, preference: nodeSelectorTerm })).optional(),
    })
    .optional(),
  podAffinity: podAffinity.optional(),
  podAntiAffinity: podAffinity.optional(),
});
/** core/v1 Affinity of a pod, as parsed. */
export type Affinity = z.output<typeof affinity>;
