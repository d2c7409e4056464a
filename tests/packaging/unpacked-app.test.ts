/**
 * The unpacked Linux app, built by electron-builder (`--dir`, the same config `npm run dist` uses) without
 * Electron's binary: the runtime folder it copies (`electronDist`) is a stand-in whose "Electron" is Node.
 * Checks what ships (app.asar, what is unpacked, extra resources, nothing from tests/) and then uses the app
 * as its first start would: installs the helper from the app's own code, and with it adds a provider and a
 * cluster, runs the agent, signs in in Chromium, and has the real kubectl use the helper's credential.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Home } from '../../electron/core/platform/home.js';
import { launchChromium, REPO, run, signInInBrowser, Stack } from '../support/stack.js';
import { removeTempDir, tempDir } from '../support/temp.js';

const require = createRequire(import.meta.url);
const asar = createRequire(require.resolve('app-builder-lib/package.json'))('@electron/asar') as {
  listPackage(archive: string, options?: object): string[];
  extractAll(archive: string, dest: string): void;
};
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;

const work = tempDir('pk-unpacked-');
let appDir: string; // out/linux-unpacked
let shipped: string[]; // app.asar's entries, "/dist/..." style
let extracted: string; // app.asar extracted, to read and run the shipped code with Node
let build: { code: number; stdout: string; stderr: string };

before(async () => {
  // The project as `npm run dist` sees it. In a real checkout that is the repository itself (electron-builder
  // writes only to the output folder we give it), so its npm collector reads node_modules as `npm run dist`
  // would. In a worktree whose node_modules links to another checkout, `npm list` reports the linked packages'
  // own dependencies as missing: there, build a copy with the traversal collector, which reads node_modules as
  // Node resolves it.
  const modules = path.join(REPO, 'node_modules');
  let project = REPO;
  if (lstatSync(modules).isSymbolicLink()) {
    project = path.join(work, 'project');
    for (const entry of ['package.json', 'electron-builder.yml', 'dist', 'resources', 'build']) cpSync(path.join(REPO, entry), path.join(project, entry), { recursive: true });
    symlinkSync(realpathSync(modules), path.join(project, 'node_modules'));
    const json = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ ...json, packageManager: 'traversal@1.0.0' }, null, 2));
  }
  // Electron's runtime folder, with Node as its binary. Nothing else is needed for --dir.
  const runtime = path.join(work, 'electron-dist');
  mkdirSync(runtime);
  writeFileSync(path.join(runtime, 'electron'), `#!/bin/sh\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  const out = path.join(work, 'out');
  const arch = process.arch === 'arm64' ? '--arm64' : '--x64';
  build = await run(
    process.execPath,
    [require.resolve('electron-builder/cli.js'), '--projectDir', project, '--dir', '--linux', arch, '--publish', 'never', `-c.electronDist=${runtime}`, `-c.electronVersion=${electronVersion}`, `-c.directories.output=${out}`],
    { PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8', ELECTRON_BUILDER_CACHE: path.join(work, 'cache') },
    { timeoutMs: 120_000 },
  );
  // electron-builder names the folder by arch: linux-unpacked (x64), linux-arm64-unpacked.
  appDir = path.join(out, readdirSync(out).find((d) => /^linux(-\w+)?-unpacked$/.test(d)) ?? 'linux-unpacked');
  if (build.code === 0) {
    shipped = asar.listPackage(path.join(appDir, 'resources', 'app.asar')).map((e) => e.split(path.sep).join('/'));
    extracted = path.join(work, 'asar');
    asar.extractAll(path.join(appDir, 'resources', 'app.asar'), extracted);
  }
});
after(() => removeTempDir(work));

test('electron-builder builds the unpacked Linux app offline, with a stand-in Electron runtime', () => {
  assert.equal(build.code, 0, build.stdout + build.stderr);
  assert.doesNotMatch(build.stdout + build.stderr, /download/i, 'nothing was downloaded');
  const binary = path.join(appDir, 'pocketkube-app');
  assert.ok((statSync(binary).mode & 0o111) !== 0, 'the app binary, named as linux.executableName says');
});

test('the app declares pocketkube:// links: in the config electron-builder resolved, and in the .desktop entry its deb and AppImage write', async () => {
  // The configuration as electron-builder loads and validates it (its schema checks `protocols`); the Linux
  // targets' .desktop file comes from its LinuxTargetHelper, run here over that configuration (the deb and
  // AppImage themselves need tools fetched from GitHub). macOS's Info.plist is not built here.
  const builderRequire = createRequire(require.resolve('app-builder-lib/package.json'));
  const configLib = builderRequire('./out/util/config/config.js') as {
    getConfig(projectDir: string, configPath: null, fromOptions: null): Promise<{ protocols: { name: string; schemes: string[]; role?: string }[]; linux: Record<string, unknown> }>;
    validateConfiguration(config: unknown, debug: unknown): Promise<void>;
  };
  const { DebugLogger, setPrinter } = builderRequire('builder-util') as { DebugLogger: new (enabled: boolean) => unknown; setPrinter(p: ((m: string) => void) | null): void };
  // Its "loaded configuration" line would land in the test runner's own stdout.
  setPrinter(() => {});
  const effective = await configLib.getConfig(REPO, null, null);
  await configLib.validateConfiguration(effective, new DebugLogger(false));
  assert.deepEqual(effective.protocols, [{ name: 'PocketKube join link', schemes: ['pocketkube'], role: 'Viewer' }]);
  const { LinuxTargetHelper } = require('app-builder-lib/out/targets/LinuxTargetHelper.js') as {
    LinuxTargetHelper: new (packager: unknown) => { computeDesktopEntry(options: unknown, exec?: string, extra?: object): Promise<string> };
  };
  const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { productName: string; description: string; desktopName: string };
  const helper = new LinuxTargetHelper({
    appInfo: { productName: manifest.productName, sanitizedProductName: manifest.productName, description: manifest.description },
    executableName: effective.linux.executableName,
    info: { metadata: { desktopName: manifest.desktopName } },
    config: effective,
    platformSpecificBuildOptions: effective.linux,
    fileAssociations: [],
  });
  const desktop = await helper.computeDesktopEntry(effective.linux);
  assert.match(desktop, /^MimeType=x-scheme-handler\/pocketkube;$/m);
  assert.match(desktop, /^Exec=\/opt\/PocketKube\/pocketkube-app %U$/m, 'the link reaches the app as an argument');
  // NSIS: electron-builder includes build/installer.nsh by name; its macros write and remove the scheme's keys.
  const nsh = readFileSync(path.join(REPO, 'build', 'installer.nsh'), 'utf8');
  assert.match(nsh, /!macro customInstall[\s\S]*"Software\\Classes\\pocketkube" "URL Protocol" ""[\s\S]*shell\\open\\command" "" '"\$INSTDIR\\\$\{APP_EXECUTABLE_FILENAME\}" "%1"'/);
  assert.match(nsh, /!macro customUnInstall\s+DeleteRegKey SHELL_CONTEXT "Software\\Classes\\pocketkube"/);
});

test('app.asar holds the main process, preload, window and CLI bundle, and nothing from tests/', () => {
  for (const file of ['/package.json', '/dist/electron/desktop/main.js', '/dist/preload/preload.cjs', '/dist/renderer/index.html', '/dist/cli/pocketkube-cli.mjs']) {
    assert.ok(shipped.includes(file), `${file} ships`);
  }
  const ours = shipped.filter((e) => !e.includes('/node_modules/'));
  assert.deepEqual(ours.filter((e) => /\.test\.js$|\.map$|^\/dist\/tests|stand-ins|support|corpus|harness|screenshots/.test(e)), []);
  assert.deepEqual(ours.filter((e) => /\.(js|mjs|cjs)$/.test(e) && !/^\/dist\/(electron|preload|renderer|cli)\//.test(e)), [], 'only dist code');
  // Development tools never ship (jose is also openid-client's own dependency, so it may).
  const devOnly = Object.keys(pkg.devDependencies).filter((d) => !['jose'].includes(d) && !d.startsWith('@types/'));
  assert.deepEqual(devOnly.filter((d) => shipped.includes(`/node_modules/${d}`)), []);
});

test("every package the app's code needs is in app.asar, with each of its dependencies where Node will look", () => {
  const missing: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    // Node's lookup: node_modules in the requiring package's folder, then each parent folder.
    let dir = from;
    let found: string | undefined;
    for (;;) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) {
        found = candidate;
        break;
      }
      if (dir === extracted) break;
      dir = path.dirname(dir);
    }
    if (!found) return void missing.push(`${name} (needed by ${path.relative(extracted, from) || 'the app'})`);
    if (seen.has(found)) return;
    seen.add(found);
    const manifest = JSON.parse(readFileSync(path.join(found, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, found);
  };
  for (const dep of Object.keys(pkg.dependencies)) visit(dep, extracted);
  assert.deepEqual(missing, []);
  assert.ok(seen.size > Object.keys(pkg.dependencies).length, 'transitive dependencies were followed');
});

test('nothing is unpacked from app.asar, and the resources folder ships every tray icon and both helpers', () => {
  // No native module: nothing needs to live outside the archive. The CLI bundle is read from inside it by
  // the main process (Electron's fs reads asar) and copied next to the installed helper.
  assert.equal(existsSync(path.join(appDir, 'resources', 'app.asar.unpacked')), false);
  const list = (root: string) => readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(path.join(root, f)).isFile()).sort();
  assert.deepEqual(list(path.join(appDir, 'resources', 'resources')), list(path.join(REPO, 'resources')));
  assert.ok((statSync(path.join(appDir, 'resources', 'resources', 'bin', 'pocketkube')).mode & 0o111) !== 0, 'the helper template stays executable');
});

test('the helper the app installs answers --help, writes a kubeconfig whose command exists, and serves a credential', { timeout: 180_000 }, async (t) => {
  const stack = await new Stack().start();
  let browser: Browser | undefined;
  let agent: ChildProcess | undefined;
  t.after(async () => {
    agent?.kill('SIGTERM');
    await browser?.close();
    await stack.close();
  });
  // What the packaged main process does on start (app.isPackaged), with the app's own shipped code:
  // template from resources/resources/bin, the app binary, the CLI bundle from inside app.asar.
  const shippedInstall = (await import(pathToFileURL(path.join(extracted, 'dist', 'electron', 'core', 'credential', 'install-helper.js')).href)) as {
    installHelper(home: Home, opts: { template: string; executable: string; cliBundle: string }): Promise<string>;
  };
  const helper = await shippedInstall.installHelper(stack.home, {
    template: path.join(appDir, 'resources', 'resources', 'bin', 'pocketkube'),
    executable: path.join(appDir, 'pocketkube-app'),
    cliBundle: path.join(extracted, 'dist', 'cli', 'pocketkube-cli.mjs'),
  });
  assert.equal(helper, path.join(stack.home.dir, 'bin', 'pocketkube'));

  const help = await run(helper, ['--help'], stack.env);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: pocketkube <command>/);

  const added = await run(helper, ['provider', 'add', stack.provider, '--issuer', stack.pocketId.issuer, '--client-id', stack.clientId, '--callback-port', String(stack.callbackPort), '--ca-file', stack.pocketId.caFile], stack.env);
  assert.equal(added.code, 0, added.stderr);
  const cluster = await run(helper, ['cluster', 'add', 'talos-packaged', '--provider', stack.provider, '--server', stack.api.server, '--ca-file', stack.api.caFile, '--use'], stack.env);
  assert.equal(cluster.code, 0, cluster.stderr);
  const { parse } = await import('yaml');
  const kubeconfig = parse(readFileSync(stack.kubeconfig, 'utf8')) as { users: { user: { exec: { command: string } } }[] };
  const command = kubeconfig.users[0]!.user.exec.command;
  assert.equal(realpathSync(command), realpathSync(helper), 'the kubeconfig names the installed helper');

  // The agent, run by the helper on the app binary (ELECTRON_RUN_AS_NODE) from the installed CLI bundle.
  agent = spawn(helper, ['agent'], { env: stack.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let agentLog = '';
  agent.stderr!.on('data', (d) => (agentLog += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${agentLog}`)), 30_000);
    agent!.stderr!.on('data', () => agentLog.includes('PocketKube agent running') && (clearTimeout(timer), resolve()));
    agent!.once('exit', (code) => (clearTimeout(timer), reject(new Error(`agent exited with ${code}: ${agentLog}`))));
  });

  browser = await launchChromium();
  const login = spawn(helper, ['login', stack.provider, '--no-browser'], { env: stack.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let loginLog = '';
  login.stderr!.on('data', (d) => (loginLog += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`login printed no URL: ${loginLog}`)), 30_000);
    login.stderr!.on('data', () => {
      const m = /(http:\/\/localhost:\d+\/start\/\S+)/.exec(loginLog);
      if (m) (clearTimeout(timer), resolve(m[1]!));
    });
  });
  const loggedIn = new Promise<number>((resolve) => login.once('close', (code) => resolve(code ?? 1)));
  assert.match(await signInInBrowser(browser, url), /Signed in/);
  assert.equal(await loggedIn, 0, loginLog);

  // kubectl runs the kubeconfig's command: the installed helper asks the running agent for the credential.
  const who = await stack.kubectl(['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  const review = JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
  assert.match(review.status.userInfo.username, /^oidc:/);
  assert.ok(review.status.userInfo.groups.includes('oidc:kubernetes'), who.stdout);
});
