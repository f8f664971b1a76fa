import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-schema.js';

/** The ONNX `ModelProto` message type, parsed once from the official schema. */
let modelType: protobuf.Type | undefined;

/** protobufjs' `onnx.ModelProto`: encodes and decodes `.onnx` files. */
export function onnxModelProto(): protobuf.Type {
  if (!modelType) modelType = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialises a ModelProto given as a plain object (field names as in onnx.proto). */
export function encodeModelProto(model: Record<string, unknown>): Uint8Array {
  const type = onnxModelProto();
  const problem = type.verify(model);
  if (problem) throw new Error(`invalid ONNX model: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Parses `.onnx` bytes into a plain object (int64 as numbers, bytes as Uint8Array). */
export function decodeModelProto(bytes: Uint8Array): Record<string, unknown> {
  const type = onnxModelProto();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
}
