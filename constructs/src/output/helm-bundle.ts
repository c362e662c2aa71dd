/**
 * The platform's Helm umbrella chart (`dist/chart/`, with `values-<env>.yaml`): see ./helm/bundle.ts, whose API this module re-exports
 * (templating in ./helm/templating.ts, the named templates in ./helm/helpers-tpl.ts, the values schema in
 * ./helm/values-schema.ts, NOTES.txt in ./helm/notes.ts).
 */
export { BUNDLE_CHART_NAME, BUNDLE_CHART_VERSION, BUNDLE_HEADER, escapeTemplate, helmBundle, writeHelmBundle } from './helm/bundle';
export type { HelmBundleProps } from './helm/bundle';
