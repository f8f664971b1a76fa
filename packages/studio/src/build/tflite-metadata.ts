import { ForwardWriter, Ref } from './forward-writer.js';

/**
 * Adds TFLite model metadata (input normalization and RGB image properties) to a .tflite model
 * that has none. MediaPipe's tasks API refuses a float model without it ("Input tensor has type
 * float32: it requires specifying NormalizationOptions metadata"); the BlazeFace short-range model
 * that `@mediapipe/face_detection` ships on npm is exactly such a model. The metadata says what the
 * old MediaPipe graph hard-coded: pixels scaled to [-1, 1] (mean 127.5, std 127.5).
 *
 * How: FlatBuffers offsets point forward, so a new root `Model` table, a new `buffers` vector (the
 * old buffers plus one holding the metadata) and a `metadata` entry named TFLITE_METADATA are
 * written *in front of* the untouched original bytes, which they point into.
 */

/** Field ids of tflite `Model` (schema.fbs). */
const MODEL = {
  version: 0,
  operatorCodes: 1,
  subgraphs: 2,
  description: 3,
  buffers: 4,
  metadataBuffer: 5,
  metadata: 6,
  signatureDefs: 7,
} as const;

/** Reads tables of an existing FlatBuffer. */
export class FlatReader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u32(pos: number): number {
    return this.view.getUint32(pos, true);
  }

  root(): number {
    return this.u32(0);
  }

  identifier(): string {
    return String.fromCharCode(...this.bytes.subarray(4, 8));
  }

  /** Absolute position of field `id`'s inline slot in the table at `table`, or 0 when absent. */
  field(table: number, id: number): number {
    const vtable = table - this.view.getInt32(table, true);
    const vtableSize = this.view.getUint16(vtable, true);
    if (4 + 2 * id >= vtableSize) return 0;
    const offset = this.view.getUint16(vtable + 4 + 2 * id, true);
    return offset ? table + offset : 0;
  }

  /** Follows the uoffset stored at `slot`. */
  deref(slot: number): number {
    return slot + this.u32(slot);
  }

  /** Positions of the elements a vector of tables points to. */
  tableVector(vector: number): number[] {
    const n = this.u32(vector);
    return Array.from({ length: n }, (_, i) => this.deref(vector + 4 + 4 * i));
  }

  string(pos: number): string {
    return new TextDecoder().decode(this.bytes.subarray(pos + 4, pos + 4 + this.u32(pos)));
  }

  byteVector(pos: number): Uint8Array {
    return this.bytes.subarray(pos + 4, pos + 4 + this.u32(pos));
  }
}

/** The ModelMetadata flatbuffer (identifier M001) for one RGB image input normalized by mean/std. */
export function imageInputMetadata(options: { name: string; mean: number; std: number }): Uint8Array {
  const w = new ForwardWriter();
  const root = new Ref();
  w.refSlot(root);
  w.raw(new TextEncoder().encode('M001'));
  const name = new Ref();
  const subgraphs = new Ref();
  const minParser = new Ref();
  // ModelMetadata: name, description, version, subgraph_metadata, author, license, files, min_parser_version
  w.table(
    [{ ref: name }, undefined, undefined, { ref: subgraphs }, undefined, undefined, undefined, { ref: minParser }],
    root,
  );
  w.string(options.name, name);
  w.string('1.0.0', minParser);
  const subgraph = new Ref();
  w.refVector([{ ref: subgraph }], subgraphs);
  const inputs = new Ref();
  // SubGraphMetadata: name, description, input_tensor_metadata, …
  w.table([undefined, undefined, { ref: inputs }], subgraph);
  const input = new Ref();
  w.refVector([{ ref: input }], inputs);
  const content = new Ref();
  const units = new Ref();
  // TensorMetadata: name, description, dimension_names, content, process_units
  w.table([undefined, undefined, undefined, { ref: content }, { ref: units }], input);
  const imageProps = new Ref();
  // Content: content_properties_type (2 = ImageProperties), content_properties
  w.table([{ u8: 2 }, { ref: imageProps }], content);
  // ImageProperties: color_space (1 = RGB)
  w.table([{ u8: 1 }], imageProps);
  const unit = new Ref();
  w.refVector([{ ref: unit }], units);
  const norm = new Ref();
  // ProcessUnit: options_type (1 = NormalizationOptions), options
  w.table([{ u8: 1 }, { ref: norm }], unit);
  const mean = new Ref();
  const std = new Ref();
  w.table([{ ref: mean }, { ref: std }], norm);
  w.floatVector([options.mean], mean);
  w.floatVector([options.std], std);
  return w.finish(undefined, 8);
}

/** Names of the `metadata` entries of a tflite model (e.g. TFLITE_METADATA), for checks. */
export function modelMetadataNames(model: Uint8Array): string[] {
  const r = new FlatReader(model);
  const slot = r.field(r.root(), MODEL.metadata);
  if (!slot) return [];
  return r.tableVector(r.deref(slot)).map((entry) => r.string(r.deref(r.field(entry, 0))));
}

/** The bytes of the buffer a named metadata entry points to. */
export function modelMetadataBuffer(model: Uint8Array, name: string): Uint8Array | undefined {
  const r = new FlatReader(model);
  const metaSlot = r.field(r.root(), MODEL.metadata);
  if (!metaSlot) return undefined;
  for (const entry of r.tableVector(r.deref(metaSlot))) {
    if (r.string(r.deref(r.field(entry, 0))) !== name) continue;
    const index = r.u32(r.field(entry, 1));
    const buffer = r.tableVector(r.deref(r.field(r.root(), MODEL.buffers)))[index];
    const data = r.field(buffer, 0);
    return data ? r.byteVector(r.deref(data)) : new Uint8Array();
  }
  return undefined;
}

/** Returns a copy of `model` with TFLITE_METADATA for an RGB input normalized by (x - mean) / std. */
export function addImageInputMetadata(
  model: Uint8Array,
  options: { name: string; mean: number; std: number },
): Uint8Array {
  const r = new FlatReader(model);
  if (r.identifier() !== 'TFL3') throw new Error('not a TFLite model (no TFL3 identifier)');
  const root = r.root();
  if (r.field(root, MODEL.metadata)) throw new Error('the model already has metadata');
  const metadata = imageInputMetadata(options);
  const oldBuffers = r.tableVector(r.deref(r.field(root, MODEL.buffers)));

  const w = new ForwardWriter();
  const newRoot = new Ref();
  w.refSlot(newRoot);
  w.raw(new TextEncoder().encode('TFL3'));
  const buffers = new Ref();
  const metadataVector = new Ref();
  const fields: Parameters<ForwardWriter['table']>[0] = [];
  const versionSlot = r.field(root, MODEL.version);
  fields[MODEL.version] = { u32: versionSlot ? r.u32(versionSlot) : 3 };
  for (const id of [
    MODEL.operatorCodes,
    MODEL.subgraphs,
    MODEL.description,
    MODEL.metadataBuffer,
    MODEL.signatureDefs,
  ]) {
    const slot = r.field(root, id);
    fields[id] = slot ? { tail: r.deref(slot) } : undefined;
  }
  fields[MODEL.buffers] = { ref: buffers };
  fields[MODEL.metadata] = { ref: metadataVector };
  w.table(
    Array.from({ length: 8 }, (_, i) => fields[i]),
    newRoot,
  );
  const metadataBufferTable = new Ref();
  w.refVector([...oldBuffers.map((tail) => ({ tail })), { ref: metadataBufferTable }], buffers);
  const entry = new Ref();
  w.refVector([{ ref: entry }], metadataVector);
  const entryName = new Ref();
  // Metadata: name, buffer (index into buffers)
  w.table([{ ref: entryName }, { u32: oldBuffers.length }], entry);
  w.string('TFLITE_METADATA', entryName);
  const data = new Ref();
  // Buffer: data
  w.table([{ ref: data }], metadataBufferTable);
  w.byteVector(metadata, data);
  return w.finish(model);
}
