/** Dependencies that ship ESM only; jest resolves them with the `import` condition and transpiles them to CommonJS. */
exports.esmPackages = ['@grafana/grafana-foundation-sdk', '@prometheus-io/lezer-promql', '@lezer'];
