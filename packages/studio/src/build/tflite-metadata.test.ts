import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addImageInputMetadata, FlatReader, modelMetadataBuffer, modelMetadataNames } from './tflite-metadata.js';

const require = createRequire(import.meta.url);
const legacyModel = () =>
  new Uint8Array(
    readFileSync(
      path.join(path.dirname(require.resolve('@mediapipe/face_detection')), 'face_detection_short_range.tflite'),
    ),
  );

/** Field `id` of table `t` as a table/vector position (following the offset). */
const child = (r: FlatReader, t: number, id: number) => r.deref(r.field(t, id));

describe('addImageInputMetadata', () => {
  it('gives the BlazeFace model a TFLITE_METADATA entry with RGB normalisation (x - 127.5) / 127.5', () => {
    const original = legacyModel();
    expect(modelMetadataNames(original)).toEqual([]);
    const patched = addImageInputMetadata(original, { name: 'BlazeFace', mean: 127.5, std: 127.5 });
    expect(modelMetadataNames(patched)).toEqual(['TFLITE_METADATA']);
    const meta = modelMetadataBuffer(patched, 'TFLITE_METADATA');
    expect(meta).toBeDefined();
    const r = new FlatReader(meta!);
    expect(r.identifier()).toBe('M001');
    const root = r.root();
    expect(r.string(child(r, root, 0))).toBe('BlazeFace');
    const subgraph = r.tableVector(child(r, root, 3))[0];
    const input = r.tableVector(child(r, subgraph, 2))[0];
    const content = child(r, input, 3);
    expect(meta![r.field(content, 0)]).toBe(2); // ImageProperties
    expect(meta![r.field(child(r, content, 1), 0)]).toBe(1); // RGB
    const unit = r.tableVector(child(r, input, 4))[0];
    expect(meta![r.field(unit, 0)]).toBe(1); // NormalizationOptions
    const norm = child(r, unit, 1);
    const floats = (v: number) =>
      Array.from({ length: r.u32(v) }, (_, i) =>
        new DataView(meta!.buffer, meta!.byteOffset).getFloat32(v + 4 + 4 * i, true),
      );
    expect(floats(child(r, norm, 0))).toEqual([127.5]);
    expect(floats(child(r, norm, 1))).toEqual([127.5]);
  });

  it('keeps the model itself: same bytes at the end, same subgraphs and buffers reachable from the new root', () => {
    const original = legacyModel();
    const patched = addImageInputMetadata(original, { name: 'x', mean: 0, std: 1 });
    const head = patched.length - original.length;
    expect(head % 64).toBe(0); // the original's 16-byte-aligned buffers stay aligned
    expect(Buffer.from(patched.subarray(head)).equals(Buffer.from(original))).toBe(true);
    const a = new FlatReader(original);
    const b = new FlatReader(patched);
    for (const id of [1, 2]) {
      expect(b.deref(b.field(b.root(), id)) - head).toBe(a.deref(a.field(a.root(), id)));
    }
    const oldBuffers = a.tableVector(a.deref(a.field(a.root(), 4)));
    const newBuffers = b.tableVector(b.deref(b.field(b.root(), 4)));
    expect(newBuffers.length).toBe(oldBuffers.length + 1);
    expect(newBuffers.slice(0, -1).map((p) => p - head)).toEqual(oldBuffers);
  });

  it('refuses a file that is not a TFLite model, and one that already has metadata', () => {
    expect(() => addImageInputMetadata(new Uint8Array(64), { name: 'x', mean: 0, std: 1 })).toThrow(
      /not a TFLite model/,
    );
    const once = addImageInputMetadata(legacyModel(), { name: 'x', mean: 0, std: 1 });
    expect(() => addImageInputMetadata(once, { name: 'x', mean: 0, std: 1 })).toThrow(/already has metadata/);
  });
});
