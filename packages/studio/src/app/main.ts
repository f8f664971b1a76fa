import './style.css';
import { h } from './lib/dom.js';

/** A page draws itself into `main` and returns a cleanup (close streams, stop audio). */
export type Page = (
  main: HTMLElement,
  params: string[],
) => Promise<(() => void) | undefined> | (() => void) | undefined;

// Each page is its own chunk, so the Runs page does not load Tone, abcjs or MediaPipe.
const pages: Record<string, () => Promise<{ render: Page }>> = {
  runs: () => import('./pages/runs.js'),
  lab1: () => import('./pages/lab1.js'),
  lab2: () => import('./pages/lab2.js'),
  lab3: () => import('./pages/lab3.js'),
};

let cleanup: (() => void) | undefined;
let navigation = 0;

async function route(): Promise<void> {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const name = parts[0] && parts[0] in pages ? parts[0] : 'runs';
  const current = ++navigation;
  cleanup?.();
  cleanup = undefined;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const main = document.getElementById('main') as HTMLElement;
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const page = await pages[name]();
    if (current !== navigation) return;
    main.replaceChildren();
    main.dataset.page = name;
    const done = await page.render(main, parts.slice(1));
    if (current !== navigation) done?.();
    else cleanup = done ?? undefined;
  } catch (err) {
    main.replaceChildren(
      h('h1', {}, 'Something went wrong'),
      h('p', { class: 'error', role: 'alert' }, String((err as Error).message ?? err)),
    );
  }
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  const heading = main.querySelector('h1');
  if (heading && document.activeElement?.closest('#nav')) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  document.title = `${heading?.textContent ?? 'introdl'} · introdl studio`;
}

window.addEventListener('hashchange', () => void route());
void route();
