import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web app: plain TypeScript pages, built into dist/app, served by the studio's own server.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../../dist/app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
  },
  logLevel: 'warn',
});
