import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/hono': 'src/adapters/hono.ts',
    'adapters/koa': 'src/adapters/koa.ts',
    'metrics/prometheus': 'src/metrics/prometheus-metrics.ts',
    'cli/main': 'src/cli/main.ts',
    dashboard: 'src/dashboard/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // No sourcemaps: they would point at src/, which is not published. The output is not
  // minified and marks each source file (`// src/store.ts`), so stack traces read as is.
  sourcemap: false,
  target: 'node20',
  splitting: true,
});
