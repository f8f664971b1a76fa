import type { ChatStream, DetectFaces, FeatureStatus, LabFeatures, LabViews } from './lab-contract.js';

/** Lab packages the studio looks for, by the folder name their runs use. */
const PACKAGES = {
  'lab1-music': '@introdl/lab1-music',
  'lab2-vision': '@introdl/lab2-vision',
  'lab3-llm': '@introdl/lab3-llm',
} as const;

type LabName = keyof typeof PACKAGES;

/** Features plus, for each live one, why it is not available. */
export interface LoadedLabs extends LabFeatures {
  status: { detectFaces: FeatureStatus; chatStream: FeatureStatus };
}

async function importLab(name: LabName): Promise<{ module?: Record<string, unknown>; problem?: string }> {
  const pkg = PACKAGES[name];
  try {
    // A variable specifier: the labs are optional at run time and are not build dependencies.
    const specifier: string = pkg;
    return { module: (await import(specifier)) as Record<string, unknown> };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(pkg)) {
      return { problem: `${pkg} is not installed or not built` };
    }
    return { problem: `${pkg} failed to load: ${(err as Error).message}` };
  }
}

function feature<T>(
  module: Record<string, unknown> | undefined,
  problem: string | undefined,
  pkg: string,
  name: string,
): { fn?: T; status: FeatureStatus } {
  if (!module) return { status: { available: false, reason: problem } };
  const fn = module[name];
  if (typeof fn !== 'function') {
    return { status: { available: false, reason: `${pkg} does not export ${name}() yet` } };
  }
  return { fn: fn as T, status: { available: true } };
}

/**
 * Imports the labs' entries and picks out what the studio uses. `overrides` replace what a lab
 * exports (tests and embedders use it to supply a feature the lab does not have yet).
 */
export async function loadLabs(overrides: Partial<LabFeatures> = {}): Promise<LoadedLabs> {
  const views: LabFeatures['views'] = {};
  const loaded: Partial<Record<LabName, { module?: Record<string, unknown>; problem?: string }>> = {};
  for (const name of Object.keys(PACKAGES) as LabName[]) {
    loaded[name] = await importLab(name);
    const v = loaded[name]?.module?.views as LabViews | undefined;
    if (v && typeof v.title === 'string') views[name] = v;
  }
  const lab2 = loaded['lab2-vision'] ?? {};
  const lab3 = loaded['lab3-llm'] ?? {};
  const detect = feature<DetectFaces>(lab2.module, lab2.problem, PACKAGES['lab2-vision'], 'detectFaces');
  const chat = feature<ChatStream>(lab3.module, lab3.problem, PACKAGES['lab3-llm'], 'chatStream');
  const result: LoadedLabs = {
    views: { ...views, ...overrides.views },
    detectFaces: overrides.detectFaces ?? detect.fn,
    chatStream: overrides.chatStream ?? chat.fn,
    status: {
      detectFaces: overrides.detectFaces ? { available: true } : detect.status,
      chatStream: overrides.chatStream ? { available: true } : chat.status,
    },
  };
  return result;
}
