export * from './checker.js';
export * from './compare.js';
export * from './export-folder.js';
export * from './graph.js';
export * from './layers-to-onnx.js';
export { decodeModelProto, encodeModelProto } from './proto.js';
export * from './runtime.js';
export * from './write.js';
