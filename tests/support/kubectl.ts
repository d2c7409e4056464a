/**
 * The one kubectl the tests run: $KUBECTL when set, else the first `kubectl` on PATH, else /usr/bin/kubectl.
 * `kubectlAvailable` says whether that file exists, for tests that skip without kubectl; in CI (`CI` set) it
 * is always true, so a missing kubectl fails those tests instead of hiding them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, type RunResult } from './run.js';
import { inCI } from './ci.js';

function findKubectl(): string {
  const fromEnv = process.env['KUBECTL'];
  if (fromEnv) return fromEnv;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'kubectl');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not in this PATH entry */
    }
  }
  return '/usr/bin/kubectl';
}

export const KUBECTL = findKubectl();
export const kubectlAvailable = fs.existsSync(KUBECTL) || inCI();
/** The `skip` option of a test that needs kubectl: false where it runs (always in CI), else the reason. */
export const skipWithoutKubectl: false | string = kubectlAvailable ? false : `no kubectl at ${KUBECTL}: set KUBECTL or put kubectl on PATH`;

/** Runs kubectl with exactly `env` (see run for the time limit); rejects only when kubectl cannot be started. */
export function runKubectl(args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return run(KUBECTL, args, env, opts);
}
