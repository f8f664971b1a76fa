/**
 * The grader's rubric for Lab 3, exported from the package entry as `rubric`. A plain object
 * literal (labs never import the grader). Paths are relative to the lab package. It holds expected
 * values, so `exclude` keeps it, the probes and the entry that re-exports it out of every student
 * workspace. Lab 3 has no public unit tests of its exercises yet, so `check` shows them as having none.
 */
const REPLIES = [
  '{"score": 7}',
  'Sure! {"score": 10',
  'score: high',
  '{"score": "4"}',
  '{"score": 14}',
  '{"grade": 3}',
];

export const rubric = {
  lab: 'lab3',
  title: 'Large language models: fine-tuning a chatbot with LoRA, and judging it',
  sources: ['src'],
  // The entry re-exports this rubric, so it stays out of workspaces with the grading folder.
  exclude: ['src/grading/**', 'src/index.ts'],
  publicTests: [],
  handout: '../../docs/lab3.md',
  probes: 'src/grading/probes.ts',
  limits: { testSeconds: 60, totalSeconds: 300, cpuSeconds: 300, memoryMb: 3072 },
  tests: [
    {
      name: '1.1 next-token prediction on a tiny model',
      exercise: 'lab3.1.1',
      points: 4,
      probe: 'nextToken',
      input: { seed: 3, prompt: 'The capital of France is' },
      expect: { kind: 'reference', atol: 1e-5 },
    },
    {
      name: '1.2 chat: greedy answers, full and answer only',
      exercise: 'lab3.1.2',
      points: 4,
      probe: 'chatAnswer',
      input: { seed: 5, question: 'What is a tensor?', maxNewTokens: 6 },
      expect: { kind: 'reference' },
      hint: 'Format the template without the answer; decode only the new tokens when onlyAnswer is set.',
    },
    {
      name: '1.3 the answer mask',
      exercise: 'lab3.1.3',
      points: 2,
      probe: 'mask',
      input: { starts: [0, 3, 7, 12, 15, 20], answerStart: 12 },
      expect: { kind: 'equals', value: [0, 0, 0, 1, 1, 1] },
    },
    {
      name: '1.3 the answer mask at the edges (hidden)',
      exercise: 'lab3.1.3',
      points: 1,
      probe: 'mask',
      input: { starts: [0, 1, 2, 9, 10], answerStart: 10 },
      expect: { kind: 'reference' },
      visibility: 'after_due_date',
    },
    {
      name: '1.4 the loss on the answer tokens',
      exercise: 'lab3.1.4',
      points: 4,
      probe: 'loss',
      input: {
        seed: 7,
        ids: [
          [1, 40, 41, 42, 43, 44],
          [1, 50, 51, 52, 0, 0],
        ],
        mask: [
          [0, 0, 0, 1, 1, 1],
          [0, 0, 1, 1, 0, 0],
        ],
      },
      expect: { kind: 'reference', atol: 1e-4 },
      hint: 'Predict token t+1 from tokens up to t: inputs ids[:, :-1], targets ids[:, 1:], weights mask[:, 1:].',
    },
    {
      name: "2.1 parsing the judge's replies",
      exercise: 'lab3.2.1',
      points: 3,
      probe: 'judge',
      input: { replies: REPLIES },
      expect: { kind: 'reference' },
      hint: 'Scores are clipped to [0, 1]; a reply without a numeric "score" is an error, never a score.',
    },
  ],
};
