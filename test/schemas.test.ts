import { validateManifest, validateManifests } from './support/schemas';

describe('schema validation helper', () => {
  test('accepts a valid core object and rejects a wrong type with the path', () => {
    // GIVEN
    const good = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } };
    const bad = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { backoffLimit: 'zero', template: { spec: { containers: [] } } },
    };
    // THEN
    expect(validateManifest(good)).toEqual([]);
    expect(validateManifest(bad).join('\n')).toMatch(/Job \/j: .*backoffLimit/);
  });

  test('validates prometheus-operator kinds', () => {
    const sm = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 's' },
      spec: { endpoints: [{ port: 7 }], selector: {} },
    };
    expect(validateManifest(sm).join('\n')).toMatch(/port/);
  });

  test('validates a k6.io TestRun against the CRD schema, strict about unknown fields', () => {
    // GIVEN
    const base = { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 't' } };
    const good = { ...base, spec: { parallelism: 2, script: { configMap: { name: 'cm', file: 'sample.js' } } } };
    const typo = { ...base, spec: { parallelism: 2, paralelism: 3, script: { configMap: { name: 'cm', file: 'sample.js' } } } };
    const wrongType = { ...base, spec: { parallelism: '2', script: { configMap: { name: 'cm', file: 'x.js' } } } };
    // THEN
    expect(validateManifest(good)).toEqual([]);
    expect(validateManifest(typo).join('\n')).toMatch(/\/spec must NOT have additional properties .*paralelism/);
    expect(validateManifest(wrongType).join('\n')).toMatch(/\/spec\/parallelism must be integer/);
  });

  test('refuses kinds it has no schema for', () => {
    expect(validateManifests([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual([
      'Widget /w: no schema for example.com/v1 Widget (add its models to test/support/schemas.ts)',
    ]);
  });
});
