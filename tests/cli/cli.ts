/** Running the built CLI as a user would, in a throwaway POCKETKUBE_HOME and KUBECONFIG. */
import path from 'node:path';
import { REPO } from '../support/stack.js';
import { run, type RunResult } from '../support/run.js';
import { removeTempDir, tempDir } from '../support/temp.js';

export const CLI = path.join(REPO, 'dist', 'electron', 'cli', 'main.js');
export const BUNDLE = path.join(REPO, 'dist', 'cli', 'pocketkube-cli.mjs');
export const BIN = path.join(REPO, 'resources', 'bin');

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  cli(args: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string }): Promise<RunResult>;
  remove(): Promise<void>;
}

/** A temp dir with its own home, kubeconfig and HOME; `pocketkube` (resources/bin) first on PATH. */
export function sandbox(prefix = 'pk-cli-'): Sandbox {
  const dir = tempDir(prefix);
  const env: NodeJS.ProcessEnv = {
    PATH: `${BIN}:${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: path.join(dir, 'user'),
    POCKETKUBE_HOME: path.join(dir, 'home'),
    KUBECONFIG: path.join(dir, 'kubeconfig'),
  };
  return {
    dir,
    env,
    cli: (args, opts = {}) => run(process.execPath, [CLI, ...args], { ...env, ...opts.env }, { timeoutMs: 60_000, input: opts.input }),
    remove: () => removeTempDir(dir),
  };
}
