import type { CommandSpec } from '@introdl/core';
import { formatYodaMetric, yodaTestLoss } from '../eval/metric.js';
import { loadFromOptions, MODEL_OPTIONS, requiredString, yodaTestText } from './shared.js';

/** `introdl lab3 metric`: the competition metric of a model (and adapter). */
export const metricCommand: CommandSpec = {
  name: 'metric',
  description: 'the competition metric: mean NLL per token of the Yoda passage (lower is better)',
  usesBackend: true,
  writesRun: false,
  options: [
    ...MODEL_OPTIONS,
    {
      flags: '--text <file>',
      description: 'the passage (default yoda_test_text.txt from INTRODL_DATA/lab3-llm or the cache)',
    },
  ],
  async run({ options, context }) {
    requiredString(options, 'model');
    const { text, file } = await yodaTestText(options.text as string | undefined);
    const lm = await loadFromOptions(options, context);
    const result = yodaTestLoss(lm.model, lm.tokenizer, text);
    context.log(
      `${file}: ${text.length} characters, ${result.tokens} tokens scored${result.truncated ? ' (cut to the model context)' : ''}`,
    );
    context.print(formatYodaMetric(result.loss));
    lm.model.dispose();
    return 0;
  },
};
