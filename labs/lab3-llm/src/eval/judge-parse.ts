/** A judge reply that holds no usable score. */
export class JudgeReplyError extends Error {
  constructor(
    message: string,
    readonly reply: string,
  ) {
    super(message);
    this.name = 'JudgeReplyError';
  }
}

/**
 * Part 2: the judge's reply → a score in [0, 1]. The judge is told to answer only
 * `{"score": <0-10>}`; the course parses the reply as JSON (re-appending the `}` its stop sequence
 * cut off), divides by 10 and clips to [0, 1]. Anything else is an error, never a score.
 */
export function parseJudgeScore(reply: string): number {
  // @exercise lab3.2.1 "Parse the judge's score"
  // Hint: find the {...} object in the reply (add a closing } if the stop sequence cut it), JSON.parse it, check "score" is a number, then divide by 10 and clip to [0, 1].
  const start = reply.indexOf('{');
  if (start < 0) throw new JudgeReplyError('the reply holds no JSON object', reply);
  let body = reply.slice(start);
  body = body.includes('}') ? body.slice(0, body.indexOf('}') + 1) : `${body}}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new JudgeReplyError(`the reply's object is not valid JSON: ${body.slice(0, 80)}`, reply);
  }
  const score = (parsed as { score?: unknown }).score;
  const value = typeof score === 'string' && score.trim() !== '' ? Number(score) : score;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new JudgeReplyError(`"score" is not a number: ${JSON.stringify(score)}`, reply);
  }
  return Math.min(1, Math.max(0, value / 10));
  // @end
}
