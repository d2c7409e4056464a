/**
 * The helper the installed app writes to POCKETKUBE_HOME/bin, run as a user's shell and kubectl run it: from
 * a home reached through a symlink whose name has a space and a non-ASCII letter, inside an AppImage whose
 * AppRun (electron-builder's own) would add --no-sandbox, and as the Windows .cmd.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { installHelper } from '../../electron/core/credential/install-helper.js';
import { helperCommand } from '../../electron/core/credential/helper-path.js';
import { resolveHome } from '../../electron/core/platform/home.js';
import { REPO, run } from '../support/stack.js';
import { removeTempDir, tempDir } from '../support/temp.js';

const TEMPLATE = path.join(REPO, 'resources', 'bin', 'pocketkube');
const CLI_BUNDLE = path.join(REPO, 'dist', 'cli', 'pocketkube-cli.mjs');
const dirs: string[] = [];
after(async () => Promise.all(dirs.map(removeTempDir)));

/** A home like `/home/jörg` reached through a symlink, with a space in its name: where the CLI once went silent. */
async function awkwardHome() {
  const dir = tempDir('pk-installed-');
  dirs.push(dir);
  await mkdir(path.join(dir, 'real'), { recursive: true });
  const link = path.join(dir, 'Jörg Home');
  await symlink(path.join(dir, 'real'), link);
  const home = resolveHome({ POCKETKUBE_HOME: path.join(link, '.pocketkube') });
  const env = { PATH: process.env.PATH, HOME: link, POCKETKUBE_HOME: home.dir, KUBECONFIG: path.join(link, '.kube', 'config'), LANG: 'C.UTF-8' };
  return { dir, home, env };
}

test('the installed CLI answers --help from a symlinked home whose path has a space and a non-ASCII letter', async () => {
  const { home, env } = await awkwardHome();
  // Node stands in for the app binary: the helper runs it with ELECTRON_RUN_AS_NODE=1, which Node ignores.
  const helper = await installHelper(home, { template: TEMPLATE, executable: process.execPath, cliBundle: CLI_BUNDLE });
  const help = await run(helper, ['--help'], env);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: pocketkube <command>/);
});

test('cluster add from the installed CLI names the installed helper, which exists, as the exec command', async () => {
  const { home, env } = await awkwardHome();
  const helper = await installHelper(home, { template: TEMPLATE, executable: process.execPath, cliBundle: CLI_BUNDLE });
  const add = await run(helper, ['provider', 'add', 'pocket-id', '--issuer', 'https://id.example.com', '--client-id', 'kube'], env);
  assert.equal(add.code, 0, add.stderr);
  const cluster = await run(helper, ['cluster', 'add', 'prod', '--provider', 'pocket-id', '--server', 'https://10.0.0.1:6443'], env);
  assert.equal(cluster.code, 0, cluster.stderr);
  const { parse } = await import('yaml');
  const kubeconfig = parse(await readFile(env.KUBECONFIG, 'utf8')) as { users: { user: { exec: { command: string } } }[] };
  const command = kubeconfig.users[0]!.user.exec.command;
  assert.equal(realpathSync(command), realpathSync(helper), 'the installed helper (named by its real path)');
  const version = await run(command, ['--help'], env);
  assert.equal(version.code, 0, `the kubeconfig's command runs: ${version.stderr}`);
});

test('inside an AppImage the helper reaches the app binary without the --no-sandbox that AppRun adds', async () => {
  const { dir, home, env } = await awkwardHome();
  // The mounted image: electron-builder's own AppRun next to an "app binary" that is Node, which rejects
  // --no-sandbox exactly as Electron does under ELECTRON_RUN_AS_NODE.
  const mount = path.join(dir, 'mnt', '.mount_PocketXyz');
  await mkdir(mount, { recursive: true });
  const require = createRequire(import.meta.url);
  const { generateAppRunScript } = require('app-builder-lib/out/targets/appimage/appImageUtil.js') as { generateAppRunScript(c: object): string };
  await writeFile(
    path.join(mount, 'AppRun'),
    generateAppRunScript({ ExecutableName: 'pocketkube-app', ProductName: 'PocketKube', ProductFilename: 'PocketKube', DesktopFileName: 'pocketkube-app.desktop', ResourceName: 'appimagekit-pocketkube-app' }),
    { mode: 0o755 },
  );
  await writeFile(path.join(mount, 'pocketkube-app'), `#!/bin/sh\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  // The AppImage runtime: mounts the image, sets APPDIR and APPIMAGE, runs AppRun.
  const appImage = path.join(dir, 'PocketKube-0.1.0.AppImage');
  await writeFile(appImage, `#!/bin/sh\nAPPDIR='${mount}' APPIMAGE='${appImage}' exec '${mount}/AppRun' "$@"\n`, { mode: 0o755 });
  // Ubuntu 23.10+: AppArmor denies unprivileged user namespaces, so AppRun's `unshare -Ur true` probe fails.
  const restricted = path.join(dir, 'restricted-bin');
  await mkdir(restricted);
  await writeFile(path.join(restricted, 'unshare'), '#!/bin/sh\necho "unshare: write failed /proc/self/uid_map: Operation not permitted" >&2\nexit 1\n');
  await chmod(path.join(restricted, 'unshare'), 0o755);
  const appEnv = { ...env, PATH: `${restricted}:${env.PATH}` };

  const helper = await installHelper(home, { template: TEMPLATE, executable: appImage, cliBundle: CLI_BUNDLE, env: { APPIMAGE: appImage } });
  const help = await run(helper, ['--help'], appEnv);
  assert.doesNotMatch(help.stderr, /bad option/);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: pocketkube <command>/);
});

test('on Windows the installed helper is a .cmd that runs the app binary as Node on the CLI bundle', async () => {
  const { home } = await awkwardHome();
  const exe = 'C:\\Users\\Jörg Home\\AppData\\Local\\Programs\\PocketKube\\PocketKube.exe';
  const env = { LOCALAPPDATA: 'C:\\Users\\Jörg Home\\AppData\\Local' };
  const helper = await installHelper(home, { template: TEMPLATE, executable: exe, cliBundle: CLI_BUNDLE, platform: 'win32', env });
  assert.equal(path.basename(helper), 'pocketkube.cmd');
  const cmd = await readFile(helper, 'utf8');
  // Checked as text (no cmd.exe here): CRLF lines; the app binary as Node on the copied bundle with every
  // argument; the user's folder from %LOCALAPPDATA%, since cmd.exe would misread "ö" written as UTF-8.
  assert.ok(cmd.split('\n').slice(0, -1).every((line) => line.endsWith('\r')), 'CRLF line endings');
  assert.match(cmd, /^set "ELECTRON_RUN_AS_NODE=1"\r$/m);
  assert.ok(cmd.includes('"%LOCALAPPDATA%\\Programs\\PocketKube\\PocketKube.exe" "%~dp0pocketkube-cli.mjs" %*'), cmd);
  assert.match(cmd, /^[\x00-\x7f]*$/, 'ASCII only');
});

test('on Windows a source checkout names resources/bin/pocketkube.cmd, which exists', async () => {
  const command = helperCommand({}, 'win32');
  assert.equal(command, path.join(REPO, 'resources', 'bin', 'pocketkube.cmd'));
  assert.ok((await readFile(command, 'utf8')).includes('dist\\electron\\cli\\main.js'));
});
