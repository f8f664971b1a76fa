import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import type { ActivationName } from './activations.js';
import { Dense } from './dense.js';
import { type ApplyOptions, Layer, type Trainable } from './layer.js';
import { Dropout } from './regularization.js';

/** Flattens every axis after the batch axis. */
export class Flatten extends Layer {
  constructor(name = 'flatten') {
    super(name);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.reshape(x, [x.shape[0], -1]);
  }

  outputShape(inputShape: (number | null)[]): (number | null)[] {
    const rest = inputShape.slice(1);
    return [inputShape[0], rest.every((d) => d !== null) ? (rest as number[]).reduce((a, b) => a * b, 1) : null];
  }
}

/** Layers applied one after another, as Keras' `Sequential`. Names repeated layers `dense`, `dense_1`, … */
export class Sequential implements Trainable {
  readonly layers: Layer[];
  private readonly names: string[];

  constructor(layers: Layer[]) {
    this.layers = layers;
    const seen = new Map<string, number>();
    this.names = layers.map((layer) => {
      const n = seen.get(layer.name) ?? 0;
      seen.set(layer.name, n + 1);
      return n === 0 ? layer.name : `${layer.name}_${n}`;
    });
  }

  /** Runs the layers in order. */
  apply(x: tf.Tensor, options: ApplyOptions = {}): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, layer) => layer.apply(h, options), x));
  }

  /** All variables, named `<layer>/<variable>`. */
  variables(): Map<string, tf.Variable> {
    const all = new Map<string, tf.Variable>();
    this.layers.forEach((layer, i) => {
      for (const [name, v] of layer.variables()) all.set(`${this.names[i]}/${name}`, v);
    });
    return all;
  }

  countParams(): number {
    return this.layers.reduce((n, layer) => n + layer.countParams(), 0);
  }

  /** A Keras-style table: layer, output shape, parameters; and the total. */
  summary(inputShape: (number | null)[]): string {
    const rows: string[][] = [['Layer', 'Output shape', 'Params']];
    let shape = inputShape;
    this.layers.forEach((layer, i) => {
      shape = layer.outputShape(shape);
      rows.push([
        `${this.names[i]} (${layer.constructor.name})`,
        `[${shape.map((d) => d ?? 'batch').join(', ')}]`,
        String(layer.countParams()),
      ]);
    });
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ');
    return [
      line(rows[0]),
      ...rows.slice(1).map(line),
      `Total params: ${this.countParams().toLocaleString('en-US')}`,
    ].join('\n');
  }

  dispose(): void {
    for (const v of this.variables().values()) v.dispose();
  }
}

/** Options of {@link mlp}. */
export interface MlpOptions {
  activation?: ActivationName;
  /** Dropout rate after every hidden layer (0 for none). */
  dropout?: number;
  /** Seeds the weights. */
  seed?: number;
  /** Flatten the input first (for images). */
  flatten?: boolean;
}

/**
 * A multi-layer perceptron: `sizes = [inputs, hidden…, outputs]`; hidden layers use `activation`
 * (ReLU by default) and optional dropout; the output layer gives raw scores (logits).
 */
export function mlp(sizes: number[], options: MlpOptions = {}): Sequential {
  if (sizes.length < 2) throw new Error('mlp needs at least input and output sizes');
  const rng = new Rng(options.seed ?? 0);
  const layers: Layer[] = options.flatten ? [new Flatten()] : [];
  for (let i = 1; i < sizes.length; i++) {
    const hidden = i < sizes.length - 1;
    layers.push(
      new Dense({
        inputs: sizes[i - 1],
        units: sizes[i],
        activation: hidden ? (options.activation ?? 'relu') : 'linear',
        rng,
      }),
    );
    if (hidden && options.dropout) layers.push(new Dropout(options.dropout));
  }
  return new Sequential(layers);
}
