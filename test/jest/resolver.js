/**
 * Jest resolves with the `require` condition. A few dependencies ship ESM only, with `import`-only export maps:
 * resolve those (and only those) with the `import` condition; jest.config.js transpiles them to CommonJS.
 */
const { esmPackages } = require('./esm-packages');

const pattern = new RegExp(`^(${esmPackages.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})(/|$)`);

module.exports = (request, options) =>
  options.defaultResolver(request, pattern.test(request) ? { ...options, conditions: ['import', 'default'] } : options);
