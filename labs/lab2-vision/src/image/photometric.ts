import type { Rng } from '@introdl/core';
import type { RgbImage } from './rgb-image.js';

/**
 * Domain randomisation of how a picture was taken, applied alike to faces and non-faces so that
 * none of it can tell them apart: grey or colour, exposure, contrast, saturation, colour cast,
 * gamma, uneven lighting, low resolution (down-sampled and up-sampled again, as a small face in a
 * photo is), blur and sensor noise. A classifier trained on one studio's colour portraits learns
 * "colour portrait on grey" instead of "face"; one trained through this learns faces.
 */

/** How strongly each property varies (probabilities and ranges). */
export interface PhotometricSettings {
  /** Probability of turning the image grey (ITU-R 601 luma in all three channels). */
  grey: number;
  /** Brightness, contrast and saturation factors are drawn from [1 − x, 1 + x]. */
  brightness: number;
  contrast: number;
  saturation: number;
  /** Each channel's gain is drawn from [1 − x, 1 + x] (white balance, colour casts, sepia prints). */
  channelGain: number;
  /** Gamma drawn log-uniformly from this range. */
  gamma: [number, number];
  /** Probability and strength of a linear lighting gradient across the image (side light). */
  gradient: { p: number; strength: number };
  /** Probability of down-sampling (area average) to a side in [min, max] px, then up again. */
  lowRes: { p: number; min: number; max: number };
  /** Probability of a Gaussian blur with σ up to maxSigma px (when not down-sampled). */
  blur: { p: number; maxSigma: number };
  /** Probability of Gaussian pixel noise with σ up to maxSigma (0–255 scale). */
  noise: { p: number; maxSigma: number };
}

/** build-dataset's default: strong enough that grey, dim, blurred or 24-px faces stay faces. */
export const DOMAIN_RANDOMISATION: PhotometricSettings = {
  grey: 0.25,
  brightness: 0.35,
  contrast: 0.35,
  saturation: 0.5,
  channelGain: 0.12,
  gamma: [0.7, 1.45],
  gradient: { p: 0.3, strength: 0.45 },
  lowRes: { p: 0.35, min: 24, max: 56 },
  blur: { p: 0.2, maxSigma: 1.3 },
  noise: { p: 0.2, maxSigma: 6 },
};

/** One concrete draw of the settings (recorded nowhere; drawn from the build's seeded RNG). */
export interface PhotometricDraw {
  grey: boolean;
  brightness: number;
  contrast: number;
  saturation: number;
  gains: [number, number, number];
  gamma: number;
  /** Lighting gradient: direction (radians) and strength (0 = none). */
  gradient: { angle: number; strength: number };
  /** Side to down-sample to (0 = keep). */
  lowRes: number;
  blurSigma: number;
  noiseSigma: number;
  noiseSeed: number;
}

/** Draws concrete parameters from `settings`. */
export function drawPhotometric(rng: Rng, s: PhotometricSettings = DOMAIN_RANDOMISATION): PhotometricDraw {
  const around = (x: number) => 1 - x + 2 * x * rng.next();
  const logUniform = (lo: number, hi: number) => lo * (hi / lo) ** rng.next();
  const grey = rng.next() < s.grey;
  const lowRes = rng.next() < s.lowRes.p ? Math.round(logUniform(s.lowRes.min, s.lowRes.max)) : 0;
  const blur = !lowRes && rng.next() < s.blur.p;
  return {
    grey,
    brightness: around(s.brightness),
    contrast: around(s.contrast),
    saturation: around(s.saturation),
    gains: [around(s.channelGain), around(s.channelGain), around(s.channelGain)],
    gamma: logUniform(s.gamma[0], s.gamma[1]),
    gradient:
      rng.next() < s.gradient.p
        ? { angle: 2 * Math.PI * rng.next(), strength: s.gradient.strength * rng.next() }
        : { angle: 0, strength: 0 },
    lowRes,
    blurSigma: blur ? 0.4 + (s.blur.maxSigma - 0.4) * rng.next() : 0,
    noiseSigma: rng.next() < s.noise.p ? s.noise.maxSigma * rng.next() : 0,
    noiseSeed: rng.int(2 ** 31),
  };
}

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** Applies one draw to a copy of `image` (any size; square is typical). */
export function applyPhotometric(image: RgbImage, d: PhotometricDraw): RgbImage {
  const { width: w, height: h } = image;
  const n = w * h;
  let f: Float32Array = Float32Array.from(image.data);
  if (d.grey) {
    for (let i = 0; i < n; i++) {
      const y = luma(f[3 * i], f[3 * i + 1], f[3 * i + 2]);
      f[3 * i] = y;
      f[3 * i + 1] = y;
      f[3 * i + 2] = y;
    }
  }
  // Brightness scales, contrast blends with the mean grey, saturation with each pixel's grey
  // (torchvision's ColorJitter), then a colour cast per channel.
  let meanGrey = 0;
  for (let i = 0; i < n; i++) meanGrey += luma(f[3 * i], f[3 * i + 1], f[3 * i + 2]);
  meanGrey = (meanGrey / n) * d.brightness;
  for (let i = 0; i < n; i++) {
    let r = meanGrey + (f[3 * i] * d.brightness - meanGrey) * d.contrast;
    let g = meanGrey + (f[3 * i + 1] * d.brightness - meanGrey) * d.contrast;
    let b = meanGrey + (f[3 * i + 2] * d.brightness - meanGrey) * d.contrast;
    const y = luma(r, g, b);
    r = (y + (r - y) * d.saturation) * d.gains[0];
    g = (y + (g - y) * d.saturation) * d.gains[1];
    b = (y + (b - y) * d.saturation) * d.gains[2];
    f[3 * i] = r;
    f[3 * i + 1] = g;
    f[3 * i + 2] = b;
  }
  // Gamma and a lighting gradient, on values clipped to the 0–255 a camera can record.
  const gx = Math.cos(d.gradient.angle) * d.gradient.strength;
  const gy = Math.sin(d.gradient.angle) * d.gradient.strength;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const light = 1 + gx * ((x + 0.5) / w - 0.5) * 2 + gy * ((y + 0.5) / h - 0.5) * 2;
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = Math.min(255, Math.max(0, f[o + c])) / 255;
        f[o + c] = 255 * v ** d.gamma * light;
      }
    }
  }
  if (d.lowRes) f = upBilinear(downArea(f, w, h, d.lowRes, d.lowRes), d.lowRes, d.lowRes, w, h);
  else if (d.blurSigma > 0) f = gaussianBlur(f, w, h, d.blurSigma);
  if (d.noiseSigma > 0) {
    // A small xorshift stream from the draw's seed: the noise is as reproducible as the rest.
    let s = d.noiseSeed | 1;
    const uniform = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return ((s >>> 0) + 0.5) / 4294967296;
    };
    for (let i = 0; i < f.length; i++) {
      const z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      f[i] += d.noiseSigma * z;
    }
  }
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = f[i] <= 0 ? 0 : f[i] >= 255 ? 255 : Math.round(f[i]);
  return { width: w, height: h, data: out };
}

/** Area-average down-sampling (each output pixel averages the input area it covers, with fractional edges). */
export function downArea(f: Float32Array, w: number, h: number, ow: number, oh: number): Float32Array {
  const rows = new Float32Array(ow * h * 3);
  const sx = w / ow;
  for (let y = 0; y < h; y++) {
    for (let u = 0; u < ow; u++) {
      const a = u * sx;
      const b = a + sx;
      const acc = [0, 0, 0];
      for (let x = Math.floor(a); x < Math.ceil(b) && x < w; x++) {
        const wt = Math.min(b, x + 1) - Math.max(a, x);
        for (let c = 0; c < 3; c++) acc[c] += wt * f[(y * w + x) * 3 + c];
      }
      for (let c = 0; c < 3; c++) rows[(y * ow + u) * 3 + c] = acc[c] / sx;
    }
  }
  const out = new Float32Array(ow * oh * 3);
  const sy = h / oh;
  for (let v = 0; v < oh; v++) {
    const a = v * sy;
    const b = a + sy;
    for (let u = 0; u < ow; u++) {
      const acc = [0, 0, 0];
      for (let y = Math.floor(a); y < Math.ceil(b) && y < h; y++) {
        const wt = Math.min(b, y + 1) - Math.max(a, y);
        for (let c = 0; c < 3; c++) acc[c] += wt * rows[(y * ow + u) * 3 + c];
      }
      for (let c = 0; c < 3; c++) out[(v * ow + u) * 3 + c] = acc[c] / sy;
    }
  }
  return out;
}

/** Bilinear up-sampling with OpenCV's pixel-centre geometry (as resizeBilinear, on floats). */
export function upBilinear(f: Float32Array, w: number, h: number, ow: number, oh: number): Float32Array {
  const out = new Float32Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * (h / oh) - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ay = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.min(Math.max((x + 0.5) * (w / ow) - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const ax = fx - x0;
      for (let c = 0; c < 3; c++) {
        const top = f[(y0 * w + x0) * 3 + c] * (1 - ax) + f[(y0 * w + x1) * 3 + c] * ax;
        const bottom = f[(y1 * w + x0) * 3 + c] * (1 - ax) + f[(y1 * w + x1) * 3 + c] * ax;
        out[(y * ow + x) * 3 + c] = top * (1 - ay) + bottom * ay;
      }
    }
  }
  return out;
}

/** Separable Gaussian blur, borders repeated. */
export function gaussianBlur(f: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < kernel.length; i++) kernel[i] /= total;
  const pass = (src: Float32Array, horizontal: boolean) => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) {
            const xx = horizontal ? Math.min(w - 1, Math.max(0, x + k)) : x;
            const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + k));
            acc += kernel[k + radius] * src[(yy * w + xx) * 3 + c];
          }
          dst[(y * w + x) * 3 + c] = acc;
        }
    return dst;
  };
  return pass(pass(f, true), false);
}

/**
 * Colours and orientations no face has, for non-faces only: the channels permuted (an orange
 * suit from a blue coat) or, for a third of them, the brightness mapped onto a random two-colour
 * ramp (a grey brick wall turned orange), then turned by a multiple of 90° or flipped upside down.
 * Twelve CC0 photos, seven of them grey, hold few kinds of coloured object; this multiplies them.
 * Faces never get it, and they need not: the classifier may well learn that a face is upright and
 * skin-coloured or grey.
 */
export function scrambleNonFace(image: RgbImage, rng: Rng): RgbImage {
  const { width: w, height: h } = image;
  const perms = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  const perm = perms[rng.int(perms.length)];
  const turns = w === h ? rng.int(4) : rng.int(2) * 2;
  const upsideDown = rng.next() < 0.5;
  const ramp = rng.next() < 1 / 3 ? [0, 1, 2, 0, 1, 2].map(() => rng.int(256)) : undefined;
  const out = new Uint8Array(image.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx = x;
      let sy = upsideDown ? h - 1 - y : y;
      for (let t = 0; t < turns; t++) [sx, sy] = [sy, w - 1 - sx];
      const s = (sy * w + sx) * 3;
      const o = (y * w + x) * 3;
      if (ramp) {
        const t = luma(image.data[s], image.data[s + 1], image.data[s + 2]) / 255;
        for (let c = 0; c < 3; c++) out[o + c] = Math.round(ramp[c] + (ramp[c + 3] - ramp[c]) * t);
      } else {
        out[o] = image.data[s + perm[0]];
        out[o + 1] = image.data[s + perm[1]];
        out[o + 2] = image.data[s + perm[2]];
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** Per-channel mean and standard deviation of a region of an image. */
export interface ColourStats {
  mean: [number, number, number];
  sd: [number, number, number];
}

/** Colour statistics of the central `share` of an image (of a face crop: mostly skin). */
export function centralColourStats(image: RgbImage, share = 0.5): ColourStats {
  const { width: w, height: h } = image;
  const x0 = Math.floor((w * (1 - share)) / 2);
  const y0 = Math.floor((h * (1 - share)) / 2);
  const x1 = w - x0;
  const y1 = h - y0;
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++, n++)
      for (let c = 0; c < 3; c++) {
        const v = image.data[(y * w + x) * 3 + c];
        sum[c] += v;
        sq[c] += v * v;
      }
  const mean = sum.map((s) => s / n) as [number, number, number];
  const sd = sq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c] ** 2))) as [number, number, number];
  return { mean, sd };
}

/**
 * Reinhard-style colour transfer (per channel: standardise, then take `target`'s mean and spread):
 * a non-face recoloured with a face's skin colours. A classifier that finds faces by their colour
 * fires on every orange suit, wooden table and brown saucer; non-faces in face colours make it
 * look for a face's structure instead.
 */
export function transferColour(image: RgbImage, target: ColourStats): RgbImage {
  const own = centralColourStats(image, 1);
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < image.data.length; i++) {
    const c = i % 3;
    const v = ((image.data[i] - own.mean[c]) / Math.max(own.sd[c], 4)) * target.sd[c] + target.mean[c];
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return { width: image.width, height: image.height, data: out };
}
