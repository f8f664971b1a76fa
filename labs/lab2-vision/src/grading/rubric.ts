/**
 * The grader's rubric for Lab 2, exported from the package entry as `rubric`. A plain object
 * literal (labs never import the grader). Paths are relative to the lab package. It holds expected
 * values, so `exclude` keeps it, the probes and the entry that re-exports it out of every student
 * workspace.
 */
const X = [
  [
    [
      [0, 0.2, 0.4],
      [0.6, 0.8, 1],
    ],
    [
      [1, 0.5, 0],
      [0.25, 0.75, 0.5],
    ],
  ],
  [
    [
      [0.1, 0.1, 0.1],
      [0.9, 0.9, 0.9],
    ],
    [
      [0.3, 0.6, 0.9],
      [0, 0, 0],
    ],
  ],
];
const X_RECON = [
  [
    [
      [0.1, 0.2, 0.3],
      [0.5, 0.8, 0.9],
    ],
    [
      [0.9, 0.4, 0.1],
      [0.2, 0.7, 0.6],
    ],
  ],
  [
    [
      [0.2, 0, 0.1],
      [0.8, 1, 0.7],
    ],
    [
      [0.3, 0.5, 1],
      [0.1, 0, 0.2],
    ],
  ],
];
const MU = [
  [0.5, -1, 0.25],
  [0, 2, -0.5],
];
const LOGSIGMA = [
  [0, Math.log(4), -1],
  [0.5, 0, 0.2],
];

export const rubric = {
  lab: 'lab2',
  title: 'Computer vision: digit classifiers and a debiased face detector',
  sources: ['src', 'test/fixtures.ts'],
  // The entry re-exports this rubric, so it stays out of workspaces with the grading folder.
  exclude: ['src/grading/**', 'src/index.ts'],
  publicTests: ['src/digits/digits.test.ts', 'src/faces/dbvae.test.ts', 'src/faces/resampling.test.ts'],
  publicTestNames: {
    'lab2.1.1': ['the FC model', 'the same seed gives the same initial weights'],
    'lab2.1.2': ['the CNN has the course parameter count'],
    'lab2.1.3': ['countCorrect'],
    'lab2.2.1': ['vaeLoss ='],
    'lab2.2.2': ['sampling uses the standard deviation'],
    'lab2.2.3': ['total = mean(classification + face·VAE)'],
    'lab2.2.4': ['adaptive resampling'],
  },
  handout: '../../docs/lab2.md',
  probes: 'src/grading/probes.ts',
  limits: { testSeconds: 60, totalSeconds: 300, cpuSeconds: 300, memoryMb: 3072 },
  tests: [
    {
      name: '1.1 the fully connected model: parameters and logits',
      exercise: 'lab2.1.1',
      points: 4,
      probe: 'fcModel',
      input: { seed: 3, n: 2 },
      expect: { kind: 'reference', atol: 1e-4 },
      hint: 'Flatten, Dense(128, relu), Dense(10) with no activation, each Dense with its seededInit(seed, k).',
    },
    {
      name: '1.2 the CNN: parameters and logits',
      exercise: 'lab2.1.2',
      points: 5,
      probe: 'cnnModel',
      input: { seed: 2, n: 2 },
      expect: { kind: 'reference', atol: 1e-4 },
    },
    {
      name: '1.3 counting correct predictions',
      exercise: 'lab2.1.3',
      points: 2,
      probe: 'correct',
      input: {
        logits: [
          [0.1, 2, -1],
          [3, 0, 0],
          [0, 0, 5],
        ],
        labels: [1, 2, 2],
      },
      expect: { kind: 'equals', value: 2 },
    },
    {
      name: '1.3 counting correct predictions, ties and all wrong (hidden)',
      exercise: 'lab2.1.3',
      points: 1,
      probe: 'correct',
      input: {
        logits: [
          [1, 1, 0],
          [0, 1, 2],
        ],
        labels: [2, 0],
      },
      expect: { kind: 'reference' },
      visibility: 'after_due_date',
    },
    {
      name: '2.1 the VAE loss',
      exercise: 'lab2.2.1',
      points: 3,
      probe: 'vae',
      input: { x: X, xRecon: X_RECON, mu: MU, logsigma: LOGSIGMA, klWeight: 0.5 },
      expect: { kind: 'reference', atol: 1e-5 },
    },
    {
      name: '2.1 the VAE loss with the course KL weight (hidden)',
      exercise: 'lab2.2.1',
      points: 1,
      probe: 'vae',
      input: { x: X_RECON, xRecon: X, mu: LOGSIGMA, logsigma: MU, klWeight: 0.0005 },
      expect: { kind: 'reference', atol: 1e-6 },
      visibility: 'after_due_date',
    },
    {
      name: '2.2 reparameterisation',
      exercise: 'lab2.2.2',
      points: 3,
      probe: 'sample',
      input: {
        mu: MU,
        logsigma: LOGSIGMA,
        epsilon: [
          [1, -1, 0.5],
          [2, 0, -0.25],
        ],
      },
      expect: { kind: 'reference', atol: 1e-5 },
      hint: 'logsigma is the log of the variance: the standard deviation is exp(0.5·logsigma).',
    },
    {
      name: '2.3 the debiasing loss',
      exercise: 'lab2.2.3',
      points: 4,
      probe: 'debiasing',
      input: { x: X, xRecon: X_RECON, y: [[1], [0]], yLogit: [[0.5], [2]], mu: MU, logsigma: LOGSIGMA },
      expect: { kind: 'reference', atol: 1e-5 },
      hint: 'Non-faces (y = 0) pay only the classification loss.',
    },
    {
      name: '2.4 resampling weights',
      exercise: 'lab2.2.4',
      points: 3,
      probe: 'weights',
      input: { values: [0, 0.1, 0.15, 0.2, 0.9, 1, 0.05, 0.12] },
      expect: { kind: 'reference', atol: 1e-9 },
    },
    {
      name: '2.4 resampling weights: equal values, few bins (hidden)',
      exercise: 'lab2.2.4',
      points: 2,
      probe: 'weights',
      input: { values: [2, 2, 2, 2, 3], bins: 3, smoothing: 0.01 },
      expect: { kind: 'reference', atol: 1e-9 },
      visibility: 'after_due_date',
    },
  ],
};
