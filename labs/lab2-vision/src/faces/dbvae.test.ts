import { tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters } from '../digits/models.js';
import { makeStandardClassifier } from './classifier.js';
import { DbVae } from './dbvae.js';
import { debiasingLoss, sampleLatent, vaeLoss } from './dbvae-losses.js';
import { makeFaceDecoder } from './decoder.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const t4 = (v: number[], shape: [number, number, number, number]) => tf.tensor4d(v, shape);

describe('DB-VAE losses (the course corrected)', () => {
  it('vaeLoss = klWeight·0.5·Σ(e^ls + mu² − 1 − ls) + mean|x − x̂|', () => {
    const x = t4([0, 1, 0.5, 0.5], [1, 1, 2, 2]);
    const xr = t4([0.5, 0.5, 0.5, 1], [1, 1, 2, 2]);
    const mu = tf.tensor2d([[1, -2]]);
    const ls = tf.tensor2d([[0, Math.log(4)]]);
    const kl = 0.5 * (1 + 1 - 1 - 0 + (4 + 4 - 1 - Math.log(4)));
    const recon = (0.5 + 0.5 + 0 + 0.5) / 4;
    expect(vaeLoss(x, xr, mu, ls, 0.5).dataSync()[0]).toBeCloseTo(0.5 * kl + recon, 5);
    expect(vaeLoss(x, xr, mu, ls).dataSync()[0]).toBeCloseTo(0.0005 * kl + recon, 6);
  });

  it('sampling uses the standard deviation exp(0.5·logsigma), not exp(logsigma)', () => {
    const mu = tf.tensor2d([[1, 2]]);
    const ls = tf.tensor2d([[Math.log(9), 0]]);
    const eps = tf.tensor2d([[1, -1]]);
    expect(Array.from(sampleLatent(mu, ls, eps).dataSync())).toEqual([4, 1]);
  });

  it('total = mean(classification + face·VAE): non-faces pay only the classification loss', () => {
    const x = tf.zeros([2, 2, 2, 3]) as tf.Tensor4D;
    const xr = tf.fill([2, 2, 2, 3], 0.25) as tf.Tensor4D;
    const y = tf.tensor2d([[1], [0]]);
    const logit = tf.tensor2d([[0], [2]]);
    const mu = tf.zeros([2, 3]) as tf.Tensor2D;
    const ls = tf.zeros([2, 3]) as tf.Tensor2D;
    const { total, classification } = debiasingLoss(x, xr, y, logit, mu, ls);
    const cls = [Math.log(2), Math.log(1 + Math.exp(2))];
    expect(Array.from(classification.dataSync())[0]).toBeCloseTo(cls[0], 5);
    expect(Array.from(classification.dataSync())[1]).toBeCloseTo(cls[1], 5);
    // VAE loss of the face: KL 0 (mu 0, logsigma 0) + reconstruction 0.25.
    expect(total.dataSync()[0]).toBeCloseTo((cls[0] + 0.25 + cls[1]) / 2, 5);
  });
});

describe('face models', () => {
  it('the standard classifier has the course architecture (1152 features into Dense 512)', () => {
    const m = makeStandardClassifier(1);
    const flat = m.layers.find((l) => l.getClassName() === 'Flatten')!;
    expect(flat.outputShape).toEqual([null, 1152]);
    // conv 912 + 7224 + 10416 + 31176, BN 2·(12+24+48+72), dense 590336 + 513
    expect(countParameters(m)).toBe(912 + 7224 + 10416 + 31176 + 2 * 156 + 590336 + 513);
    expect((m.predict(tf.zeros([2, 64, 64, 3])) as tf.Tensor).shape).toEqual([2, 1]);
    m.dispose();
  });

  it('the decoder maps a latent vector to a 64×64×3 image', () => {
    const d = makeFaceDecoder(100);
    expect((d.predict(tf.zeros([3, 100])) as tf.Tensor).shape).toEqual([3, 64, 64, 3]);
    d.dispose();
  });

  it('the DB-VAE splits its encoder output into logit, means and log-variances', () => {
    const vae = new DbVae(10, 1);
    const x = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const out = vae.forward(x, { seed: 3 });
    expect(out.yLogit.shape).toEqual([2, 1]);
    expect(out.mu.shape).toEqual([2, 10]);
    expect(out.logsigma.shape).toEqual([2, 10]);
    expect(out.recon.shape).toEqual([2, 64, 64, 3]);
    const raw = vae.encoder.predict(x) as tf.Tensor2D;
    expect(Array.from(out.yLogit.dataSync())).toEqual(Array.from(tf.slice(raw, [0, 0], [-1, 1]).dataSync()));
    expect(Array.from(vae.predict(x).dataSync())).toEqual(Array.from(out.yLogit.dataSync()));
    // Names are stable and include BatchNorm's moving statistics as state.
    expect([...vae.variables().keys()]).toContain('encoder/layers.0/kernel');
    expect([...vae.state().keys()]).toContain('encoder/layers.1/moving_mean');
    expect([...vae.variables().keys()]).toContain('decoder/layers.5/kernel');
    vae.dispose();
  });
});
