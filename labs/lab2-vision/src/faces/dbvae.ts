import { type Trainable, tf } from '@introdl/core';
import { makeStandardClassifier } from './classifier.js';
import { sampleLatent } from './dbvae-losses.js';
import { makeFaceDecoder } from './decoder.js';

/** What one forward pass of the DB-VAE gives. */
export interface DbVaeOutput {
  /** The face logit, [batch, 1]. */
  yLogit: tf.Tensor2D;
  /** Latent means and log-variances, [batch, latentDim]. */
  mu: tf.Tensor2D;
  logsigma: tf.Tensor2D;
  /** The reconstructed images, [batch, 64, 64, 3]. */
  recon: tf.Tensor4D;
}

/** The course's latent size. */
export const LATENT_DIM = 100;

/**
 * The debiasing variational autoencoder (Amini et al., 2019): the standard classifier with
 * 2·latent+1 outputs is the encoder (output 0 is the face logit, the next `latent` are the means,
 * the last `latent` the log-variances); the face decoder maps a latent sample back to an image.
 */
export class DbVae implements Trainable {
  readonly encoder: tf.Sequential;
  readonly decoder: tf.Sequential;

  constructor(
    readonly latentDim = LATENT_DIM,
    seed = 1,
  ) {
    this.encoder = makeStandardClassifier(2 * latentDim + 1, seed);
    this.decoder = makeFaceDecoder(latentDim, seed);
  }

  /** Runs the encoder and splits its outputs. */
  encode(x: tf.Tensor4D, training = false): Omit<DbVaeOutput, 'recon'> {
    return tf.tidy(() => {
      const out = this.encoder.apply(x, { training }) as tf.Tensor2D;
      const d = this.latentDim;
      return {
        yLogit: tf.slice(out, [0, 0], [-1, 1]),
        mu: tf.slice(out, [0, 1], [-1, d]),
        logsigma: tf.slice(out, [0, 1 + d], [-1, d]),
      };
    });
  }

  /** Maps latent vectors to images. */
  decode(z: tf.Tensor2D, training = false): tf.Tensor4D {
    return this.decoder.apply(z, { training }) as tf.Tensor4D;
  }

  /** Encode, sample z with noise from `seed`, decode. */
  forward(x: tf.Tensor4D, options: { training?: boolean; seed?: number } = {}): DbVaeOutput {
    return tf.tidy(() => {
      const { yLogit, mu, logsigma } = this.encode(x, options.training ?? false);
      const epsilon = tf.randomNormal(mu.shape, 0, 1, 'float32', options.seed) as tf.Tensor2D;
      const z = sampleLatent(mu, logsigma, epsilon);
      return { yLogit, mu, logsigma, recon: this.decode(z, options.training ?? false) };
    });
  }

  /** The face logit only (`predict` in the course). */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.encode(x).yLogit);
  }

  /** Reconstructions from the latent means (no noise), for pictures. */
  reconstruct(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.decode(this.encode(x).mu));
  }

  variables(): Map<string, tf.Variable> {
    return prefixed({ encoder: this.encoder, decoder: this.decoder }, true);
  }

  state(): Map<string, tf.Variable> {
    return prefixed({ encoder: this.encoder, decoder: this.decoder }, false);
  }

  dispose(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }
}

/**
 * The variables of several layers models, named `<part>/layers.<i>/<weight>` (position-based like
 * core's trainableFromLayers, so names are the same in every process).
 */
export function prefixed(parts: Record<string, tf.LayersModel>, trainable: boolean): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const [prefix, model] of Object.entries(parts)) {
    model.layers.forEach((layer, i) => {
      for (const w of trainable ? layer.trainableWeights : layer.nonTrainableWeights) {
        vars.set(`${prefix}/layers.${i}/${w.originalName.split('/').pop()}`, w.read() as tf.Variable);
      }
    });
  }
  return vars;
}
