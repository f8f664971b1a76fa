import { spawnSync } from 'node:child_process';

/**
 * ONNX's own validator, `onnx.checker.check_model` (Python's `onnx` package, Debian's python3-onnx),
 * run on exported files by the tests. `INTRODL_PYTHON` picks the interpreter; otherwise the first of
 * `python3` and the system's /usr/bin/python3 that can import onnx.
 */

let found: string | null | undefined;

/** A Python interpreter that has the `onnx` package, or undefined when there is none. */
export function pythonWithOnnx(): string | undefined {
  if (found === undefined) {
    found = null;
    const candidates = [process.env.INTRODL_PYTHON, 'python3', '/usr/bin/python3'].filter(
      (p): p is string => typeof p === 'string' && p !== '',
    );
    for (const python of candidates) {
      const r = spawnSync(python, ['-c', 'import onnx'], { stdio: 'ignore' });
      if (r.status === 0) {
        found = python;
        break;
      }
    }
  }
  return found ?? undefined;
}

/** The checker's verdict on one file: ok, or its message. */
export interface OnnxCheck {
  file: string;
  ok: boolean;
  message: string;
}

const CHECK = `
import sys, onnx
for f in sys.argv[1:]:
    try:
        onnx.checker.check_model(f, full_check=True)
        print("ok\\t" + f)
    except Exception as e:
        print("fail\\t" + f + "\\t" + str(e).replace("\\n", " "))
`;

/**
 * Runs `onnx.checker.check_model(file, full_check=True)` (which also infers every shape) on each file.
 * @throws Error when no Python with onnx is installed.
 */
export function checkOnnxFiles(files: string[]): OnnxCheck[] {
  const python = pythonWithOnnx();
  if (!python) throw new Error('no python3 with the onnx package (apt-get install python3-onnx)');
  const r = spawnSync(python, ['-c', CHECK, ...files], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`onnx checker failed to run: ${r.stderr}`);
  const results = new Map<string, OnnxCheck>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [status, file, message = ''] = line.split('\t');
    results.set(file, { file, ok: status === 'ok', message });
  }
  return files.map((f) => results.get(f) ?? { file: f, ok: false, message: 'not checked' });
}
