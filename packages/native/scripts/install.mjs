#!/usr/bin/env node
/**
 * Builds the addon with node-gyp at install time. The package is optional, so a machine without a
 * C compiler or OpenBLAS must still install: we check the prerequisites first, and on any failure
 * write the reason to install-error.txt (which the loader reports), print one clear warning and exit
 * 0, so `npm ci` goes on and introdl uses its WebAssembly kernels. Set INTRODL_NATIVE_REQUIRED=1
 * (for CI) to make a failed build fail the install instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const errorFile = path.join(root, 'install-error.txt');
const addon = path.join(root, 'build', 'Release', 'introdl_native.node');
const required = process.env.INTRODL_NATIVE_REQUIRED === '1';
const FIX = 'apt-get install -y build-essential libopenblas-dev (Debian/Ubuntu), then `npm rebuild @introdl/native`';

function giveUp(reason, log = '') {
  rmSync(addon, { force: true });
  writeFileSync(errorFile, `${reason}\n`);
  if (log) process.stderr.write(`${log.trim().split('\n').slice(-15).join('\n')}\n`);
  process.stderr.write(
    `@introdl/native: not built: ${reason}.\n` +
      `  introdl will use its WebAssembly kernels instead (several times slower on matmuls and convolutions).\n` +
      `  To build it: ${FIX}.\n`,
  );
  process.exit(required ? 1 : 0);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  return { ok: r.status === 0, missing: r.error?.code === 'ENOENT', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

rmSync(errorFile, { force: true });
if (process.env.INTRODL_NATIVE_BUILD === '0') giveUp('skipped because INTRODL_NATIVE_BUILD=0');

// 1. A C compiler and make, which node-gyp drives.
const cc = process.env.CC || 'cc';
if (!run(cc, ['--version']).ok) giveUp(`no C compiler (\`${cc}\` not found)`);
if (!run('make', ['--version']).ok) giveUp('no `make` found');

// 2. OpenBLAS: compile and link a two-line program against it, to say which half is missing.
const probeDir = mkdtempSync(path.join(os.tmpdir(), 'introdl-native-'));
try {
  const src = path.join(probeDir, 'probe.c');
  writeFileSync(src, '#include <cblas.h>\nint main(void) { return openblas_get_num_threads() > 0 ? 0 : 1; }\n');
  const probe = run(cc, [src, '-I/usr/include/openblas', '-o', path.join(probeDir, 'probe'), '-lopenblas']);
  if (!probe.ok) {
    if (/cblas\.h/.test(probe.out)) giveUp('OpenBLAS headers (cblas.h) not found', probe.out);
    if (/-lopenblas|openblas/.test(probe.out)) giveUp('the OpenBLAS library (libopenblas) not found', probe.out);
    giveUp('a test program linking OpenBLAS does not compile', probe.out);
  }
} finally {
  rmSync(probeDir, { recursive: true, force: true });
}

// 3. node-gyp: npm tells scripts where its own copy is; otherwise look next to node, then on PATH.
const bundled = path.join(
  path.dirname(process.execPath),
  '..',
  'lib',
  'node_modules',
  'npm',
  'node_modules',
  'node-gyp',
  'bin',
  'node-gyp.js',
);
const gypJs = [process.env.npm_config_node_gyp, bundled].find((p) => p && existsSync(p));
const gypArgs = ['rebuild'];
// Use the headers installed with node (Debian's nodejs puts them under /usr/include/node) rather than downloading.
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) {
  gypArgs.push(`--nodedir=${prefix}`);
}
const build = gypJs
  ? run(process.execPath, [gypJs, ...gypArgs], { cwd: root })
  : run('node-gyp', gypArgs, { cwd: root });
if (!gypJs && build.missing) giveUp('node-gyp not found (it ships with npm)');
if (!build.ok) {
  if (/getaddrinfo|network|ECONNREFUSED|ETIMEDOUT/i.test(build.out)) {
    giveUp(
      'node-gyp could not download the Node headers (offline?); set `npm config set nodedir <node prefix>`',
      build.out,
    );
  }
  giveUp('node-gyp rebuild failed', build.out);
}

// 4. Load the result in a fresh process and multiply two 2×2 matrices.
const smoke = run(process.execPath, [
  '-e',
  `const m = require(${JSON.stringify(addon)}); const a = new Float32Array([1, 2, 3, 4]); const c = new Float32Array(4);
   m.sgemm(false, false, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2);
   if (c.join() !== '7,10,15,22') { console.error('wrong product ' + c.join()); process.exit(1); }
   console.log(m.info().config);`,
]);
if (!smoke.ok) giveUp('the built addon does not load or computes a wrong product', smoke.out);
process.stdout.write(`@introdl/native: built over ${smoke.out.trim()}\n`);
