import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOnnxFiles, pythonWithOnnx } from './checker.js';
import { OnnxGraph, onnxAttr } from './graph.js';
import { decodeModelProto } from './proto.js';
import { createOnnxSession, floatTensor, onnxRuntimeStatus } from './runtime.js';
import { writeOnnxModel } from './write.js';

const dir = mkdtempSync(path.join(tmpdir(), 'introdl-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** y = relu(x·W + b), softmax over the last axis; W big enough to go to external data when asked. */
function denseGraph(): { graph: OnnxGraph; w: Float32Array; b: Float32Array } {
  const g = new OnnxGraph('dense');
  const w = Float32Array.from({ length: 4 * 300 }, (_, i) => Math.sin(i) / 10);
  const b = Float32Array.from({ length: 300 }, (_, i) => i / 1000);
  const x = g.input('x', 'float32', ['batch', 4]);
  const z = g.op('Add', [g.op('MatMul', [x, g.weight('w', w, [4, 300])]), g.weight('b', b, [300])]);
  g.output(g.op('Softmax', [g.op('Relu', [z])], { axis: onnxAttr.int(-1) }), 'float32', ['batch', 300], 'y');
  return { graph: g, w, b };
}

function reference(x: number[], w: Float32Array, b: Float32Array): number[] {
  const z = Array.from({ length: 300 }, (_, j) =>
    Math.max(0, b[j] + x.reduce((s, xi, i) => s + xi * w[i * 300 + j], 0)),
  );
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, c) => a + c, 0);
  return e.map((v) => v / sum);
}

describe('ONNX graphs', () => {
  it('encodes a model that ONNX Runtime runs and that decodes back to the same graph', async () => {
    const { graph, w, b } = denseGraph();
    const file = path.join(dir, 'dense.onnx');
    writeOnnxModel(file, graph, { metadata: { what: 'test' } });
    const decoded = decodeModelProto(readFileSync(file)) as {
      ir_version: number;
      opset_import: { version: number }[];
      graph: { node: { op_type: string }[]; input: { name: string }[] };
      metadata_props: { key: string; value: string }[];
    };
    expect(decoded.ir_version).toBe(8);
    expect(decoded.opset_import[0].version).toBe(17);
    expect(decoded.graph.node.map((n) => n.op_type)).toEqual(['MatMul', 'Add', 'Relu', 'Softmax', 'Identity']);
    expect(decoded.metadata_props).toEqual([{ key: 'what', value: 'test' }]);
    const session = await createOnnxSession(file);
    const x = [0.5, -1, 2, 0.25];
    const out = await session.run({ x: await floatTensor(Float32Array.from([...x, ...x]), [2, 4]) });
    const y = out.y.data as Float32Array;
    const want = reference(x, w, b);
    for (let j = 0; j < 300; j++) {
      expect(y[j]).toBeCloseTo(want[j], 6);
      expect(y[300 + j]).toBeCloseTo(want[j], 6);
    }
  });

  it('writes large weights as external data that ONNX Runtime reads back', async () => {
    const { graph, w, b } = denseGraph();
    const file = path.join(dir, 'external.onnx');
    const sizes = writeOnnxModel(file, graph, { externalData: true, threshold: 1024 });
    expect(sizes.externalData).toBeGreaterThanOrEqual(w.byteLength + b.byteLength);
    expect(sizes.model).toBeLessThan(1024);
    const session = await createOnnxSession(file);
    const out = await session.run({ x: await floatTensor(Float32Array.from([1, 0, 0, 0]), [1, 4]) });
    expect((out.y.data as Float32Array)[7]).toBeCloseTo(reference([1, 0, 0, 0], w, b)[7], 6);
  });

  it('rejects a graph that reuses a name', () => {
    const g = new OnnxGraph('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(/used twice/);
  });

  it('lists the execution providers, and the CPU one works', async () => {
    const status = await onnxRuntimeStatus();
    expect(status.version).toMatch(/^\d+\.\d+/);
    expect(status.providers.find((p) => p.name === 'cpu')?.works).toBe(true);
  });

  it.runIf(pythonWithOnnx())('passes onnx.checker (full check)', () => {
    const results = checkOnnxFiles([path.join(dir, 'dense.onnx'), path.join(dir, 'external.onnx')]);
    for (const r of results) expect(r, r.message).toMatchObject({ ok: true });
  });
});
