import type { WorkflowDeps } from "../deps.ts";

/** Deletes the short-lived operator secrets once the run no longer needs them. */
export async function forgetSecrets(
  deps: WorkflowDeps,
  input: { secretRef?: string | null; passphraseRef?: string | null },
) {
  for (const ref of [input.secretRef, input.passphraseRef]) {
    if (ref) await deps.secrets.delete(ref);
  }
  return { forgotten: true };
}
