/**
 * Patch matrices for convolutions (NHWC, dilation 1): row (n, p, q) of a patch matrix holds the
 * fh × fw × Cin input values under the filter at output position (p, q). The input gradient of a
 * convolution is dy · Wᵀ as patch rows, added back into place by {@link col2im}.
 */

/** The geometry of a 2-D convolution, as tfjs' Conv2DInfo gives it. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** Adds every patch row of `cols` [N·OH·OW, fh·fw·Cin] back into place in dx [N, H, W, Cin] (zeroed first). */
export function col2im(cols: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: fh, filterWidth: fw } = g;
  const rowLength = fh * fw * C;
  dx.fill(0);
  let row = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let p = 0; p < g.outHeight; p++) {
      const top = p * g.strideHeight - g.padTop;
      for (let q = 0; q < g.outWidth; q++) {
        const left = q * g.strideWidth - g.padLeft;
        const base = row * rowLength;
        for (let i = 0; i < fh; i++) {
          const a = top + i;
          if (a < 0 || a >= H) continue;
          const b0 = Math.max(left, 0);
          const b1 = Math.min(left + fw, W);
          let src = base + (i * fw + (b0 - left)) * C;
          let dst = ((n * H + a) * W + b0) * C;
          const end = dst + (b1 - b0) * C;
          while (dst < end) dx[dst++] += cols[src++];
        }
        row++;
      }
    }
  }
}
