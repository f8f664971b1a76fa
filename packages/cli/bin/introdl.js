#!/usr/bin/env node
// The `introdl` command. This file is tracked (not built) on purpose: npm links workspace bins
// during `npm ci`, before the root `prepare` script has built dist/, and skips a bin whose file
// does not exist yet. So the link points here, and this file loads the built CLI when it runs.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    console.error(
      'introdl: the CLI is not built yet; run `npm run build` in the repository root (npm ci does it too).',
    );
    process.exit(1);
  }
  throw error;
}
