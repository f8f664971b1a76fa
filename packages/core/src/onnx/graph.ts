import { encodeModelProto } from './proto.js';

/**
 * A small builder for ONNX graphs: inputs, outputs, initializers (weights) and nodes, serialised with
 * protobufjs against the official schema. Each lab describes its model with it; ONNX Runtime, Python's
 * `onnx` and transformers.js read the result.
 */

/** Element types the exports use. */
export type OnnxDataType = 'float32' | 'int64' | 'int32' | 'bool';

const DATA_TYPE_CODE: Record<OnnxDataType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

/** A dimension: a fixed size, or a symbolic name such as `batch_size`. */
export type OnnxDim = number | string;

/** An attribute value, tagged with its ONNX kind (numbers alone cannot tell int from float). */
export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

/** Constructors for {@link OnnxAttribute} (`onnxAttr.int(1)`). */
export const onnxAttr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ kind: 'floats', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
};

/** Tensor data an initializer holds. */
export type OnnxTensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

interface Initializer {
  name: string;
  type: OnnxDataType;
  dims: number[];
  data: OnnxTensorData;
}

interface ValueInfo {
  name: string;
  type: OnnxDataType;
  dims: OnnxDim[];
}

interface NodeSpec {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

/** Options of {@link OnnxGraph.encode}. */
export interface EncodeOptions {
  /** The default-domain opset (17 is what ONNX 1.12's checker and every runtime here accept). */
  opset?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Key/value metadata stored in the model (config, vocabulary…). */
  metadata?: Record<string, string>;
  /**
   * Store initializers of at least `threshold` bytes outside the model, in `file` (a name beside the
   * .onnx file), as ONNX's external data: needed above protobuf's 2 GB limit.
   */
  externalData?: { file: string; threshold?: number };
}

/** The bytes of an encoded model, and of its external data file when one was asked for. */
export interface EncodedModel {
  model: Uint8Array;
  externalData?: Uint8Array;
}

/** ONNX IR version 8 (ONNX 1.10–1.12): what opset 17 needs and what Debian's onnx checks. */
export const ONNX_IR_VERSION = 8;
export const DEFAULT_OPSET = 17;

function bytesOf(data: OnnxTensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function typeProto(type: OnnxDataType, dims: OnnxDim[]): Record<string, unknown> {
  return {
    tensor_type: {
      elem_type: DATA_TYPE_CODE[type],
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
    },
  };
}

function attributeProto(name: string, a: OnnxAttribute): Record<string, unknown> {
  switch (a.kind) {
    case 'int':
      return { name, type: 2, i: a.value };
    case 'float':
      return { name, type: 1, f: a.value };
    case 'ints':
      return { name, type: 7, ints: [...a.value] };
    case 'floats':
      return { name, type: 6, floats: [...a.value] };
    case 'string':
      return { name, type: 3, s: new TextEncoder().encode(a.value) };
  }
}

/**
 * An ONNX graph under construction. Node outputs get unique names unless given; `op` returns the
 * first output's name so graphs read like expressions:
 *
 * ```ts
 * const g = new OnnxGraph('mlp');
 * const x = g.input('x', 'float32', ['batch', 4]);
 * const y = g.op('Relu', [g.op('MatMul', [x, g.weight('w', new Float32Array(8), [4, 2])])]);
 * g.output(y, 'float32', ['batch', 2], 'y');
 * const { model } = g.encode();
 * ```
 */
export class OnnxGraph {
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly nodes: NodeSpec[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  private readonly constants = new Map<string, string>();

  constructor(readonly name: string) {}

  /** A name starting with `prefix` that nothing in the graph uses yet (claimed when used). */
  fresh(prefix: string): string {
    let n = `${prefix}_${this.counter++}`;
    while (this.names.has(n)) n = `${prefix}_${this.counter++}`;
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: the name ${name} is used twice`);
    this.names.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, type: OnnxDataType, dims: OnnxDim[]): string {
    this.inputs.push({ name: this.claim(name), type, dims });
    return name;
  }

  /**
   * Declares a graph output. With `as`, the value is renamed through an Identity node so that the
   * output carries a stable public name (`logits`, `present.0.key`).
   */
  output(value: string, type: OnnxDataType, dims: OnnxDim[], as?: string): string {
    let name = value;
    if (as !== undefined && as !== value) name = this.op('Identity', [value], {}, as);
    this.outputs.push({ name, type, dims });
    return name;
  }

  /** A named weight. */
  weight(name: string, data: OnnxTensorData, dims: number[], type?: OnnxDataType): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new Error(`ONNX graph ${this.name}: ${name} has ${data.length} values for dims [${dims.join(', ')}]`);
    const t: OnnxDataType =
      type ??
      (data instanceof Float32Array
        ? 'float32'
        : data instanceof BigInt64Array
          ? 'int64'
          : data instanceof Int32Array
            ? 'int32'
            : 'bool');
    this.initializers.push({ name: this.claim(name), type: t, dims: [...dims], data });
    return name;
  }

  /** A float32 constant (scalar when `dims` is []), shared between uses of the same values. */
  floats(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `f:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.weight(this.fresh('const_f'), Float32Array.from(values), dims);
      this.constants.set(key, name);
    }
    return name;
  }

  /** An int64 constant (shapes, axes, indices), shared between uses of the same values. */
  ints(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `i:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.weight(this.fresh('const_i'), BigInt64Array.from(values.map((v) => BigInt(v))), dims);
      this.constants.set(key, name);
    }
    return name;
  }

  /** Adds a node with several outputs and returns their names. An input '' is an omitted optional input. */
  node(
    op: string,
    inputs: string[],
    attributes: Record<string, OnnxAttribute> = {},
    outputs: number | string[] = 1,
  ): string[] {
    const names =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, () => this.claim(this.fresh(op.toLowerCase())))
        : outputs.map((o) => this.claim(o));
    this.nodes.push({ op, name: `${op}_${this.nodes.length}`, inputs, outputs: names, attributes });
    return names;
  }

  /** Adds a node with one output and returns its name (`as` names it). */
  op(op: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}, as?: string): string {
    return this.node(op, inputs, attributes, as === undefined ? 1 : [as])[0];
  }

  /** Bytes of weights held. */
  weightBytes(): number {
    return this.initializers.reduce((s, t) => s + t.data.byteLength, 0);
  }

  /** Serialises the graph as an ONNX ModelProto. */
  encode(options: EncodeOptions = {}): EncodedModel {
    const external = options.externalData;
    const threshold = external?.threshold ?? 1024;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const initializer = this.initializers.map((t) => {
      const raw = bytesOf(t.data);
      const base = { name: t.name, dims: t.dims, data_type: DATA_TYPE_CODE[t.type] };
      if (!external || raw.byteLength < threshold) return { ...base, raw_data: raw };
      // Aligned to 4 kB, as onnx's own external-data writer does, so runtimes can map the file.
      const pad = (4096 - (offset % 4096)) % 4096;
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
      chunks.push(raw);
      const entry = {
        ...base,
        data_location: 1,
        external_data: [
          { key: 'location', value: external.file },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.byteLength) },
        ],
      };
      offset += raw.byteLength;
      return entry;
    });
    const model = {
      ir_version: ONNX_IR_VERSION,
      producer_name: options.producerName ?? 'introdl',
      producer_version: options.producerVersion ?? '',
      doc_string: options.docString ?? '',
      opset_import: [{ domain: '', version: options.opset ?? DEFAULT_OPSET }],
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes.map((n) => ({
          op_type: n.op,
          name: n.name,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attributes).map(([k, a]) => attributeProto(k, a)),
        })),
        initializer,
        input: this.inputs.map((v) => ({ name: v.name, type: typeProto(v.type, v.dims) })),
        output: this.outputs.map((v) => ({ name: v.name, type: typeProto(v.type, v.dims) })),
      },
    };
    const encoded: EncodedModel = { model: encodeModelProto(model) };
    if (external) {
      const data = new Uint8Array(offset);
      let at = 0;
      for (const c of chunks) {
        data.set(c, at);
        at += c.byteLength;
      }
      encoded.externalData = data;
    }
    return encoded;
  }
}
