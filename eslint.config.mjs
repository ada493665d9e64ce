import nextCoreWebVitals from 'eslint-config-next/core-web-vitals';
import nextTypescript from 'eslint-config-next/typescript';

const config = [
  ...nextCoreWebVitals,
  ...nextTypescript,
  {
    ignores: ['.next/**', 'node_modules/**', '.data/**', '.scratch/**', 'next-env.d.ts', 'test-results/**', 'playwright-report/**', '.stryker-tmp/**', 'reports/**'],
  },
];

export default config;
