import type { FeatureStatus, LabViews } from '../../server/lab-contract.js';
import type { OutputFile, RunSummary } from '../../server/runs-index.js';

export type { FeatureStatus, OutputFile, RunSummary };

/** What GET /api/status answers. */
export interface Status {
  runsDir: string;
  views: Record<string, LabViews>;
  features: { detectFaces: FeatureStatus; chatStream: FeatureStatus };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

let status: Promise<Status> | undefined;
/** The server's status (lab features, runs folder), fetched once. */
export function getStatus(): Promise<Status> {
  status ??= getJson<Status>('/api/status');
  return status;
}

export async function getRuns(): Promise<RunSummary[]> {
  return (await getJson<{ runs: RunSummary[] }>('/api/runs')).runs;
}

export function getRun(id: string): Promise<RunSummary> {
  return getJson<RunSummary>(`/api/runs/${id}`);
}

/** URL of a file of a run (`outputs/song-0.abc`). */
export function runFileUrl(run: RunSummary, rel: string): string {
  return `/runs/${encodeURIComponent(run.lab)}/${encodeURIComponent(run.name)}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

export async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.text();
}

export async function fetchJson<T>(url: string): Promise<T> {
  return getJson<T>(url);
}

/** Runs of one lab, newest first. */
export async function runsOf(lab: string): Promise<RunSummary[]> {
  return (await getRuns()).filter((r) => r.lab === lab);
}

/** A run's title for lists: name, command and status. */
export function runLabel(run: RunSummary): string {
  return `${run.name}${run.info ? ` (${run.info.command}, ${run.info.status})` : ''}`;
}
