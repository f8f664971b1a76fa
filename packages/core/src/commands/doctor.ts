import { dataStatus } from '../data/locate.js';
import { type OnnxRuntimeStatus, onnxRuntimeStatus } from '../onnx/runtime.js';
import { versions } from '../run/run-folder.js';
import type { BackendStatus } from '../runtime/backend-names.js';
import { probeAllBackends } from '../runtime/backends.js';
import { nativeKernelStatus } from '../runtime/native-kernels.js';
import { probeInChild } from './doctor-probe.js';

/** What `introdl doctor` found. */
export interface DoctorReport {
  versions: Record<string, string>;
  backends: BackendStatus[];
  /** Which matmul the CPU (wasm) backend uses: OpenBLAS through @introdl/native, or wasm and why. */
  cpuMatmul: string;
  /** onnxruntime-node (for `--runtime onnx` on exported models) and its execution providers. */
  onnxRuntime: OnnxRuntimeStatus;
  data: Awaited<ReturnType<typeof dataStatus>>;
  ok: boolean;
}

/** Probes every backend and the data folders. `ok` when at least one backend works. */
export async function runDoctor(): Promise<DoctorReport> {
  // WebGPU and ONNX Runtime's providers are probed in child processes: see probeInChild.
  const backends = await probeAllBackends({ probeWebGPU: webgpuInChild });
  const cpuMatmul = nativeKernelStatus()?.matmul ?? 'wasm (the wasm backend did not load)';
  const ort = await probeInChild<OnnxRuntimeStatus>('onnx');
  const onnxRuntime = !ort
    ? await onnxRuntimeStatus()
    : 'value' in ort
      ? ort.value
      : { providers: [], error: ort.failure };
  return {
    versions: versions(),
    backends,
    cpuMatmul,
    onnxRuntime,
    data: await dataStatus(),
    ok: backends.some((b) => b.works),
  };
}

/** The webgpu backend's status from a child process (undefined: probe in-process). */
async function webgpuInChild(): Promise<BackendStatus | undefined> {
  const r = await probeInChild<BackendStatus>('webgpu');
  if (!r) return undefined;
  return 'value' in r ? r.value : { name: 'webgpu', works: false, detail: `the WebGPU ${r.failure.slice(4)}` };
}

/** The report as the lines the CLI prints. */
export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = ['introdl doctor', '', 'Versions'];
  for (const [k, v] of Object.entries(r.versions)) lines.push(`  ${k.padEnd(32)} ${v}`);
  lines.push('', 'Backends (fastest first; --backend auto takes the first that works)');
  for (const b of r.backends) lines.push(`  ${b.name.padEnd(8)} ${b.works ? 'works  ' : 'no     '} ${b.detail}`);
  lines.push(`  CPU matmul (wasm backend): ${r.cpuMatmul}`);
  const ort = r.onnxRuntime;
  lines.push('', `ONNX Runtime (--runtime onnx): onnxruntime-node ${ort.version ?? `not loaded: ${ort.error}`}`);
  for (const p of ort.providers)
    lines.push(
      `  ${p.name.padEnd(8)} ${p.works ? 'works  ' : p.bundled ? 'no     ' : 'absent '} ${p.detail ?? (p.works ? 'execution provider' : '')}`,
    );
  lines.push('', 'Data');
  for (const line of formatDataStatus(r.data)) lines.push(`  ${line}`);
  const best = r.backends.find((b) => b.works && !b.software);
  lines.push('', 'Next');
  if (!best) lines.push('  No backend works: reinstall with `npm ci`, then run `introdl doctor` again.');
  else lines.push(`  Runs will use ${best.name}. Try \`introdl core demo\`.`);
  if (!r.data.dataRoot.set)
    lines.push('  Set INTRODL_DATA to the folder holding the course data (see README) to run the labs offline.');
  return lines.join('\n');
}

function formatDataStatus(d: DoctorReport['data']): string[] {
  const out: string[] = [];
  const env = d.dataRoot;
  out.push(env.set ? `INTRODL_DATA ${env.path} ${env.exists ? '(found)' : '(missing!)'}` : 'INTRODL_DATA not set');
  out.push(
    `cache        ${d.cache.path} (from ${d.cache.from}; ${d.cache.exists ? 'exists' : 'not created yet'}, ${d.cache.writable ? 'writable' : 'not writable'})`,
  );
  out.push("Fashion-MNIST is also read from Debian's dataset-fashion-mnist package when installed");
  return out;
}
