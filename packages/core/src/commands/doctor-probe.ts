import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What {@link probeInChild} can probe. */
export type ChildProbe = 'webgpu' | 'onnx';

/** Longest a probe may take: llvmpipe compiles a shader on first use, which can take seconds. */
const PROBE_TIMEOUT_MS = 120_000;

/**
 * Runs one of doctor's probes in a child process and returns what it printed, parsed, or
 * `{ failure }` saying why it gave no answer. Dawn — in the `webgpu` package and inside
 * onnxruntime-node's WebGPU provider — writes its own warnings from C++ straight to stderr
 * ("Couldn't load Vulkan … at operator() (…/BackendVk.cpp:368)" without a GPU, Mesa's
 * "artificially reduced" limits), and Node cannot silence a native library's stderr in its own
 * process. The child's stderr is dropped when it answers. Resolves undefined when running from the
 * TypeScript sources (tests), where there is no compiled script to start: probe in-process then.
 */
export async function probeInChild<T>(kind: ChildProbe): Promise<{ value: T } | { failure: string } | undefined> {
  const script = fileURLToPath(new URL('./doctor-probe-main.js', import.meta.url));
  if (!existsSync(script)) return undefined;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, kind],
      { timeout: PROBE_TIMEOUT_MS, maxBuffer: 4 * 2 ** 20, env: process.env },
      (err, stdout, stderr) => {
        const line = stdout
          .split('\n')
          .reverse()
          .find((l) => l.startsWith('{'));
        if (line) {
          try {
            resolve({ value: JSON.parse(line) as T });
            return;
          } catch {
            // no answer: say why below
          }
        }
        resolve({ failure: probeFailure(err, stderr) });
      },
    );
  });
}

/** One line saying why the probe process gave no answer. */
function probeFailure(err: Error | null, stderr: string): string {
  const signal = (err as (Error & { signal?: string }) | null)?.signal;
  if (signal) return `the probe was stopped (${signal}) after ${PROBE_TIMEOUT_MS / 1000} s`;
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at ') && !l.startsWith('Warning: '));
  return `the probe crashed${lines.length ? `: ${lines[0].slice(0, 300)}` : ` (${err?.message.split('\n')[0] ?? 'no output'})`}`;
}
