/**
 * The TODO errors that stubs throw. Kept free of dependencies: the workspace's check script bundles
 * this module.
 */

/** The message a stub throws; `check` and `grade` recognise `TODO(<id>)` as "not started". */
export function todoMessage(region: { id: string; title: string; hint: string }): string {
  return `TODO(${region.id}): ${region.title}${region.hint ? ` — ${region.hint}` : ''}`;
}

/** Matches `TODO(<id>)` in an error message and returns the id. */
export function todoId(message: string): string | undefined {
  return /TODO\(([A-Za-z0-9][\w.-]*)\)/.exec(message)?.[1];
}
