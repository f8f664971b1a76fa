/**
 * The grader's rubric for Lab 1, exported from the package entry as `rubric`. A plain object
 * literal (labs never import the grader): the grader validates it when it loads the lab. Paths are
 * relative to the lab package. It holds expected values, so `exclude` keeps it, the probes and the
 * entry that re-exports it out of every student workspace.
 */
const TEXT = 'X:1\nT:A\nABC ABC\n\nX:2\nT:B\nCBA BAC\n\n';
const IDS = [
  [5, 6, 2, 3],
  [2, 3, 4, 1],
];
const NEXT = [
  [6, 2, 3, 4],
  [3, 4, 1, 0],
];

/** The targets x[:, 1:] == y[:, :-1] for a batch the child returns, checked here. */
function shiftedByOne(output: unknown): string | undefined {
  const b = output as { x: number[]; y: number[]; batchSize: number; seqLength: number };
  if (!b || !Array.isArray(b.x) || !Array.isArray(b.y)) return 'getBatch should return x and y';
  if (b.x.length !== b.batchSize * b.seqLength || b.y.length !== b.x.length) {
    return `x and y should each hold batchSize × seqLength = ${b.batchSize * b.seqLength} indices`;
  }
  for (let r = 0; r < b.batchSize; r++) {
    for (let t = 1; t < b.seqLength; t++) {
      if (b.x[r * b.seqLength + t] !== b.y[r * b.seqLength + t - 1]) {
        return `row ${r}: the targets should be the inputs shifted by one (x[:, 1:] == y[:, :-1])`;
      }
    }
  }
  return undefined;
}

/** Training lowers the loss: each of the later losses is below the first. */
function lossGoesDown(output: unknown): string | undefined {
  const losses = output as number[];
  if (!Array.isArray(losses) || losses.length < 2) return 'trainStep should return the loss of each step';
  if (!(losses[losses.length - 1] < losses[0])) {
    return `the loss did not go down over ${losses.length} steps (${losses.map((l) => l.toFixed(3)).join(' → ')})`;
  }
  return undefined;
}

export const rubric = {
  lab: 'lab1',
  title: 'Intro to TensorFlow.js and music generation',
  sources: ['src', 'test/fixtures.ts', 'test/spectrum.ts'],
  // The entry re-exports this rubric, so it stays out of workspaces with the grading folder.
  exclude: ['src/grading/**', 'src/index.ts'],
  publicTests: ['test/part1.test.ts', 'test/data.test.ts', 'test/model.test.ts'],
  publicTestNames: {
    'lab1.part1.1': ['1.1 tensors > builds the rank-2 matrix', '1.1 tensors > slices'],
    'lab1.part1.2': ['1.1 tensors > builds the rank-2 matrix'],
    'lab1.part1.3': ['1.2 computation graph'],
    'lab1.part1.4': ['1.3 dense layer from scratch'],
    'lab1.part1.5': ['the sequential model'],
    'lab1.part1.6': ['the subclassed model'],
    'lab1.part1.7': ['the identity switch'],
    'lab1.part1.8': ['1.6 gradient descent'],
    'lab1.part2.1': ['Vocabulary and vectorize'],
    'lab1.part2.2': ['getBatch: the course three checks'],
    'lab1.part2.3': ['the course model'],
    'lab1.part2.4': ['computeLoss'],
    'lab1.part2.5': ['trainStep'],
    'lab1.part2.6': ['generateText'],
  },
  handout: '../../docs/lab1.md',
  probes: 'src/grading/probes.ts',
  limits: { testSeconds: 30, totalSeconds: 300, cpuSeconds: 300, memoryMb: 3072 },
  tests: [
    {
      name: '1.1a the 2×4 matrix',
      exercise: 'lab1.part1.1',
      points: 2,
      probe: 'matrix',
      expect: { kind: 'reference' },
    },
    {
      name: '1.1b the image batch',
      exercise: 'lab1.part1.2',
      points: 2,
      probe: 'images',
      expect: { kind: 'reference' },
    },
    {
      name: '1.2 the computation graph at a = 1.5, b = 2.5',
      exercise: 'lab1.part1.3',
      points: 2,
      probe: 'graph',
      input: { a: 1.5, b: 2.5 },
      expect: { kind: 'equals', value: 6, atol: 1e-6 },
    },
    {
      name: '1.2 the computation graph elsewhere (hidden)',
      exercise: 'lab1.part1.3',
      points: 2,
      probe: 'graph',
      input: { a: -3, b: 0.25 },
      expect: { kind: 'reference', atol: 1e-6 },
      visibility: 'after_due_date',
    },
    {
      name: '1.3 the dense layer forward pass',
      exercise: 'lab1.part1.4',
      points: 3,
      probe: 'denseForward',
      input: { inputs: 2, outputs: 3, seed: 7, x: [[1, 2]] },
      expect: { kind: 'reference', atol: 1e-5 },
    },
    {
      name: '1.3 the dense layer on a batch (hidden)',
      exercise: 'lab1.part1.4',
      points: 3,
      probe: 'denseForward',
      input: {
        inputs: 3,
        outputs: 4,
        seed: 11,
        x: [
          [0.5, -1, 2],
          [3, 0, -0.25],
        ],
      },
      expect: { kind: 'reference', atol: 1e-5 },
      visibility: 'after_due_date',
      hint: 'Add the bias to every row: tf.add broadcasts it.',
    },
    {
      name: '1.4a the sequential model',
      exercise: 'lab1.part1.5',
      points: 2,
      probe: 'sequential',
      input: { seed: 3, x: [[1, 2]] },
      expect: { kind: 'reference', atol: 1e-5 },
    },
    {
      name: '1.4b the subclassed model',
      exercise: 'lab1.part1.6',
      points: 2,
      probe: 'subclassed',
      input: { inputs: 2, outputs: 3, seed: 5, x: [[1, 2]] },
      expect: { kind: 'reference', atol: 1e-5 },
    },
    {
      name: '1.4c the identity switch, on',
      exercise: 'lab1.part1.7',
      points: 1,
      probe: 'identitySwitch',
      input: { seed: 2, x: [[1, 2, 3]], isIdentity: true },
      expect: { kind: 'equals', value: [[1, 2, 3]] },
    },
    {
      name: '1.4c the identity switch, off',
      exercise: 'lab1.part1.7',
      points: 1,
      probe: 'identitySwitch',
      input: { seed: 2, x: [[1, 2, 3]], isIdentity: false },
      expect: { kind: 'reference', atol: 1e-5 },
    },
    {
      name: '1.6 the loss (x − x_f)²',
      exercise: 'lab1.part1.8',
      points: 2,
      probe: 'loss',
      input: { x: [1.5], target: 4 },
      expect: { kind: 'equals', value: 6.25, atol: 1e-5 },
    },
    {
      name: '1.6 gradient descent reaches 4 (hidden)',
      exercise: 'lab1.part1.8',
      points: 2,
      probe: 'descend',
      input: { seed: 9, iterations: 500 },
      expect: { kind: 'range', min: 3.99, max: 4.01 },
      visibility: 'after_due_date',
    },
    {
      name: '2.1 vectorize a text',
      exercise: 'lab1.part2.1',
      points: 3,
      probe: 'vectorized',
      input: { text: TEXT },
      expect: { kind: 'reference' },
    },
    {
      name: '2.2 getBatch draws the same windows as the solution',
      exercise: 'lab1.part2.2',
      points: 3,
      probe: 'batch',
      input: { text: TEXT, seqLength: 5, batchSize: 4, seed: 21 },
      expect: { kind: 'reference' },
    },
    {
      name: '2.2 getBatch targets are the inputs shifted by one (hidden)',
      exercise: 'lab1.part2.2',
      points: 2,
      probe: 'batch',
      input: { text: `${TEXT}${TEXT}`, seqLength: 9, batchSize: 6, seed: 4 },
      expect: { kind: 'custom', check: shiftedByOne },
      visibility: 'after_due_date',
    },
    {
      name: '2.3 the LSTM model: parameters and logits',
      exercise: 'lab1.part2.3',
      points: 4,
      probe: 'modelLogits',
      input: { ids: IDS, seed: 1 },
      expect: { kind: 'reference', atol: 1e-4 },
    },
    {
      name: '2.4 the loss on known logits',
      exercise: 'lab1.part2.4',
      points: 3,
      probe: 'crossEntropy',
      input: {
        labels: [[0, 2]],
        logits: [
          [
            [2, 0.5, -1],
            [0, 0, 3],
          ],
        ],
      },
      expect: { kind: 'reference', atol: 1e-5 },
    },
    {
      name: '2.5 three training steps',
      exercise: 'lab1.part2.5',
      points: 3,
      probe: 'trainSteps',
      input: { x: IDS, y: NEXT, seed: 2, steps: 3 },
      expect: { kind: 'reference', atol: 1e-4 },
    },
    {
      name: '2.5 training lowers the loss (hidden)',
      exercise: 'lab1.part2.5',
      points: 2,
      probe: 'trainSteps',
      input: { x: IDS, y: NEXT, seed: 8, steps: 8 },
      expect: { kind: 'custom', check: lossGoesDown },
      visibility: 'after_due_date',
    },
    {
      name: '2.6 greedy generation matches the solution',
      exercise: 'lab1.part2.6',
      points: 4,
      probe: 'generate',
      input: { seed: 3, start: 'X:', length: 12, temperature: 0.001 },
      expect: { kind: 'reference' },
      hint: 'Sample from the last time step only, then feed just the new character back with the carried state.',
    },
  ],
};
