import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../platform/atomic-file.js';
import type { Home } from '../platform/home.js';
import { helperFileName, INSTALLED_CLI_NAME } from './helper-path.js';

export interface HelperSource {
  /** The sh helper (resources/bin/pocketkube): its run_node() is replaced, its credential fast path kept. */
  template: string;
  /** The app's binary, or the AppImage file when the app runs from one (its mount point changes each run). */
  executable: string;
  /** The self-contained CLI (dist/cli/pocketkube-cli.mjs). */
  cliBundle: string;
  platform?: NodeJS.Platform;
  /** APPIMAGE is set by the AppImage runtime to the image file. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The installed app writes its helper to a path that does not change with app updates
 * (POCKETKUBE_HOME/bin/pocketkube, pocketkube.cmd on Windows), so kubeconfigs keep working after an update.
 * Its credential path is the same sh + curl fast path; the rest runs the app's own binary as Node
 * (ELECTRON_RUN_AS_NODE), so no Node.js install is needed. Rewritten at every start, so it always points at
 * the current app.
 */
export async function installHelper(home: Home, opts: HelperSource): Promise<string> {
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  const dir = path.join(home.dir, 'bin');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The CLI is one self-contained file, copied out of the app so its path does not depend on where the
  // app is mounted (an AppImage gets a new mount point each run). Next to it, it knows it was installed.
  const cli = path.join(dir, INSTALLED_CLI_NAME);
  await writeIfChanged(cli, await readFile(opts.cliBundle), 0o644);
  const target = path.join(dir, helperFileName(platform));
  if (platform === 'win32') {
    await writeIfChanged(target, Buffer.from(windowsHelper(opts.executable, env)), 0o755);
    return target;
  }
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  let runNode = `run_node() {\n  ELECTRON_RUN_AS_NODE=1 exec ${q(opts.executable)} ${q(cli)} "$@"\n}\n`;
  if (env.APPIMAGE && path.resolve(env.APPIMAGE) === path.resolve(opts.executable)) {
    // electron-builder's AppRun adds --no-sandbox when `unshare -Ur true` fails (user namespaces restricted,
    // as on Ubuntu 23.10+), and Node rejects that flag under ELECTRON_RUN_AS_NODE. A shim answers that one
    // probe, so AppRun execs the binary with our arguments only (tests/packaging runs the real AppRun).
    const shimDir = path.join(dir, 'apprun');
    await mkdir(shimDir, { recursive: true, mode: 0o700 });
    await writeIfChanged(path.join(shimDir, 'unshare'), Buffer.from(UNSHARE_SHIM), 0o755);
    runNode = `run_node() {\n  PATH=${q(shimDir)}:$PATH ELECTRON_RUN_AS_NODE=1 exec ${q(opts.executable)} ${q(cli)} "$@"\n}\n`;
  }
  const source = await readFile(opts.template, 'utf8');
  const start = source.indexOf('run_node() {');
  const end = source.indexOf('\n}\n', start);
  if (start < 0 || end < 0) throw new Error(`${opts.template} has no run_node() to replace; reinstall PocketKube`);
  await writeIfChanged(target, Buffer.from(source.slice(0, start) + runNode + source.slice(end + 3)), 0o755);
  return target;
}

/** Only AppRun's sandbox probe is answered here; any other use gets the system's unshare. */
const UNSHARE_SHIM = `#!/bin/sh
# Written by PocketKube for its helper: tells the AppImage's AppRun that its sandbox probe passed, because
# the helper runs the app binary as Node, where AppRun's --no-sandbox is an error. The sandbox is not used.
[ "$*" = "-Ur true" ] && exit 0
for d in /usr/bin /bin /usr/sbin /sbin; do [ -x "$d/unshare" ] && exec "$d/unshare" "$@"; done
echo "unshare: not found" >&2
exit 127
`;

/**
 * kubectl on Windows runs a .cmd (not an sh script): the app binary as Node on the installed CLI bundle.
 * cmd.exe reads batch files in the OEM code page, so the part of the path under a known folder comes from
 * that folder's variable (a user name with a non-ASCII letter stays intact); % is doubled for cmd.
 */
function windowsHelper(executable: string, env: NodeJS.ProcessEnv): string {
  let exe = executable.replace(/%/g, '%%');
  for (const name of ['LOCALAPPDATA', 'APPDATA', 'USERPROFILE', 'ProgramFiles']) {
    const value = env[name];
    if (value && executable.toLowerCase().startsWith(`${value.toLowerCase()}\\`)) {
      exe = `%${name}%${executable.slice(value.length).replace(/%/g, '%%')}`;
      break;
    }
  }
  return [
    '@echo off',
    'rem PocketKube\'s command, written by the PocketKube app at each start: kubectl runs it for credentials.',
    'setlocal',
    'set "ELECTRON_RUN_AS_NODE=1"',
    `"${exe}" "%~dp0${INSTALLED_CLI_NAME}" %*`,
    'exit /b %ERRORLEVEL%',
    '',
  ].join('\r\n');
}

async function writeIfChanged(file: string, content: Buffer, mode: number): Promise<void> {
  const current = await readFile(file).catch(() => undefined);
  if (!current || !current.equals(content)) await writeFileAtomic(file, content, mode);
}
