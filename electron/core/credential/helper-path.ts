import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The absolute path kubeconfigs name as the exec command. GUI tools do not see the shell's PATH, so a bare
 * `pocketkube` would fail in Lens or an IDE. POCKETKUBE_HELPER overrides it (the packaged app sets it).
 */
export function helperCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.POCKETKUBE_HELPER) return path.resolve(env.POCKETKUBE_HELPER);
  // dist/electron/core/credential/helper-path.js (or the CLI bundle dist/cli/pocketkube-cli.mjs) -> <package>/resources/bin/pocketkube
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../../..', '../..']) {
    const candidate = path.resolve(here, up, 'resources', 'bin', process.platform === 'win32' ? 'pocketkube.cmd' : 'pocketkube');
    if (existsSync(candidate)) return candidate;
  }
  return path.resolve(here, '../../../..', 'resources', 'bin', 'pocketkube');
}

/** The exec block every kubeconfig user of ours gets (the CLI and the window write the same one). */
export function helperExec(home: { custom: boolean; dir: string }, provider: string, env: NodeJS.ProcessEnv = process.env) {
  return {
    command: helperCommand(env),
    args: ['credential', '--provider', provider],
    // A non-default home (tests, a second profile) must reach the helper too, or it asks the wrong agent.
    ...(home.custom ? { env: [{ name: 'POCKETKUBE_HOME', value: home.dir }] } : {}),
    installHint: 'PocketKube runs this helper for kubectl: install PocketKube (or start its app once so it writes the helper), or add the cluster again.',
  };
}
