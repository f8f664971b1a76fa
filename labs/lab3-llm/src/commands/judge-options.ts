import { type CommandContext, locateDataset, type OptionSpec } from '@introdl/core';
import { readJudgePrompt } from '../data/readers.js';
import { JUDGE_PROMPT } from '../data/specs.js';
import { DEFAULT_JUDGE_PROMPT, JudgeClient, judgeSettings } from '../eval/judge.js';
import { boundedNumber, positiveInt } from './shared.js';

/** Flags of every command that calls the judge. */
export const JUDGE_OPTIONS: OptionSpec[] = [
  { flags: '--judge-url <url>', description: 'OpenAI-compatible API base (env JUDGE_BASE_URL; default OpenRouter)' },
  { flags: '--judge-key <key>', description: 'API key (env JUDGE_API_KEY, OPENROUTER_API_KEY or OPENAI_API_KEY)' },
  { flags: '--judge-model <name>', description: 'judge model (env JUDGE_MODEL; default google/gemini-2.5-flash)' },
  {
    flags: '--judge-prompt <file>',
    description: 'judge_prompt.json (default: INTRODL_DATA/lab3-llm, else a built-in paraphrase)',
  },
  {
    flags: '--prompt-year <year>',
    description: 'which judge prompt of judge_prompt.json: 2025 or 2026',
    default: '2026',
  },
  { flags: '--style <who>', description: 'whose style the judge looks for', default: 'Yoda' },
  { flags: '--attempts <n>', description: 'tries per text before it counts as a failure', default: '3' },
  { flags: '--concurrency <n>', description: 'requests in flight at once', default: '4' },
  { flags: '--timeout <s>', description: 'seconds per request', default: '30' },
  { flags: '--judge-max-tokens <n>', description: 'tokens the judge may answer with', default: '20' },
];

/** Builds the judge from flags and environment; says which prompt it uses. */
export async function judgeFromOptions(
  options: Record<string, unknown>,
  context: CommandContext,
): Promise<JudgeClient> {
  const settings = judgeSettings({
    judgeUrl: options.judgeUrl as string | undefined,
    judgeKey: options.judgeKey as string | undefined,
    judgeModel: options.judgeModel as string | undefined,
  });
  let prompt = DEFAULT_JUDGE_PROMPT;
  let promptFile = options.judgePrompt as string | undefined;
  if (!promptFile) {
    promptFile = await locateDataset(JUDGE_PROMPT, { download: false }).then(
      (f) => f.files['judge_prompt.json'],
      () => undefined,
    );
  }
  const year = String(options.promptYear ?? '2026') === '2025' ? '2025' : '2026';
  if (promptFile) prompt = readJudgePrompt(promptFile, year);
  context.log(
    `judge ${settings.model} at ${settings.baseUrl}; prompt ${promptFile ?? 'built-in (a paraphrase of the course prompt; pass --judge-prompt judge_prompt.json for the exact text)'}`,
  );
  return new JudgeClient({
    ...settings,
    prompt,
    style: String(options.style ?? 'Yoda'),
    attempts: positiveInt(options, 'attempts', 3),
    concurrency: positiveInt(options, 'concurrency', 4),
    timeoutMs: boundedNumber(options, 'timeout', 30, 0.001) * 1000,
    maxTokens: positiveInt(options, 'judgeMaxTokens', 20),
  });
}
