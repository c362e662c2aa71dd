// @ts-check
import tseslint from 'typescript-eslint';
import jest from 'eslint-plugin-jest';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.dist.*/**',
      'constructs/lib/**',
      'cli/lib/**',
      '.cdk8s.out/**',
      '.tools/**',
      'cli/scaffold/templates/**',
      'constructs/src/imports/**',
      'coverage/**',
      '.cache/**',
      'scripts/**',
      'dashboards/generated/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-syntax': [
        'error',
        { selector: "LogicalExpression[operator='||'][right.type='Literal']", message: "Use '??' for defaults: '||' eats 0 and ''." },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/valid-expect': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'assert*'] }],
    },
  },
);
