import { type CommandGroup, intOption, numberOption } from './contract.js';
import { describeDemo, runOverfittingDemo } from './demo.js';

/** `introdl core …`: the shared core's own commands. */
export const commands: CommandGroup = {
  name: 'core',
  description: 'the shared core: the lecture foundations demo',
  commands: [
    {
      name: 'demo',
      description:
        'train an MLP on a small Fashion-MNIST split twice, with and without dropout + early stopping, and compare',
      usesBackend: true,
      options: [
        {
          flags: '--train-size <n>',
          description: 'training images (small, so the plain model overfits)',
          default: '1000',
        },
        { flags: '--validation-size <n>', description: 'validation images', default: '5000' },
        { flags: '--epochs <n>', description: 'maximum epochs', default: '50' },
        { flags: '--batch-size <n>', description: 'batch size', default: '32' },
        { flags: '--dropout <rate>', description: 'dropout rate of the regularised run', default: '0.3' },
        { flags: '--patience <n>', description: 'early-stopping patience in epochs', default: '10' },
        {
          flags: '--data <dir>',
          description: 'folder with the Fashion-MNIST IDX files (default: INTRODL_DATA, Debian, cache)',
        },
      ],
      async run({ options, context }) {
        const result = await runOverfittingDemo({
          seed: context.seed,
          out: context.out,
          dataDir: options.data as string | undefined,
          trainSize: intOption(options, 'trainSize', 1000),
          validationSize: intOption(options, 'validationSize', 5000),
          epochs: intOption(options, 'epochs', 50),
          batchSize: intOption(options, 'batchSize', 32),
          dropout: numberOption(options, 'dropout', 0.3),
          patience: intOption(options, 'patience', 10),
          backend: context.backend?.name,
          device: context.backend?.detail,
          log: context.log,
        });
        context.print(describeDemo(result));
        return 0;
      },
    },
  ],
};

export * from './contract.js';
export { type DemoOptions, type DemoResult, describeDemo, runOverfittingDemo } from './demo.js';
export { type DoctorReport, formatDoctor, runDoctor } from './doctor.js';
