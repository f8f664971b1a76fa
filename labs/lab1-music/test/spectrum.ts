/** Test helpers: the dominant frequency of a stretch of audio, by FFT. */

/** In-place radix-2 FFT of (re, im); length must be a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const ur = re[i + k];
        const ui = im[i + k];
        const vr = re[i + k + len / 2] * wr - im[i + k + len / 2] * wi;
        const vi = re[i + k + len / 2] * wi + im[i + k + len / 2] * wr;
        re[i + k] = ur + vr;
        im[i + k] = ui + vi;
        re[i + k + len / 2] = ur - vr;
        im[i + k + len / 2] = ui - vi;
      }
    }
  }
}

/**
 * The frequency (Hz) of the largest peak of the Hann-windowed spectrum of `samples[from, from+n)`,
 * refined by parabolic interpolation between FFT bins. `n` is rounded down to a power of two.
 */
export function dominantFrequency(samples: Float32Array, sampleRate: number, from: number, n: number): number {
  const size = 2 ** Math.floor(Math.log2(n));
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < size; i++) re[i] = samples[from + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1)));
  fft(re, im);
  const mag = (k: number) => Math.hypot(re[k], im[k]);
  let best = 1;
  for (let k = 2; k < size / 2; k++) if (mag(k) > mag(best)) best = k;
  const [a, b, c] = [mag(best - 1), mag(best), mag(best + 1)];
  const shift = (0.5 * (a - c)) / (a - 2 * b + c);
  return ((best + shift) * sampleRate) / size;
}

/** Index of the first sample whose magnitude reaches `threshold`. */
export function firstSound(samples: Float32Array, threshold = 1e-3): number {
  return samples.findIndex((s) => Math.abs(s) >= threshold);
}

/** Index just after the last sample whose magnitude reaches `threshold`. */
export function lastSound(samples: Float32Array, threshold = 1e-3): number {
  for (let i = samples.length - 1; i >= 0; i--) if (Math.abs(samples[i]) >= threshold) return i + 1;
  return 0;
}
