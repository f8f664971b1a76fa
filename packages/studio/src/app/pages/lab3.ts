import { fetchJson, getStatus, type RunSummary, runFileUrl, runLabel, runsOf } from '../lib/api.js';
import { histogram } from '../lib/charts.js';
import { field, h, note } from '../lib/dom.js';
import { readSse } from '../lib/sse.js';

/**
 * Scores a Lab 3 run writes: `introdl lab3 score`'s `outputs/scores.json` (`sets` is a list of
 * `{name, scores, …}`), or one list of scores per set by name (`{"sets": {"base": [...]}}`).
 */
interface ScoreFile {
  title?: string;
  metric?: string;
  sets: Record<string, number[]> | { name: string; scores: number[] }[];
}

/** The score lists by set name, whichever of the two layouts the file uses. */
function setsByName(sets: ScoreFile['sets']): Record<string, number[]> {
  if (!Array.isArray(sets)) return sets;
  return Object.fromEntries(
    sets.filter((s) => typeof s?.name === 'string' && Array.isArray(s.scores)).map((s) => [s.name, s.scores]),
  );
}

async function scoreSection(runs: RunSummary[]): Promise<HTMLElement> {
  const section = h(
    'section',
    { 'aria-labelledby': 'scores-h' },
    h('h2', { id: 'scores-h' }, 'Judge and style scores'),
  );
  let shown = 0;
  for (const run of runs) {
    for (const o of run.outputs.filter((x) => /scores?[^/]*\.json$/i.test(x.path))) {
      try {
        const file = await fetchJson<ScoreFile>(runFileUrl(run, o.path));
        if (!file.sets || typeof file.sets !== 'object') continue;
        const sets = setsByName(file.sets);
        if (Object.keys(sets).length === 0) continue;
        const name = o.path.split('/').pop() ?? o.path;
        section.append(
          h(
            'div',
            { class: 'card' },
            h('h3', {}, `${file.title ?? name} (run ${run.name})`),
            histogram(sets, {
              title: file.title ?? name,
              x: file.metric ?? 'score',
              bins: 6,
              lo: 0,
              hi: Math.max(1, ...Object.values(sets).flat()),
            }),
          ),
        );
        shown += 1;
      } catch {
        // not a score file
      }
    }
  }
  if (!shown)
    section.append(
      h('p', { class: 'muted' }, 'No scores yet: `introdl lab3 score --adapter <run>` writes outputs/scores.json.'),
    );
  return section;
}

/** Lab 3: chat with the base or the tuned model (tokens stream in), and the score histograms. */
export async function render(main: HTMLElement): Promise<() => void> {
  const [status, runs] = await Promise.all([getStatus(), runsOf('lab3-llm')]);
  const feature = status.features.chatStream;
  main.append(
    h('h1', {}, 'Lab 3: chat'),
    h(
      'p',
      { class: 'lead' },
      'Ask the base model or the style-tuned one; the reply appears token by token as the server generates it.',
    ),
  );
  if (!feature.available) main.append(note(`Chat is not available: ${feature.reason}.`));

  const model = h(
    'select',
    {},
    h('option', { value: 'base' }, 'Base model'),
    h('option', { value: 'tuned', disabled: !runs.length }, 'Tuned model (LoRA of a run)'),
  ) as HTMLSelectElement;
  const run = h(
    'select',
    {},
    h('option', { value: '' }, '(none)'),
    ...runs.map((r) => h('option', { value: r.id }, runLabel(r))),
  ) as HTMLSelectElement;
  if (runs.length) run.value = runs[0].id;
  const temperature = h('input', {
    type: 'number',
    min: 0,
    max: 2,
    step: 0.1,
    value: 0.7,
    inputmode: 'decimal',
  }) as HTMLInputElement;
  const maxTokens = h('input', {
    type: 'number',
    min: 1,
    max: 1024,
    step: 1,
    value: 64,
    inputmode: 'numeric',
  }) as HTMLInputElement;
  const message = h('textarea', {
    rows: 3,
    cols: 40,
    placeholder: 'What is the capital of France?',
  }) as HTMLTextAreaElement;
  const send = h('button', { type: 'submit', disabled: !feature.available }, 'Send');
  const stop = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Stop');
  const log = h('div', {
    class: 'chat-log',
    role: 'log',
    'aria-live': 'polite',
    'aria-label': 'Conversation',
    tabindex: 0,
    'data-testid': 'chat-log',
  });
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Chat' },
    h(
      'div',
      { class: 'row' },
      field('Model', model),
      field('Run', run),
      field('Temperature', temperature),
      field('Max new tokens', maxTokens),
    ),
    field('Message', message, 'Enter sends; Shift+Enter starts a new line.'),
    h('div', { class: 'row', style: 'margin-top:8px' }, send, stop),
  );
  main.append(form, h('h2', {}, 'Conversation'), log);

  let controller: AbortController | undefined;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = message.value.trim();
    if (!text || controller) return;
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    log.append(h('p', { class: 'msg' }, h('span', { class: 'who' }, 'You:'), text));
    const reply = h('span', { 'data-testid': 'reply' });
    const state = h('span', { class: 'muted', 'data-testid': 'reply-state' }, ' (generating…)');
    log.append(
      h(
        'p',
        { class: 'msg' },
        h('span', { class: 'who' }, `${model.value === 'tuned' ? 'Tuned' : 'Base'}:`),
        reply,
        state,
      ),
    );
    message.value = '';
    let pieces = 0;
    try {
      const res = await fetch('/api/lab3/chat', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          message: text,
          model: model.value,
          run: run.value || undefined,
          temperature: Number(temperature.value),
          maxNewTokens: Number(maxTokens.value),
        }),
        signal: controller.signal,
      });
      if (!res.ok || !res.body)
        throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${res.status}`);
      await readSse(res.body, (ev) => {
        if (ev.event === 'message') {
          reply.append((JSON.parse(ev.data) as { token: string }).token);
          pieces += 1;
          reply.dataset.pieces = String(pieces);
          log.scrollTop = log.scrollHeight;
        } else if (ev.event === 'error') {
          throw new Error((JSON.parse(ev.data) as { message: string }).message);
        }
      });
      state.textContent = ` (${pieces} pieces)`;
      state.dataset.done = 'true';
    } catch (err) {
      state.textContent = controller.signal.aborted ? ' (stopped)' : ` (error: ${(err as Error).message})`;
      state.dataset.done = 'true';
    } finally {
      controller = undefined;
      send.disabled = !feature.available;
      stop.disabled = true;
      message.focus();
    }
  });
  message.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener('click', () => controller?.abort());

  main.append(await scoreSection(runs));
  return () => controller?.abort();
}
