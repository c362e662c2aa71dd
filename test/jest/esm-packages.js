/** Dependencies that ship ESM only; jest resolves them with the `import` condition and transpiles them to CommonJS. */
exports.esmPackages = [
  'kubernetes-models',
  '@kubernetes-models',
  'is-cidr', // via @kubernetes-models/validate
  'cidr-regex',
  '@grafana/grafana-foundation-sdk',
  '@prometheus-io/lezer-promql',
  '@lezer',
];
