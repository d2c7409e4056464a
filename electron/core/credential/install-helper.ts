import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../platform/atomic-file.js';
import type { Home } from '../platform/home.js';

/**
 * The installed app writes its helper to a path that does not change with app updates
 * (POCKETKUBE_HOME/bin/pocketkube), so kubeconfigs keep working after an update. Its credential path is the
 * same sh + curl fast path; the rest runs the app's own binary as Node (ELECTRON_RUN_AS_NODE), so no
 * Node.js install is needed. Rewritten at every start, so it always points at the current app.
 */
export async function installHelper(home: Home, opts: { template: string; executable: string; cliBundle: string }): Promise<string> {
  const source = await readFile(opts.template, 'utf8');
  const dir = path.join(home.dir, 'bin');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The CLI is one self-contained file, copied out of the app so its path does not depend on where the
  // app is mounted (an AppImage gets a new mount point each run).
  const cli = path.join(dir, 'pocketkube-cli.mjs');
  const bundle = await readFile(opts.cliBundle);
  const installed = await readFile(cli).catch(() => undefined);
  if (!installed || !installed.equals(bundle)) await writeFileAtomic(cli, bundle, 0o644);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const runNode = `run_node() {\n  ELECTRON_RUN_AS_NODE=1 exec ${q(opts.executable)} ${q(cli)} "$@"\n}\n`;
  const start = source.indexOf('run_node() {');
  const end = source.indexOf('\n}\n', start);
  if (start < 0 || end < 0) throw new Error(`${opts.template} has no run_node() to replace; reinstall PocketKube`);
  const script = source.slice(0, start) + runNode + source.slice(end + 3);
  const target = path.join(dir, 'pocketkube');
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current !== script) await writeFileAtomic(target, script, 0o755);
  return target;
}
