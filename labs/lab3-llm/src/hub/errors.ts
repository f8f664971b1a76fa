import { IntrodlError } from '@introdl/core';

/** A hub request or download that cannot succeed as asked; the message says what to do. */
export class HubError extends IntrodlError {}

/** What the hub says about a failed request, from its X-Error-Code / X-Error-Message headers. */
export interface HubFailure {
  status: number;
  code?: string;
  message?: string;
}

/**
 * One line for a failed hub request, as huggingface_hub's `hf_raise_for_status` tells them apart:
 * a gated model (401/403 GatedRepo), a repository that does not exist or is private (RepoNotFound,
 * or 401 without a token), a revision or file that does not exist, a bad token.
 */
export function describeFailure(
  failure: HubFailure,
  what: { repoId: string; revision: string; filename?: string; endpoint: string; hasToken: boolean },
): string {
  const { status, code } = failure;
  const page = `${what.endpoint}/${what.repoId}`;
  const file = what.filename ? `${what.filename} of ` : '';
  if (code === 'GatedRepo') {
    return what.hasToken && status === 403
      ? `${what.repoId} is a gated model and your HF_TOKEN has no access to it yet: accept its license at ${page} with that account, then run again`
      : `${what.repoId} is a gated model: accept its license at ${page}, create a read token at ${what.endpoint}/settings/tokens and set HF_TOKEN to it (or run \`hf auth login\`)`;
  }
  if (code === 'RepoNotFound' || (status === 401 && !code)) {
    return `${what.repoId}: no such model on the hub (${page}), or it is private${what.hasToken ? ' and your HF_TOKEN cannot see it' : ': set HF_TOKEN'}`;
  }
  if (code === 'RevisionNotFound')
    return `${what.repoId} has no revision "${what.revision}" (a branch, tag or commit hash)`;
  if (code === 'EntryNotFound' || status === 404) {
    return `${what.repoId}@${what.revision} has no file ${what.filename ?? ''}`.trimEnd();
  }
  if (status === 401 || status === 403) {
    return `the hub refused ${file}${what.repoId} (HTTP ${status}${failure.message ? `: ${failure.message}` : ''}); check HF_TOKEN`;
  }
  return `the hub answered HTTP ${status} for ${file}${what.repoId}${failure.message ? `: ${failure.message}` : ''}`;
}
