/**
 * bench/inference-runtimes: the labs' inference workloads on tfjs-wasm, tfjs-wasm with the native
 * OpenBLAS kernels, and onnxruntime-node (the models exported as `introdl labN export` writes them),
 * side by side in one run:
 *
 * - lab1-generate: the course's music model (Embedding 256 → LSTM 1024 → Dense 83, random weights)
 *   generating characters one at a time with its state, batch 1 (chars/s);
 * - lab2-detect: the standard face classifier (seeded weights) over every sliding window of a 512×512
 *   photo (astronaut.png), crops and resizes included (windows/s; the run's seconds per photo);
 * - lab3-generate: greedy decoding with the KV cache, stories260K (INTRODL_DATA) and a stories15M-sized
 *   random model (dim 288, 6 layers), 128 new tokens (tokens/s).
 *
 *   npx tsx bench/inference-runtimes.ts [--repeats 3] [--quick]
 *
 * The wasm-without-native numbers come from a child process run with INTRODL_NATIVE=0 (the native
 * kernels are registered once per process). Writes bench/results/inference-runtimes.json; the PyTorch
 * twins are bench/reference/lab1_generate.py and bench/reference/lab2_detect.py.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createOnnxSession, floatTensor, nativeKernelStatus, Rng, type tf, writeOnnxModel } from '@introdl/core';
import { Vocabulary } from '../labs/lab1-music/dist/data/vocab.js';
import { sequenceGraph, stepGraph } from '../labs/lab1-music/dist/export/export-music.js';
import { OnnxMusicModel } from '../labs/lab1-music/dist/export/onnx-music-model.js';
import { generateText } from '../labs/lab1-music/dist/model/generate.js';
import { COURSE_MODEL, MusicModel } from '../labs/lab1-music/dist/model/music-model.js';
import { detectFaces, detectFacesWith } from '../labs/lab2-vision/dist/detect/sliding-window.js';
import { faceGraph } from '../labs/lab2-vision/dist/export/export-model.js';
import { makeStandardClassifier } from '../labs/lab2-vision/dist/faces/classifier.js';
import { readImage } from '../labs/lab2-vision/dist/image/codec.js';
import { exportLanguageModel } from '../labs/lab3-llm/dist/export/export-model.js';
import { OnnxCausalLM } from '../labs/lab3-llm/dist/export/onnx-language-model.js';
import { writeTinyLlama2c } from '../labs/lab3-llm/dist/fixtures/tiny.js';
import { loadModel } from '../labs/lab3-llm/dist/loaders/load-model.js';
import { generate } from '../labs/lab3-llm/dist/model/generate.js';
import { type BenchEntry, benchArgs, measure, report, tryBackend } from './lib/harness.js';

const args = benchArgs(['wasm']);
const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, 'only-tfjs': { type: 'string' } },
  strict: false,
});
const quick = Boolean(values.quick);
const childOut = values['only-tfjs'] as string | undefined;
const repeats = args.repeats ?? (quick ? 1 : 3);
const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'introdl-bench-ort-'));
const load = () => os.loadavg()[0];

const dataRoot = process.env.INTRODL_DATA ?? path.resolve(here, '..', '..', 'shared', 'data');
const photo = [
  path.join(dataRoot, 'lab2-faces', 'nonface-cc0', 'astronaut.png'),
  '/usr/lib/python3/dist-packages/skimage/data/astronaut.png',
].find((p) => existsSync(p));
const stories = path.join(dataRoot, 'lab3-llm', 'stories260K.bin');

const entries: BenchEntry[] = [];
const sel = await tryBackend('wasm');
if (!sel) throw new Error('the wasm backend is needed');
const tfjsImpl = nativeKernelStatus()?.active ? 'tfjs-wasm+native' : 'tfjs-wasm';

function entry(
  workload: string,
  impl: string,
  params: Record<string, unknown>,
  r: Awaited<ReturnType<typeof measure>>,
  throughput: { value: number; unit: string },
): void {
  const onnx = impl === 'onnxruntime-node';
  entries.push({
    workload,
    impl,
    backend: onnx ? 'onnxruntime-node' : 'wasm',
    device: onnx ? 'cpu execution provider' : (sel?.detail ?? ''),
    params: { ...params, loadAverage: load() },
    ...r,
    throughput,
  });
  console.error(`${workload} ${impl}: ${throughput.value.toFixed(1)} ${throughput.unit}`);
}

// Lab 1: the course music model.
{
  const chars = quick ? 200 : 1000;
  const model = new MusicModel(COURSE_MODEL, new Rng(1));
  const vocab = new Vocabulary(Array.from({ length: COURSE_MODEL.vocabSize }, (_, i) => String.fromCharCode(33 + i)));
  const run = (rng: Rng) => generateText(model, vocab, { start: vocab.chars[5], length: chars, rng });
  const r = await measure(() => run(new Rng(1)), { warmup: 1, repeats });
  entry('lab1-generate', tfjsImpl, { chars, units: COURSE_MODEL.units }, r, {
    value: chars / (r.medianMs / 1000),
    unit: 'chars/s',
  });
  if (!childOut) {
    const dir = path.join(work, 'lab1');
    writeOnnxModel(path.join(dir, 'music-step.onnx'), stepGraph(model));
    writeOnnxModel(path.join(dir, 'music-sequence.onnx'), sequenceGraph(model));
    const manifest = { lab: 'lab1-music', checkpoint: '', step: 0, model: COURSE_MODEL, vocab: vocab.chars.join('') };
    writeFileSync(
      path.join(dir, 'introdl-export.json'),
      JSON.stringify({ ...manifest, step_model: 'music-step.onnx', sequence_model: 'music-sequence.onnx' }),
    );
    const onnx = await OnnxMusicModel.load(dir);
    const o = await measure(() => onnx.generateText({ start: vocab.chars[5], length: chars, rng: new Rng(1) }), {
      warmup: 1,
      repeats,
    });
    entry('lab1-generate', 'onnxruntime-node', { chars, units: COURSE_MODEL.units }, o, {
      value: chars / (o.medianMs / 1000),
      unit: 'chars/s',
    });
    onnx.dispose();
  }
  model.dispose();
}

// Lab 2: sliding-window detection on a 512×512 photo.
if (photo) {
  const image = readImage(photo);
  const classifier = makeStandardClassifier(1, 1);
  const faceLogit = (x: tf.Tensor4D) => classifier.predict(x) as tf.Tensor2D;
  let windows = 0;
  const r = await measure(
    () => {
      windows = detectFaces(image, faceLogit).windows;
    },
    { warmup: 1, repeats },
  );
  const params = { photo: path.basename(photo), width: image.width, height: image.height, windows: 0 };
  entry('lab2-detect', tfjsImpl, { ...params, windows }, r, {
    value: windows / (r.medianMs / 1000),
    unit: 'windows/s',
  });
  if (!childOut) {
    const file = path.join(work, 'lab2', 'model.onnx');
    writeOnnxModel(file, faceGraph(classifier, 'classifier'));
    const session = await createOnnxSession(file);
    const score = async (data: Float32Array, n: number) =>
      (await session.run({ images: await floatTensor(data, [n, 64, 64, 3]) })).probability.data as Float32Array;
    const o = await measure(
      async () => {
        windows = (await detectFacesWith(image, score)).windows;
      },
      { warmup: 1, repeats },
    );
    entry('lab2-detect', 'onnxruntime-node', { ...params, windows }, o, {
      value: windows / (o.medianMs / 1000),
      unit: 'windows/s',
    });
    await session.release();
  }
  classifier.dispose();
}

// Lab 3: greedy decoding with the KV cache.
{
  const models: [string, string][] = [];
  if (existsSync(stories)) models.push(['stories260K', stories]);
  const medium = writeTinyLlama2c(path.join(work, 'medium'), {
    hiddenSize: 288,
    intermediateSize: 768,
    numLayers: 6,
    numHeads: 6,
    numKvHeads: 6,
    maxPositions: 256,
  });
  models.push(['llama-288x6 (random)', medium.modelPath]);
  const tokens = quick ? 32 : 128;
  for (const [label, file] of models) {
    const lm = await loadModel(file);
    const prompt = lm.tokenizer.encode('Once upon a time');
    const options = { maxNewTokens: tokens, temperature: 0, stopTokens: [] };
    const r = await measure(() => generate(lm.model, prompt, options), { warmup: 1, repeats });
    const params = { model: label, newTokens: tokens, promptTokens: prompt.length };
    entry(`lab3-generate-${label.split(' ')[0]}`, tfjsImpl, params, r, {
      value: tokens / (r.medianMs / 1000),
      unit: 'tokens/s',
    });
    lm.model.dispose();
    if (!childOut) {
      const dir = path.join(work, `lab3-${label.replace(/\W+/g, '')}`);
      await exportLanguageModel({ model: file, format: 'onnx', out: dir });
      const onnx = await OnnxCausalLM.load(dir);
      const o = await measure(() => onnx.generate(prompt, options), { warmup: 1, repeats });
      entry(`lab3-generate-${label.split(' ')[0]}`, 'onnxruntime-node', params, o, {
        value: tokens / (o.medianMs / 1000),
        unit: 'tokens/s',
      });
      onnx.dispose();
    }
  }
}

if (childOut) {
  writeFileSync(childOut, JSON.stringify(entries));
} else if (nativeKernelStatus()?.active) {
  // tfjs-wasm without the native kernels: the same script in a child with INTRODL_NATIVE=0.
  const out = path.join(work, 'wasm-only.json');
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--only-tfjs',
      out,
      '--repeats',
      String(repeats),
      ...(quick ? ['--quick'] : []),
    ],
    { env: { ...process.env, INTRODL_NATIVE: '0' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (child.status === 0) entries.push(...(JSON.parse(readFileSync(out, 'utf8')) as BenchEntry[]));
  else console.error('the wasm-only child run failed; its rows are missing');
}
rmSync(work, { recursive: true, force: true });
if (!childOut) {
  entries.sort(
    (a, b) =>
      a.workload.localeCompare(b.workload) || String(a.params.model ?? '').localeCompare(String(b.params.model ?? '')),
  );
  report('inference-runtimes', entries, args.out);
}
process.exit(0);
