import { describe, expect, it } from 'vitest';
import { resizeBilinear } from './resize.js';
import type { RgbImage } from './rgb-image.js';

const grey = (w: number, h: number, values: number[]): RgbImage => ({
  width: w,
  height: h,
  data: Uint8Array.from(values.flatMap((v) => [v, v, v])),
});
const channel0 = (img: RgbImage) => Array.from(img.data.filter((_, i) => i % 3 === 0));

describe('resizeBilinear (OpenCV INTER_LINEAR geometry)', () => {
  it('halving averages pixel pairs, as cv2.resize does', () => {
    const img = grey(4, 1, [0, 100, 200, 40]);
    expect(channel0(resizeBilinear(img, 2, 1))).toEqual([50, 120]);
  });

  it('doubling matches cv2.resize on a 2×1 image', () => {
    // cv2.resize(np.array([[0, 100]], np.uint8), (4, 1)) == [[0, 25, 75, 100]]
    expect(channel0(resizeBilinear(grey(2, 1, [0, 100]), 4, 1))).toEqual([0, 25, 75, 100]);
  });

  it('leaves an image of the target size unchanged and resizes any size to 64×64', () => {
    const img = grey(3, 2, [1, 2, 3, 4, 5, 6]);
    expect(channel0(resizeBilinear(img, 3, 2))).toEqual([1, 2, 3, 4, 5, 6]);
    const big = resizeBilinear(
      grey(
        5,
        7,
        Array.from({ length: 35 }, (_, i) => i),
      ),
      64,
      64,
    );
    expect([big.width, big.height, big.data.length]).toEqual([64, 64, 64 * 64 * 3]);
  });
});
