/**
 * Run as a script by {@link probeInChild}: probes one thing in this process and prints what it
 * found as one JSON line on stdout. `webgpu`: the webgpu backend's status; `onnx`: onnxruntime-node
 * and its execution providers. Not imported by anything else.
 */
import { onnxRuntimeStatus } from '../onnx/runtime.js';
import { probeBackend } from '../runtime/backends.js';

const kind = process.argv[2];
const found =
  kind === 'webgpu' ? await probeBackend('webgpu') : kind === 'onnx' ? await onnxRuntimeStatus() : undefined;
process.stdout.write(`${JSON.stringify(found ?? { unknownProbe: kind })}\n`);
// Dawn's device and threads would keep the process alive; the answer is written.
process.exit(0);
