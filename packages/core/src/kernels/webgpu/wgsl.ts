/**
 * WGSL text the fused kernels share: binding declarations in the order `dispatch` (runner.ts) binds
 * buffers, the flat index over a `grid`, workgroup reductions and overflow-safe activations.
 * Each returns source to paste into a shader, not a shader of its own.
 */

/**
 * The storage bindings of group 0 from @binding(0): first the read-only buffers, then the read-write
 * ones, then the uniform block `p: Params` (the order `dispatch` (runner.ts) binds `buffers` and `uniforms`).
 * Buffers are `array<f32>` unless named with their type, as in `labels: array<i32>`.
 */
export function wgslBindings(read: string[], readWrite: string[]): string {
  const declare = (name: string) => (name.includes(':') ? name : `${name}: array<f32>`);
  const lines = [
    ...read.map((name) => `var<storage, read> ${declare(name)};`),
    ...readWrite.map((name) => `var<storage, read_write> ${declare(name)};`),
    'var<uniform> p: Params;',
  ];
  return lines.map((line, i) => `@group(0) @binding(${i}) ${line}`).join('\n');
}

/** `name0`, `name1`, … `name<n−1>`: one binding per item of a group (WGSL cannot index bindings). */
export function numbered(name: string, n: number): string[] {
  return Array.from({ length: n }, (_, q) => `${name}${q}`);
}

/** WGSL: the flat index of this thread in a `grid` of 256-thread workgroups (`wid`, `nwg`, `lid` in scope). */
export const WGSL_FLAT_INDEX = '(wid.y * nwg.x + wid.x) * 256u + lid';

/** WGSL: the builtins of a kernel dispatched over a `grid` or a 2-D grid of workgroups. */
export const WGSL_GRID_BUILTINS = `@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32`;

/**
 * WGSL: the entry point of an elementwise kernel over a `grid`, up to its first statement:
 * `i` is this thread's element, and threads past `p.n` have returned.
 */
export const WGSL_ELEMENTWISE_MAIN = `@compute @workgroup_size(256)
fn main(${WGSL_GRID_BUILTINS}) {
  let i = ${WGSL_FLAT_INDEX};
  if (i >= p.n) { return; }`;

/** A workgroup-memory array each thread stores its value in, and how two values combine. */
export interface ReduceTerm {
  /** The `var<workgroup>` array, one slot per thread. */
  shared: string;
  /** This thread's value (a WGSL expression). */
  value: string;
  /** Sums by default. */
  op?: 'sum' | 'max';
}

/**
 * WGSL statements: every thread (`lid`, among `size`, a power of two) stores its values, and a tree
 * reduction leaves each term's total in `<shared>[0]`, visible to every thread of the workgroup.
 */
export function wgslWorkgroupReduce(size: number, terms: ReduceTerm[]): string {
  const combine = terms
    .map(({ shared, op }) =>
      op === 'max'
        ? `${shared}[lid] = max(${shared}[lid], ${shared}[lid + h]);`
        : `${shared}[lid] += ${shared}[lid + h];`,
    )
    .join(' ');
  return [
    ...terms.map(({ shared, value }) => `${shared}[lid] = ${value};`),
    'workgroupBarrier();',
    `for (var h = ${size / 2}u; h > 0u; h >>= 1u) {`,
    `  if (lid < h) { ${combine} }`,
    '  workgroupBarrier();',
    '}',
  ].join('\n  ');
}

/** WGSL helpers shared by the kernels: overflow-safe tanh and sigmoid. */
export const WGSL_MATH = /* wgsl */ `
fn tanh_(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn sigmoid_(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}
`;
