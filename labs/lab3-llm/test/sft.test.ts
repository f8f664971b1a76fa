import path from 'node:path';
import { Adam, readSafetensors, tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerLoss,
  answerMask,
  answerStart,
  buildSequence,
  chooseTemplate,
  GEMMA_TEMPLATE,
  GradientAccumulation,
  HfTokenizer,
  loadModel,
  PLAIN_TEMPLATE,
  padBatch,
  referenceLogits,
  runSft,
  SftBatches,
  syntheticYodaPairs,
  syntheticYodaPassage,
  tokenNll,
  writeTinyHfModel,
  writeTinyLlama2c,
  yodaTestLoss,
} from '../src/index.js';
import { tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('the answer mask', () => {
  it('marks tokens starting at or after the answer (offset_start >= text.index(answer))', () => {
    expect(answerMask([0, 0, 3, 9, 12, 15], 9)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('with a Hugging Face tokenizer and the model template: prompt 0, answer and end-of-turn 1', async () => {
    const folder = writeTinyHfModel(path.join(tmpDir(), 'm')).folder;
    const tok = await HfTokenizer.load(folder);
    const template = chooseTemplate('auto', tok);
    const seq = buildSequence(tok, template, { question: 'Is it on?', answer: 'On, it is.' }, 512);
    const text = template.withAnswer('Is it on?', 'On, it is.');
    const trained = tok.decode(seq.ids.filter((_, i) => seq.mask[i] === 1));
    expect(trained).toBe('On, it is.<|im_end|>\n');
    expect(text.endsWith(trained)).toBe(true);
    expect(seq.mask.indexOf(1)).toBeGreaterThan(5);
  });

  it('with the llama2.c tokenizer and the plain template', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const { tokenizer, model } = await loadModel(tiny.modelPath);
    const seq = buildSequence(tokenizer, PLAIN_TEMPLATE, { question: 'the cat', answer: 'you must' }, 512);
    expect(tokenizer.decode(seq.ids.filter((_, i) => seq.mask[i] === 1))).toBe('you must\n');
    const cut = buildSequence(tokenizer, PLAIN_TEMPLATE, { question: 'the cat', answer: 'you must' }, 5);
    expect(cut.ids.length).toBe(5);
    model.dispose();
  });

  it("answerStart uses the prompt length, not the answer's first occurrence", () => {
    const q = 'Say: the force';
    expect(answerStart(GEMMA_TEMPLATE, q, 'the force')).toBe(GEMMA_TEMPLATE.withoutAnswer(q).length);
    expect(GEMMA_TEMPLATE.withAnswer(q, 'the force').indexOf('the force')).toBeLessThan(
      GEMMA_TEMPLATE.withoutAnswer(q).length,
    );
  });
});

describe('the loss on answer tokens', () => {
  it('tokenNll equals −log softmax at the target', () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 5],
    ]);
    const nll = tokenNll(logits, tf.tensor1d([0, 2], 'int32')).arraySync();
    const lse = (r: number[]) => Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
    expect(nll[0]).toBeCloseTo(lse([1, 2, 3]) - 1, 5);
    expect(nll[1]).toBeCloseTo(lse([0, 0, 5]) - 5, 5);
  });

  it('answerLoss is the mean NLL over masked positions of the shifted sequence (checked against the reference forward)', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const { model } = await loadModel(tiny.folder);
    const seq = { ids: [0, 50, 60, 70, 80, 90], mask: [0, 0, 0, 1, 1, 1] };
    const pad = { ids: [0, 51, 61], mask: [0, 1, 1] };
    const batch = padBatch([seq, pad], 2);
    expect(batch.ids.shape).toEqual([2, 6]);
    const loss = tf.tidy(() => answerLoss(model, batch.ids, batch.mask).dataSync()[0]);
    const V = tiny.config.vocabSize;
    let sum = 0;
    let n = 0;
    for (const s of [seq, pad]) {
      const logits = referenceLogits(tiny.config, tiny.weights, s.ids.slice(0, -1), { rope: 'half' });
      for (let t = 1; t < s.ids.length; t++) {
        if (!s.mask[t]) continue;
        const row = logits.subarray((t - 1) * V, t * V);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
        sum += lse - row[s.ids[t]];
        n++;
      }
    }
    expect(loss).toBeCloseTo(sum / n, 4);
    model.dispose();
  });
});

describe('optimizers', () => {
  it('gradient accumulation hands the mean of k gradients to the inner optimizer once per k calls', () => {
    const w1 = tf.variable(tf.tensor1d([1, 1]));
    const w2 = tf.variable(tf.tensor1d([1, 1]));
    const accum = new GradientAccumulation(new Adam(0.1), 2);
    const direct = new Adam(0.1);
    accum.applyGradients(new Map([['w', w1]]), { w: tf.tensor1d([1, 3]) });
    expect(Array.from(w1.dataSync())).toEqual([1, 1]);
    expect(accum.pending).toBe(1);
    const state = accum.getState();
    expect([...state.tensors.keys()]).toContain('accumulated/w');
    accum.applyGradients(new Map([['w', w1]]), { w: tf.tensor1d([3, -1]) });
    direct.applyGradients(new Map([['w', w2]]), { w: tf.tensor1d([2, 1]) });
    expect(Array.from(w1.dataSync())).toEqual(Array.from(w2.dataSync()));
  });
});

describe('batches', () => {
  it('are a pure function of the step (resume draws the same ones), each epoch a permutation', () => {
    const make = () => new SftBatches((i) => ({ ids: [0, i + 10], mask: [0, 1] }), 5, 2, 0, 7);
    const a = make();
    const b = make();
    const seen = [1, 2, 3, 4, 5].flatMap((s) => a.indices(s));
    expect(b.indices(4)).toEqual(a.indices(4));
    expect([...seen.slice(0, 5)].sort()).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('supervised fine-tuning through the core Trainer', () => {
  it('lowers the NLL of a held-out passage in the trained style, leaves the base frozen, saves the adapter', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), { hiddenSize: 32, intermediateSize: 48 });
    const lm = await loadModel(tiny.folder);
    const embedBefore = lm.model.weight('model.embed_tokens.weight').dataSync().slice();
    const passage = syntheticYodaPassage();
    const out = path.join(tmpDir(), 'run');
    const result = await runSft({
      lm,
      pairs: syntheticYodaPairs(64, 1),
      template: chooseTemplate('auto', lm.tokenizer),
      steps: 24,
      learningRate: 3e-3,
      lora: { r: 4, alpha: 8 },
      batchSize: 2,
      gradAccum: 2,
      seed: 1,
      out,
      evalText: passage,
      progress: 'silent',
      checkpointEvery: 12,
      log: () => {},
    });
    console.log(
      `tiny SFT: metric ${result.metricBefore?.toFixed(3)} → ${result.metricAfter?.toFixed(3)}, loss ${result.losses[0].loss.toFixed(3)} → ${result.losses.at(-1)?.loss.toFixed(3)}, ${result.secondsPerUpdate.toFixed(2)} s/update`,
    );
    expect(result.metricAfter!).toBeLessThan(result.metricBefore! - 0.5);
    expect(result.losses.length).toBe(48);
    expect(Array.from(lm.model.weight('model.embed_tokens.weight').dataSync())).toEqual(Array.from(embedBefore));
    const saved = readSafetensors(path.join(result.adapterDir, 'adapter_model.safetensors')).tensors;
    expect([...saved.keys()].every((k) => k.startsWith('base_model.model.model.layers.'))).toBe(true);
    // the checkpoints hold the adapter (and optimizer), nothing of the frozen base
    const ckpt = readSafetensors(path.join(out, 'checkpoints', '24', 'weights.safetensors')).tensors;
    expect([...ckpt.keys()].every((k) => k.includes('lora_'))).toBe(true);
    lm.model.dispose();
    const reloaded = await loadModel(tiny.folder, { adapter: result.adapterDir });
    expect(yodaTestLoss(reloaded.model, reloaded.tokenizer, passage).loss).toBeCloseTo(result.metricAfter!, 4);
    reloaded.model.dispose();
  });

  it('continues training an adapter loaded with the model (leprechaun, then Yoda)', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const first = await loadModel(tiny.modelPath);
    const a = await runSft({
      lm: first,
      pairs: syntheticYodaPairs(8, 1),
      template: PLAIN_TEMPLATE,
      steps: 2,
      lora: { r: 2, targets: ['q_proj'] },
      seed: 1,
      out: path.join(tmpDir(), 'r1'),
      progress: 'silent',
      log: () => {},
    });
    first.model.dispose();
    const second = await loadModel(tiny.modelPath, { adapter: a.adapterDir });
    const b = await runSft({
      lm: second,
      pairs: syntheticYodaPairs(8, 2),
      template: PLAIN_TEMPLATE,
      steps: 2,
      seed: 1,
      out: path.join(tmpDir(), 'r2'),
      progress: 'silent',
      log: () => {},
    });
    expect(b.trainable).toBe(a.trainable);
    const before = readSafetensors(path.join(a.adapterDir, 'adapter_model.safetensors')).tensors;
    const after = readSafetensors(path.join(b.adapterDir, 'adapter_model.safetensors')).tensors;
    expect([...after.keys()]).toEqual([...before.keys()]);
    const name = 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight';
    expect(Array.from(after.get(name)!.data)).not.toEqual(Array.from(before.get(name)!.data));
    second.model.dispose();
  });

  it('resumes exactly: 6 updates, then resume to 12, equals 12 straight', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const pairs = syntheticYodaPairs(20, 2);
    const train = async (out: string, steps: number, resume: boolean) => {
      const lm = await loadModel(tiny.modelPath);
      const r = await runSft({
        lm,
        pairs,
        template: PLAIN_TEMPLATE,
        steps,
        learningRate: 1e-3,
        lora: { r: 2, dropout: 0.1 },
        seed: 3,
        out,
        resume,
        checkpointEvery: 6,
        progress: 'silent',
        log: () => {},
      });
      lm.model.dispose();
      return r;
    };
    const straight = path.join(tmpDir(), 'a');
    await train(straight, 12, false);
    const split = path.join(tmpDir(), 'b');
    await train(split, 6, false);
    await train(split, 12, true);
    const a = readSafetensors(path.join(straight, 'outputs', 'adapter', 'adapter_model.safetensors')).tensors;
    const b = readSafetensors(path.join(split, 'outputs', 'adapter', 'adapter_model.safetensors')).tensors;
    for (const [name, t] of a) expect(Array.from(b.get(name)!.data), name).toEqual(Array.from(t.data));
  });
});
