import path from 'node:path';
import { onnxAttr as a, OnnxGraph, tf, writeExportFolder, writeFileAtomicSync, writeOnnxModel } from '@introdl/core';
import { loadMusicModel } from '../model/checkpoint.js';
import type { MusicModel, MusicModelConfig } from '../model/music-model.js';

/**
 * `introdl lab1 export --format onnx`: the music model as two ONNX files and a manifest.
 *
 * - `music-step.onnx`, one step of stateful generation: `ids` [batch] int64 (this character), `h`
 *   and `c` [batch, units] (the state after the previous one) → `logits` [batch, vocab] (scores of the
 *   next character), `h_next`, `c_next`. Like the tfjs generator, the embedding is folded into the
 *   LSTM's input weights once (a [vocab, 4·units] table), so a step is one row lookup and one matmul.
 * - `music-sequence.onnx`, a whole sequence with ONNX's LSTM operator: `ids` [batch, time], `h`, `c`
 *   (zeros to start) → `logits` [batch, time, vocab], `h_next`, `c_next` (the state after the last
 *   character, to continue with the step model).
 * - `introdl-export.json`: sizes, the vocabulary in index order and where the weights came from.
 *
 * Gate order: Keras keeps (i, f, c, o); ONNX's LSTM wants (i, o, f, c), so the sequence model's
 * weights are reordered; the step model splits in the Keras order itself.
 */

export const MANIFEST = 'introdl-export.json';

/** What `introdl-export.json` says. */
export interface MusicExportManifest {
  lab: 'lab1-music';
  checkpoint: string;
  step: number;
  model: MusicModelConfig;
  vocab: string;
  step_model: string;
  sequence_model: string;
}

function values(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** The one-step model (see the module comment). */
export function stepGraph(model: MusicModel): OnnxGraph {
  const { vocabSize: V, units: U } = model.config;
  const g = new OnnxGraph('music-step');
  const ids = g.input('ids', 'int64', ['batch']);
  const h = g.input('h', 'float32', ['batch', U]);
  const c = g.input('c', 'float32', ['batch', U]);
  const table = tf.tidy(() => model.lstm.projectInputs(model.embedding.embeddings as tf.Tensor as tf.Tensor2D));
  const projected = g.weight('projected_embedding', values(table), [V, 4 * U]);
  table.dispose();
  const recurrent = g.weight('lstm.recurrent_kernel', values(model.lstm.recurrentKernel), [U, 4 * U]);
  const z = g.op('Add', [g.op('Gather', [projected, ids], { axis: a.int(0) }), g.op('MatMul', [h, recurrent])]);
  const [zi, zf, zc, zo] = g.node('Split', [z, g.ints([U, U, U, U])], { axis: a.int(1) }, 4);
  const cNext = g.op('Add', [
    g.op('Mul', [g.op('Sigmoid', [zf]), c]),
    g.op('Mul', [g.op('Sigmoid', [zi]), g.op('Tanh', [zc])]),
  ]);
  const hNext = g.op('Mul', [g.op('Sigmoid', [zo]), g.op('Tanh', [cNext])]);
  const logits = g.op('Add', [
    g.op('MatMul', [hNext, g.weight('dense.kernel', values(model.dense.kernel), [U, V])]),
    g.weight('dense.bias', values(model.dense.bias as tf.Variable), [V]),
  ]);
  g.output(logits, 'float32', ['batch', V], 'logits');
  g.output(hNext, 'float32', ['batch', U], 'h_next');
  g.output(cNext, 'float32', ['batch', U], 'c_next');
  return g;
}

/** Keras (i, f, c, o) blocks of the last axis → ONNX (i, o, f, c), transposed to [4·units, in]. */
function onnxGates(w: Float32Array, rows: number, units: number): Float32Array {
  const out = new Float32Array(w.length);
  const order = [0, 3, 1, 2]; // ONNX block k comes from Keras block order[k]
  for (let k = 0; k < 4; k++)
    for (let j = 0; j < units; j++)
      for (let r = 0; r < rows; r++) out[(k * units + j) * rows + r] = w[r * 4 * units + order[k] * units + j];
  return out;
}

/** The whole-sequence model (see the module comment). */
export function sequenceGraph(model: MusicModel): OnnxGraph {
  const { vocabSize: V, embeddingDim: E, units: U } = model.config;
  const g = new OnnxGraph('music-sequence');
  const ids = g.input('ids', 'int64', ['batch', 'time']);
  const h = g.input('h', 'float32', ['batch', U]);
  const c = g.input('c', 'float32', ['batch', U]);
  const embedded = g.op('Gather', [g.weight('embedding', values(model.embedding.embeddings), [V, E]), ids], {
    axis: a.int(0),
  });
  const x = g.op('Transpose', [embedded], { perm: a.ints([1, 0, 2]) }); // [time, batch, E]
  const W = g.weight('lstm.W', onnxGates(values(model.lstm.kernel), E, U), [1, 4 * U, E]);
  const R = g.weight('lstm.R', onnxGates(values(model.lstm.recurrentKernel), U, U), [1, 4 * U, U]);
  const bias = onnxGates(values(model.lstm.bias), 1, U);
  const B = g.weight('lstm.B', Float32Array.from([...bias, ...new Float32Array(4 * U)]), [1, 8 * U]);
  const [Y, hLast, cLast] = g.node(
    'LSTM',
    [x, W, R, B, '', g.op('Unsqueeze', [h, g.ints([0])]), g.op('Unsqueeze', [c, g.ints([0])])],
    { hidden_size: a.int(U), direction: a.string('forward') },
    3,
  );
  // Y [time, 1, batch, U] → [batch, time, U]
  const outputs = g.op('Transpose', [g.op('Squeeze', [Y, g.ints([1])])], { perm: a.ints([1, 0, 2]) });
  const logits = g.op('Add', [
    g.op('MatMul', [outputs, g.weight('dense.kernel', values(model.dense.kernel), [U, V])]),
    g.weight('dense.bias', values(model.dense.bias as tf.Variable), [V]),
  ]);
  g.output(logits, 'float32', ['batch', 'time', V], 'logits');
  g.output(g.op('Squeeze', [hLast, g.ints([0])]), 'float32', ['batch', U], 'h_next');
  g.output(g.op('Squeeze', [cLast, g.ints([0])]), 'float32', ['batch', U], 'c_next');
  return g;
}

/** Exports the model of a Lab 1 run folder or checkpoint. */
export async function exportMusicModel(options: {
  checkpoint: string;
  out: string;
  log?: (m: string) => void;
}): Promise<{ dir: string; files: string[]; manifest: MusicExportManifest }> {
  const loaded = loadMusicModel(options.checkpoint);
  try {
    const manifest: MusicExportManifest = {
      lab: 'lab1-music',
      checkpoint: loaded.dir,
      step: loaded.step,
      model: loaded.config.model,
      vocab: loaded.config.vocab,
      step_model: 'music-step.onnx',
      sequence_model: 'music-sequence.onnx',
    };
    const files: string[] = [];
    const dir = await writeExportFolder(options.out, (tmp) => {
      for (const [file, graph] of [
        [manifest.step_model, stepGraph(loaded.model)],
        [manifest.sequence_model, sequenceGraph(loaded.model)],
      ] as const) {
        const size = writeOnnxModel(path.join(tmp, file), graph, {
          docString: `introdl lab1 music model from ${loaded.dir} (step ${loaded.step})`,
        });
        options.log?.(`${file}: ${(size.model / 1e6).toFixed(1)} MB`);
        files.push(file);
      }
      writeFileAtomicSync(path.join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
      files.push(MANIFEST);
      return path.resolve(options.out);
    });
    return { dir, files, manifest };
  } finally {
    loaded.model.dispose();
  }
}
