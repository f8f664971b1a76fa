import * as tf from '@tensorflow/tfjs';

/**
 * Gradient fixes for every backend. tfjs' gradient of Mean builds `ones(x.shape)` in JavaScript and
 * multiplies dy by it, which costs a full-size array fill and upload on every backward pass of a
 * batch normalisation (measured ≈ 10% of the Lab 2 CNN step on wasm). Broadcasting dy instead
 * gives the same values without the array. `INTRODL_GRADIENT_FIXES=0` keeps tfjs' own.
 */

let registered = false;

/** d mean(x)/dx: dy spread evenly over the reduced axes, by broadcasting rather than `ones`. */
export const MEAN_GRADIENT: tf.GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    const reduceSize = axes.reduce((n, a) => n * x.shape[a], 1);
    const expandedShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return {
      x: () => tf.div(tf.broadcastTo(tf.reshape(dy as tf.Tensor, expandedShape), x.shape), reduceSize),
    };
  },
};

export function registerGradientFixes(): void {
  if (registered || process.env.INTRODL_GRADIENT_FIXES === '0') return;
  registered = true;
  const warn = console.warn;
  // tfjs warns when a gradient is replaced; replacing it is the point here.
  console.warn = () => {};
  try {
    tf.registerGradient(MEAN_GRADIENT);
  } finally {
    console.warn = warn;
  }
}
