/** The backends introdl knows, fastest first: the order `auto` tries them in. */
export const BACKENDS = ['webgpu', 'node', 'wasm', 'cpu'] as const;

/** A backend name, or `auto` for the fastest that works here. */
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';

/** What a probe found out about one backend. */
export interface BackendStatus {
  name: BackendName;
  /** True when the backend initialised and ran a small op correctly. */
  works: boolean;
  /** One line: what it runs on when it works, why not when it does not. */
  detail: string;
  /** True when it works on a software adapter (WebGPU on llvmpipe): correct but slow, so `auto` skips it. */
  software?: boolean;
}

export function isBackendChoice(value: string): value is BackendChoice {
  return value === 'auto' || (BACKENDS as readonly string[]).includes(value);
}
