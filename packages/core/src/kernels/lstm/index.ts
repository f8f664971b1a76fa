/**
 * LSTM kernels: the plain per-step reference, the fused sequence op with hand-written BPTT, and the
 * single step used for generation.
 * @packageDocumentation
 */
export { defaultFusedLoop, type FusedLoop, lstmSequenceFused } from './fused.js';
export { lstmSequencePlain, projectInputs as lstmProjectInputs } from './plain.js';
export { lstmStepProjected } from './step.js';
export type { LstmSequenceResult, LstmState, LstmWeights } from './types.js';
