import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The command kubectl runs: a .cmd on Windows (it cannot run an sh script), the sh script elsewhere. */
export function helperFileName(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'pocketkube.cmd' : 'pocketkube';
}

/** The name of the CLI bundle the installed app copies next to its helper (see installHelper). */
export const INSTALLED_CLI_NAME = 'pocketkube-cli.mjs';

/**
 * The absolute path kubeconfigs name as the exec command. GUI tools do not see the shell's PATH, so a bare
 * `pocketkube` would fail in Lens or an IDE. POCKETKUBE_HELPER overrides it (the tray app sets it).
 */
export function helperCommand(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.POCKETKUBE_HELPER) return path.resolve(env.POCKETKUBE_HELPER);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const name = helperFileName(platform);
  // The installed CLI bundle (POCKETKUBE_HOME/bin/pocketkube-cli.mjs) sits next to the helper that runs it.
  const installed = path.join(here, name);
  if (path.basename(fileURLToPath(import.meta.url)) === INSTALLED_CLI_NAME && existsSync(installed)) return installed;
  // A checkout: dist/electron/core/credential/helper-path.js or dist/cli/pocketkube-cli.mjs -> resources/bin.
  for (const up of ['../../../..', '../..']) {
    const candidate = path.resolve(here, up, 'resources', 'bin', name);
    if (existsSync(candidate)) return candidate;
  }
  return path.resolve(here, '../../../..', 'resources', 'bin', name);
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
