import path from 'node:path';

/** Name of the `extensions` item PocketKube puts on cluster entries it creates. */
export const EXTENSION_NAME = 'pocketkube';
export const EXEC_API_VERSION = 'client.authentication.k8s.io/v1';

const HELPER_NAME = /^pocketkube(?:[-_. ][\w.-]*)?$/i;
const INTERPRETERS = /^(?:node|nodejs|electron|bun|deno)$/i;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Basename of a POSIX or Windows path, without an executable or script extension. */
function programName(p: string): string {
  const base = path.win32.basename(path.posix.basename(p));
  return base.replace(/\.(?:exe|cmd|bat|ps1|sh|js|mjs|cjs)$/i, '');
}

/**
 * True for a kubeconfig user entry (`{name, user: {exec}}`) or its `user` body (`{exec}`) whose exec
 * plugin is PocketKube's credential helper: the command (or, for `node helper.js`, the script) is named
 * `pocketkube` or `pocketkube-<something>`.
 */
export function isOurs(user: unknown): boolean {
  if (!isRecord(user)) return false;
  const body = isRecord(user['user']) ? user['user'] : user;
  const exec = body['exec'];
  if (!isRecord(exec)) return false;
  const command = exec['command'];
  if (typeof command !== 'string' || command === '') return false;
  const name = programName(command);
  if (HELPER_NAME.test(name)) return true;
  const args = exec['args'];
  if (INTERPRETERS.test(name) && Array.isArray(args) && typeof args[0] === 'string') {
    return HELPER_NAME.test(programName(args[0]));
  }
  return false;
}

/** The provider our helper is run with for this user (`credential --provider NAME`), if it says. */
export function providerOf(user: unknown): string | undefined {
  if (!isOurs(user) || !isRecord(user)) return undefined;
  const body = isRecord(user['user']) ? user['user'] : user;
  const exec = body['exec'];
  const args = isRecord(exec) ? exec['args'] : undefined;
  if (!Array.isArray(args)) return undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--provider' && typeof args[i + 1] === 'string') return args[i + 1] as string;
    if (typeof a === 'string' && a.startsWith('--provider=')) return a.slice('--provider='.length);
  }
  return undefined;
}

/** True for a cluster body that carries PocketKube's `created` mark. */
export function clusterCreatedByUs(cluster: unknown): boolean {
  if (!isRecord(cluster)) return false;
  const exts = cluster['extensions'];
  if (!Array.isArray(exts)) return false;
  return exts.some((e) => isRecord(e) && e['name'] === EXTENSION_NAME && isRecord(e['extension']) && e['extension']['created'] === true);
}
