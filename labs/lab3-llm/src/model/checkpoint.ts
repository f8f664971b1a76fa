import { tf } from '@introdl/core';

/**
 * Gradient checkpointing for one layer: the forward pass keeps only the layer's input, and the
 * backward pass runs the layer again (with the tape on) to get the gradients. Activations then cost
 * one [tokens, hidden] tensor per layer instead of every intermediate — what makes a 1B model's
 * LoRA step fit in a laptop's memory — for the price of a second forward pass.
 *
 * tfjs has no checkpoint op, so this is a custom gradient whose gradient function calls the engine's
 * `gradients` itself. The engine keeps one tape slot: the inner call replaces it and clears it when
 * it finishes, so the outer tape is put back afterwards (the outer backward pass has already taken
 * the nodes it walks; it only needs the tape to free their saved tensors at the end).
 */

interface EngineInternals {
  state: { activeTape: unknown };
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

/**
 * `fn(x)` whose activations are recomputed in the backward pass. `variables` are the trainable
 * variables `fn` reads (their gradients flow out through this op); `fn` must give the same result
 * when called again (seed any randomness from outside).
 */
export function checkpointed(
  fn: (x: tf.Tensor2D) => tf.Tensor2D,
  x: tf.Tensor2D,
  variables: tf.Variable[],
): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor2D;
    save([input]);
    const value = tf.tidy(() => fn(input));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [kept] = saved;
        const engine = tf.engine() as unknown as EngineInternals;
        const outerTape = engine.state.activeTape;
        let result: { grads: (tf.Tensor | undefined)[] };
        try {
          result = engine.gradients(() => fn(kept as tf.Tensor2D), [kept, ...variables], dy as tf.Tensor, true);
        } finally {
          engine.state.activeTape = outerTape;
        }
        return result.grads.map((g, i) => g ?? tf.zerosLike(i === 0 ? kept : variables[i - 1]));
      },
    };
  });
  return op(x, ...variables) as tf.Tensor2D;
}
