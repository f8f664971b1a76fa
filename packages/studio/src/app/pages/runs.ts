import { getRun, getRuns, getStatus, type RunSummary, runFileUrl } from '../lib/api.js';
import { lineChart, type Series } from '../lib/charts.js';
import { append, bytes, h } from '../lib/dom.js';

/** The numbers of one log.jsonl line that the chart plots: `loss` and any metric named *loss*. */
export function lossPoints(entry: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof entry.loss === 'number') out.loss = entry.loss;
  const metrics = entry.metrics;
  if (metrics && typeof metrics === 'object') {
    for (const [k, v] of Object.entries(metrics as Record<string, unknown>)) {
      if (typeof v === 'number' && /loss/i.test(k)) out[k] = v;
    }
  }
  for (const [k, v] of Object.entries(entry)) {
    if (k !== 'loss' && typeof v === 'number' && /loss/i.test(k)) out[k] = v;
  }
  return out;
}

function statusBadge(status: string | undefined): HTMLElement {
  const cls = status === 'completed' ? 'ok' : status === 'failed' ? 'bad' : 'neutral';
  return h('span', { class: `badge ${cls}`, 'data-status': status ?? 'unknown' }, status ?? 'unknown');
}

function runsTable(runs: RunSummary[]): HTMLElement {
  const rows = runs.map((r) =>
    h(
      'tr',
      {},
      h('td', {}, r.lab),
      h('td', {}, h('a', { href: `#/runs/${encodeURIComponent(r.lab)}/${encodeURIComponent(r.name)}` }, r.name)),
      h('td', {}, r.info?.command ?? r.problem ?? ''),
      h('td', {}, statusBadge(r.info?.status)),
      h('td', {}, r.info?.start?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? ''),
      h('td', {}, String(r.outputs.length)),
    ),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'muted' }, `${runs.length} run${runs.length === 1 ? '' : 's'}`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Lab', 'Run', 'Command', 'Status', 'Started', 'Outputs'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

function outputsList(run: RunSummary): HTMLElement {
  if (!run.outputs.length) return h('p', { class: 'muted' }, 'No outputs yet.');
  const images = run.outputs.filter((o) => /\.(png|svg|jpe?g)$/i.test(o.path));
  return h(
    'div',
    {},
    h(
      'ul',
      {},
      ...run.outputs.map((o) =>
        h(
          'li',
          {},
          h('a', { href: runFileUrl(run, o.path), download: o.path.split('/').pop() }, o.path),
          ` (${bytes(o.size)})`,
        ),
      ),
    ),
    ...images.map((o) =>
      h(
        'figure',
        {},
        h('img', { src: runFileUrl(run, o.path), alt: `${o.path} of run ${run.name}`, style: 'max-width:100%' }),
        h('figcaption', { class: 'muted' }, o.path),
      ),
    ),
  );
}

/** Live loss curve: an EventSource on the run's log; returns a function that closes it. */
function liveChart(run: RunSummary, holder: HTMLElement, status: HTMLElement): () => void {
  const series = new Map<string, [number, number][]>();
  let steps = 0;
  const counter = h('p', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'steps' }, 'No steps logged yet.');
  const chartBox = h('div', {});
  holder.replaceChildren(chartBox, counter);
  let pending = false;
  const redraw = () => {
    pending = false;
    const list: Series[] = [...series].map(([name, points]) => ({ name, points }));
    chartBox.replaceChildren(lineChart(list, { title: `Loss of ${run.name}`, x: 'step', y: 'loss' }));
    const last = list.find((se) => se.name === 'loss')?.points.at(-1);
    counter.textContent = `${steps} step${steps === 1 ? '' : 's'} logged${last ? `; last loss ${last[1].toFixed(4)} at step ${last[0]}` : ''}.`;
  };
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(redraw);
    }
  };
  redraw();
  const source = new EventSource(`/api/runs/${encodeURIComponent(run.lab)}/${encodeURIComponent(run.name)}/log`);
  source.onmessage = (e) => {
    const entry = JSON.parse(e.data) as Record<string, unknown>;
    const step = typeof entry.step === 'number' ? entry.step : steps;
    steps += 1;
    for (const [name, value] of Object.entries(lossPoints(entry))) {
      if (!series.has(name)) series.set(name, []);
      series.get(name)?.push([step, value]);
    }
    schedule();
  };
  source.addEventListener('reset', () => {
    series.clear();
    steps = 0;
    schedule();
  });
  source.addEventListener('status', (e) => {
    const s = (JSON.parse((e as MessageEvent).data) as { status: string }).status;
    status.replaceChildren(statusBadge(s));
  });
  return () => source.close();
}

async function renderRun(main: HTMLElement, id: string): Promise<() => void> {
  const run = await getRun(id);
  const status = h('span', { 'aria-live': 'polite' }, statusBadge(run.info?.status));
  const chart = h('div', { class: 'card' });
  append(
    main,
    h('p', {}, h('a', { href: '#/runs' }, '← All runs')),
    h('h1', {}, `Run ${run.name}`),
    h('p', { class: 'lead' }, `${run.lab} · ${run.info?.command ?? ''} · `, status),
    run.problem ? h('p', { class: 'error' }, run.problem) : null,
    h('h2', {}, 'Loss'),
    chart,
    h(
      'div',
      { class: 'grid2' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'cfg-h' },
        h('h2', { id: 'cfg-h' }, 'Config'),
        h('pre', { tabindex: 0, 'aria-label': 'Config as JSON' }, JSON.stringify(run.info?.config ?? {}, null, 2)),
        run.info?.summary
          ? h(
              'div',
              {},
              h('h3', {}, 'Summary'),
              h('pre', { tabindex: 0, 'aria-label': 'Summary as JSON' }, JSON.stringify(run.info.summary, null, 2)),
            )
          : null,
        h(
          'p',
          { class: 'muted' },
          `seed ${run.info?.seed ?? '?'} · backend ${run.info?.backend ?? '?'} · checkpoints: ${run.checkpoints.join(', ') || 'none'}`,
        ),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'out-h' },
        h('h2', { id: 'out-h' }, 'Outputs'),
        outputsList(run),
      ),
    ),
  );
  return liveChart(run, chart, status);
}

/** The Runs page: every run, or one run with its config, live loss curve and outputs. */
export async function render(main: HTMLElement, params: string[]): Promise<(() => void) | undefined> {
  if (params.length === 2) return renderRun(main, `${encodeURIComponent(params[0])}/${encodeURIComponent(params[1])}`);
  const [runs, status] = await Promise.all([getRuns(), getStatus()]);
  append(
    main,
    h('h1', {}, 'Runs'),
    h(
      'p',
      { class: 'lead' },
      `Every run folder under ${status.runsDir}. Pick one to see its config, its loss curve (live while it trains) and its outputs.`,
    ),
    runs.length
      ? runsTable(runs)
      : h(
          'p',
          { class: 'note' },
          'No runs yet. Train something, e.g. `introdl lab1 train --preset quick`, then reload.',
        ),
  );
  return undefined;
}
