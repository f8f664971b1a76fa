import { Dense, Embedding, IntrodlError, LSTM, type LstmState, Rng, type Trainable, tf } from '@introdl/core';

/** The sizes that define a music model. */
export interface MusicModelConfig {
  vocabSize: number;
  embeddingDim: number;
  units: number;
}

/** The course's model: Embedding 256 → LSTM 1024 → Dense over an 83-character vocabulary. */
export const COURSE_MODEL: MusicModelConfig = { vocabSize: 83, embeddingDim: 256, units: 1024 };

/** Logits and the LSTM state after a sequence. */
export interface MusicModelOutput {
  /** `[batch, time, vocabSize]`, unnormalised scores for the next character. */
  logits: tf.Tensor3D;
  state: LstmState;
}

/**
 * The character-level music model of the course (`LSTMModel`; the TF version's Sequential):
 * each character id is embedded, an LSTM reads the sequence, and a dense layer scores every
 * vocabulary entry as the next character. With the course sizes it has 5,353,299 parameters:
 * Embedding 21,248 + LSTM 5,246,976 (one bias vector, as Keras) + Dense 85,075.
 */
export class MusicModel implements Trainable {
  readonly embedding: Embedding;
  readonly lstm: LSTM;
  readonly dense: Dense;

  constructor(
    readonly config: MusicModelConfig,
    rng = new Rng(0),
  ) {
    for (const [key, value] of Object.entries(config)) {
      if (!Number.isInteger(value) || value < 1)
        throw new IntrodlError(`model ${key} must be a positive integer, got ${value}`);
    }
    // @exercise lab1.part2.3 "Define the LSTM model"
    // Hint: Embedding(vocabSize → embeddingDim), then LSTM(embeddingDim → units), then Dense(units → vocabSize).
    this.embedding = new Embedding({ inputDim: config.vocabSize, outputDim: config.embeddingDim, rng });
    this.lstm = new LSTM({ inputs: config.embeddingDim, units: config.units, rng });
    this.dense = new Dense({ inputs: config.units, units: config.vocabSize, rng });
    // @end
  }

  /** Scores for the next character at every position of `ids` `[batch, time]`, from a zero state. */
  apply(ids: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      const out = this.run(ids);
      tf.dispose([out.state.h, out.state.c]);
      return out.logits;
    });
  }

  /** Like {@link apply}, from `state` when given, also returning the state after the last step. */
  run(ids: tf.Tensor, state?: LstmState): MusicModelOutput {
    const [batch, time] = ids.shape;
    const { logits, h, c } = tf.tidy(() => {
      const embedded = this.embedding.apply(ids);
      const { outputs, state: last } = this.lstm.run(embedded, state);
      const flat = outputs.reshape([batch * time, this.config.units]);
      const scores = this.dense.apply(flat).reshape([batch, time, this.config.vocabSize]) as tf.Tensor3D;
      return { logits: scores, h: last.h, c: last.c };
    });
    return { logits, state: { h, c } };
  }

  /** Every variable by a stable name, `layer/variable`, as checkpoints store them. */
  variables(): Map<string, tf.Variable> {
    const all = new Map<string, tf.Variable>();
    for (const [layer, name] of [
      [this.embedding, 'embedding'],
      [this.lstm, 'lstm'],
      [this.dense, 'dense'],
    ] as const) {
      for (const [key, v] of layer.variables()) all.set(`${name}/${key}`, v);
    }
    return all;
  }

  countParams(): number {
    return this.embedding.countParams() + this.lstm.countParams() + this.dense.countParams();
  }

  /** A Keras-style table of the layers, their output shapes and parameter counts, and the total. */
  summary(): string {
    const { vocabSize: v, embeddingDim: e, units: u } = this.config;
    const rows = [
      ['Layer', 'Output shape', 'Params'],
      ['embedding (Embedding)', `[batch, time, ${e}]`, fmt(this.embedding.countParams())],
      ['lstm (LSTM)', `[batch, time, ${u}]`, fmt(this.lstm.countParams())],
      ['dense (Dense)', `[batch, time, ${v}]`, fmt(this.dense.countParams())],
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) =>
      r.map((cell, c) => (c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
    const rule = '-'.repeat(line(rows[0]).length);
    return [line(rows[0]), rule, ...rows.slice(1).map(line), rule, `Total params: ${fmt(this.countParams())}`].join(
      '\n',
    );
  }

  dispose(): void {
    for (const v of this.variables().values()) v.dispose();
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
