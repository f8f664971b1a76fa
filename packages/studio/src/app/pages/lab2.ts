import { fetchJson, getStatus, type RunSummary, runFileUrl, runLabel, runsOf } from '../lib/api.js';
import { type IntervalRow, intervalChart } from '../lib/charts.js';
import { field, h, note } from '../lib/dom.js';
import { type Box, detectWithMediaPipe, iou } from '../lib/face-detector.js';

const MAX_SIDE = 1024;

/** The bias report a Lab 2 run writes as `outputs/bias-report.json`. */
interface BiasReport {
  title?: string;
  metric?: string;
  rows: IntervalRow[];
}

function drawBoxes(
  target: HTMLCanvasElement,
  source: HTMLCanvasElement,
  boxes: Box[],
  color: string,
  label: (b: Box) => string,
): void {
  target.width = source.width;
  target.height = source.height;
  const ctx = target.getContext('2d');
  if (!ctx) return;
  ctx.drawImage(source, 0, 0);
  const line = Math.max(2, Math.round(source.width / 250));
  ctx.lineWidth = line;
  ctx.font = `${Math.max(12, Math.round(source.width / 40))}px sans-serif`;
  for (const b of boxes) {
    ctx.strokeStyle = color;
    ctx.strokeRect(b.x, b.y, b.width, b.height);
    const text = label(b);
    const tw = ctx.measureText(text).width + 8;
    const th = parseInt(ctx.font, 10) + 6;
    ctx.fillStyle = color;
    ctx.fillRect(b.x, Math.max(0, b.y - th), tw, th);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, b.x + 4, Math.max(th - 6, b.y - 6));
  }
}

function boxList(boxes: Box[], testid: string, label: (b: Box) => string): HTMLElement {
  if (!boxes.length) return h('p', { 'data-testid': testid, 'data-count': 0 }, 'No face found.');
  return h(
    'ol',
    { 'data-testid': testid, 'data-count': boxes.length },
    ...boxes.map((b) =>
      h(
        'li',
        {
          'data-x': b.x.toFixed(1),
          'data-y': b.y.toFixed(1),
          'data-w': b.width.toFixed(1),
          'data-h': b.height.toFixed(1),
          'data-score': b.score.toFixed(4),
        },
        `${label(b)} at x ${Math.round(b.x)}, y ${Math.round(b.y)}, ${Math.round(b.width)}×${Math.round(b.height)} px`,
      ),
    ),
  );
}

/** Copies an image, video frame or bitmap into a canvas whose longest side is at most MAX_SIDE. */
function toCanvas(source: CanvasImageSource, width: number, height: number): HTMLCanvasElement {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.getContext('2d', { willReadFrequently: true })?.drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas;
}

async function biasSection(runs: RunSummary[]): Promise<HTMLElement> {
  const section = h('section', { 'aria-labelledby': 'bias-h' }, h('h2', { id: 'bias-h' }, 'Bias report'));
  let shown = 0;
  for (const run of runs) {
    const json = run.outputs.find((o) => /(^|\/)bias-report\.json$/.test(o.path));
    const pngs = run.outputs.filter((o) => /bias[^/]*\.png$/i.test(o.path));
    if (!json && !pngs.length) continue;
    const card = h('div', { class: 'card' }, h('h3', {}, `Run ${run.name}`));
    if (json) {
      try {
        const report = await fetchJson<BiasReport>(runFileUrl(run, json.path));
        card.append(
          intervalChart(report.rows ?? [], {
            title: report.title ?? 'P(face) per group',
            y: report.metric ?? 'mean P(face)',
          }),
        );
        card.append(
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              {},
              h(
                'thead',
                {},
                h('tr', {}, ...['Model', 'Group', 'Mean', 'Interval', 'n'].map((t) => h('th', { scope: 'col' }, t))),
              ),
              h(
                'tbody',
                {},
                ...(report.rows ?? []).map((r) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, r.model),
                    h('td', {}, r.group),
                    h('td', {}, r.mean.toFixed(3)),
                    h(
                      'td',
                      {},
                      r.low !== undefined && r.high !== undefined ? `${r.low.toFixed(3)} – ${r.high.toFixed(3)}` : '—',
                    ),
                    h('td', {}, String(r.n ?? '—')),
                  ),
                ),
              ),
            ),
          ),
        );
      } catch (err) {
        card.append(h('p', { class: 'error' }, `${json.path}: ${(err as Error).message}`));
      }
    }
    for (const png of pngs)
      card.append(
        h('img', { src: runFileUrl(run, png.path), alt: `Bias report plot ${png.path}`, style: 'max-width:100%' }),
      );
    section.append(card);
    shown += 1;
  }
  if (!shown)
    section.append(
      h(
        'p',
        { class: 'muted' },
        'No bias report yet: a Lab 2 run writes outputs/bias-report.json (and a PNG) when it evaluates the test faces.',
      ),
    );
  return section;
}

/**
 * A run the lab's detector can use: a Lab 2 training run of a face model (the classifier or the
 * DB-VAE), not an evaluate or detect run, nor a Part 1 digit model.
 */
function isDetectorRun(run: RunSummary): boolean {
  const model = (run.info?.config as { model?: unknown } | undefined)?.model;
  return /\btrain\b/.test(run.info?.command ?? '') && model !== 'fc' && model !== 'cnn';
}

/** Lab 2: faces found by MediaPipe and by the lab's own detector, side by side; the bias report. */
export async function render(main: HTMLElement): Promise<() => void> {
  const [status, runs] = await Promise.all([getStatus(), runsOf('lab2-vision')]);
  const detectorRuns = runs.filter(isDetectorRun);
  const feature = status.features.detectFaces;
  main.append(
    h('h1', {}, 'Lab 2: face detection'),
    h(
      'p',
      { class: 'lead' },
      'Drop an image or use the webcam. MediaPipe\u2019s detector runs in this browser; the lab\u2019s sliding-window detector runs on the server with the classifier of the run you pick.',
    ),
  );

  const file = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp' }) as HTMLInputElement;
  const drop = h('div', { class: 'drop' }, field('Image file (or drop one here)', file));
  const camButton = h('button', { type: 'button', class: 'secondary' }, 'Use webcam');
  const runSelect = h(
    'select',
    {},
    ...detectorRuns.map((r) => h('option', { value: r.id }, runLabel(r))),
  ) as HTMLSelectElement;
  const controls = h(
    'div',
    { class: 'row' },
    drop,
    camButton,
    detectorRuns.length ? field('Classifier run', runSelect) : null,
  );
  const camArea = h('div', {});
  const message = h('p', { role: 'status', 'aria-live': 'polite', 'data-testid': 'lab2-status' });
  const mpCanvas = h('canvas', { role: 'img', 'aria-label': 'Image with MediaPipe\u2019s boxes' });
  const labCanvas = h('canvas', { role: 'img', 'aria-label': 'Image with the lab detector\u2019s boxes' });
  const mpList = h('div', {});
  const labList = h('div', {});
  const agreement = h('p', { 'data-testid': 'iou' });
  const labNote = !feature.available
    ? note(`The lab\u2019s detector is not available: ${feature.reason}.`)
    : !detectorRuns.length
      ? note(
          'No trained face model yet: run introdl lab2 build-dataset, then introdl lab2 train --model classifier (or dbvae), to use the lab\u2019s detector.',
        )
      : null;
  main.append(
    controls,
    camArea,
    message,
    h(
      'div',
      { class: 'grid2' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'mp-h' },
        h('h2', { id: 'mp-h' }, 'MediaPipe face detector'),
        h('p', { class: 'muted' }, 'BlazeFace short range, run in this browser from files this server serves.'),
        h('div', { class: 'canvas-wrap' }, mpCanvas),
        mpList,
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'lab-h' },
        h('h2', { id: 'lab-h' }, 'Lab 2 sliding-window detector'),
        h('p', { class: 'muted' }, 'Windows kept by the lab\u2019s classifier, with its P(face).'),
        labNote,
        h('div', { class: 'canvas-wrap' }, labCanvas),
        labList,
      ),
    ),
    agreement,
  );

  let stream: MediaStream | undefined;
  const stopCam = () => {
    for (const t of stream?.getTracks() ?? []) t.stop();
    stream = undefined;
    camArea.replaceChildren();
  };

  const analyse = async (canvas: HTMLCanvasElement) => {
    message.textContent = `Detecting faces in a ${canvas.width}×${canvas.height} image…`;
    agreement.textContent = '';
    const mp = detectWithMediaPipe(canvas)
      .then((boxes) => {
        drawBoxes(mpCanvas, canvas, boxes, '#0b5cad', (b) => `face ${(b.score * 100).toFixed(0)}%`);
        mpList.replaceChildren(boxList(boxes, 'mp-boxes', (b) => `score ${b.score.toFixed(2)}`));
        return boxes;
      })
      .catch((err: Error) => {
        mpList.replaceChildren(
          h('p', { class: 'error', 'data-testid': 'mp-error' }, `MediaPipe failed: ${err.message}`),
        );
        return [] as Box[];
      });
    let lab: Promise<Box[]> = Promise.resolve([]);
    if (feature.available && runSelect.value) {
      const pixels = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height);
      lab = fetch(
        `/api/lab2/detect?run=${encodeURIComponent(runSelect.value)}&width=${canvas.width}&height=${canvas.height}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: pixels?.data,
        },
      )
        .then(async (res) => {
          const body = (await res.json()) as {
            boxes?: { x: number; y: number; width: number; height: number; pFace: number }[];
            error?: string;
          };
          if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
          const boxes = (body.boxes ?? []).map((b) => ({ ...b, score: b.pFace }));
          drawBoxes(labCanvas, canvas, boxes, '#d1242f', (b) => `P(face) ${b.score.toFixed(2)}`);
          labList.replaceChildren(boxList(boxes, 'lab-boxes', (b) => `P(face) ${b.score.toFixed(2)}`));
          return boxes;
        })
        .catch((err: Error) => {
          labList.replaceChildren(
            h('p', { class: 'error', 'data-testid': 'lab-error' }, `The lab\u2019s detector failed: ${err.message}`),
          );
          return [] as Box[];
        });
    } else {
      drawBoxes(labCanvas, canvas, [], '#d1242f', () => '');
    }
    const [a, b] = await Promise.all([mp, lab]);
    message.textContent = `Done: MediaPipe found ${a.length}, the lab\u2019s detector kept ${b.length}.`;
    if (a[0] && b[0]) {
      const v = iou(a[0], b[0]);
      agreement.textContent = `Agreement of the best boxes: IoU ${v.toFixed(2)} (${v >= 0.5 ? 'they agree' : 'they disagree'}).`;
      agreement.dataset.iou = v.toFixed(4);
    }
  };

  const openFile = async (f: File | undefined) => {
    if (!f) return;
    if (!f.type.startsWith('image/')) {
      message.textContent = `${f.name} is not an image.`;
      return;
    }
    try {
      const bitmap = await createImageBitmap(f);
      await analyse(toCanvas(bitmap, bitmap.width, bitmap.height));
    } catch (err) {
      message.textContent = `Cannot read ${f.name}: ${(err as Error).message}`;
    }
  };
  file.addEventListener('change', () => void openFile(file.files?.[0]));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void openFile(e.dataTransfer?.files?.[0]);
  });
  camButton.addEventListener('click', async () => {
    if (stream) return stopCam();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    } catch (err) {
      message.textContent = `No webcam: ${(err as Error).message}`;
      return;
    }
    const video = h('video', {
      autoplay: true,
      playsinline: true,
      muted: true,
      'aria-label': 'Webcam preview',
    }) as HTMLVideoElement;
    video.srcObject = stream;
    const snap = h('button', { type: 'button' }, 'Take picture and detect');
    const stop = h('button', { type: 'button', class: 'secondary' }, 'Stop webcam');
    snap.addEventListener('click', () => void analyse(toCanvas(video, video.videoWidth, video.videoHeight)));
    stop.addEventListener('click', stopCam);
    camArea.replaceChildren(h('div', { class: 'card' }, video, h('div', { class: 'row' }, snap, stop)));
    snap.focus();
  });

  main.append(await biasSection(runs));
  return stopCam;
}
