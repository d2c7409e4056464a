/**
 * The packaging config (electron-builder.yml + package.json) against what each target needs, read the way
 * electron-builder 26 reads it. The deb, dmg and NSIS targets cannot be built here (they fetch fpm and other
 * tools from GitHub); unpacked-app.test.ts builds the unpacked Linux app itself.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { REPO } from '../support/stack.js';

interface Config {
  productName?: string;
  npmRebuild?: boolean;
  files: string[];
  extraResources: { from: string; to: string; filter: string[] }[];
  linux: { target: string[]; icon: string; executableName: string; category: string; syncDesktopName?: boolean };
  deb: { depends: string[] };
  mac: { target: string; icon: string; extendInfo: Record<string, unknown> };
  win: { target: string; icon: string };
}

const config = parse(await readFile(path.join(REPO, 'electron-builder.yml'), 'utf8')) as Config;
const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  productName?: string;
  desktopName?: string;
  version: string;
  homepage?: string;
  author?: { name?: string; email?: string } | string;
};

/** A PNG's width and height, from its IHDR chunk. */
async function pngSize(file: string): Promise<{ width: number; height: number }> {
  const head = (await readFile(file)).subarray(0, 24);
  assert.equal(head.subarray(1, 4).toString('latin1'), 'PNG', `${file} is a PNG`);
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

test('the deb has what its control file needs: a homepage, and a maintainer with an email (from package.json)', () => {
  // FpmTarget.computeFpmMetaInfoOptions fails the deb without either; the maintainer defaults to the author.
  assert.match(pkg.homepage ?? '', /^https:\/\//);
  assert.equal(typeof pkg.author, 'object');
  assert.match((pkg.author as { email?: string }).email ?? '', /^[^@\s]+@[^@\s]+\.[a-z]+$/);
  assert.ok((pkg.author as { name?: string }).name);
  assert.equal(pkg.productName, 'PocketKube', 'the app name Electron and electron-builder use');
  assert.equal(config.productName, undefined, 'named once, in package.json');
});

test("the deb depends on electron-builder's default libraries (GTK, NSS, libnotify, libsecret, xdg-utils...) plus curl", () => {
  // `depends` replaces the defaults rather than adding to them, so the list must carry them all.
  const require = createRequire(import.meta.url);
  const FpmTarget = (require('app-builder-lib/out/targets/FpmTarget.js') as { default: { prototype: { getDefaultDepends(t: string): string[] } } }).default;
  const defaults = FpmTarget.prototype.getDefaultDepends.call(undefined, 'deb');
  assert.ok(defaults.includes('libgtk-3-0') && defaults.includes('libnss3'), 'read the real default list');
  for (const dep of [...defaults, 'curl']) assert.ok(config.deb.depends.includes(dep), `deb.depends has ${dep}`);
});

test('every target has an icon it can use: one 512x512 PNG makes the Linux icons, the .icns and the .ico', async () => {
  for (const icon of [config.linux.icon, config.mac.icon, config.win.icon]) {
    const { width, height } = await pngSize(path.join(REPO, icon));
    // macOS needs 512x512 or more to make an .icns; Windows at least 256x256 for the .ico.
    assert.ok(width >= 512 && width === height, `${icon} is square and at least 512 px (is ${width}x${height})`);
  }
});

test('the shipped resources carry the window icon, every tray state for light and dark panels and macOS, and both helpers', async () => {
  assert.deepEqual(config.extraResources, [{ from: 'resources', to: 'resources', filter: ['**/*'] }]);
  const { width } = await pngSize(path.join(REPO, 'resources', 'icon.png'));
  assert.ok(width >= 256);
  for (const state of ['signed-in', 'expiring', 'signed-out']) {
    for (const variant of ['-light', '-dark', 'Template']) {
      for (const scale of ['', '@2x']) {
        const file = path.join(REPO, 'resources', 'tray', `${state}${variant}${scale}.png`);
        const size = await pngSize(file);
        assert.ok(size.width > 0, file);
      }
    }
  }
  assert.ok((statSync(path.join(REPO, 'resources', 'bin', 'pocketkube')).mode & 0o111) !== 0, 'the sh helper is executable');
  assert.ok(statSync(path.join(REPO, 'resources', 'bin', 'pocketkube.cmd')).isFile(), 'the Windows helper ships');
});

test('the targets: AppImage and deb, a tray-only dmg, a per-user NSIS installer; nothing to rebuild or download', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.match(config.linux.executableName, /^[a-z0-9-]+$/, 'a name AppRun and the .desktop entry can use');
  assert.equal(pkg.desktopName, `${config.linux.executableName}.desktop`, 'windows link to the .desktop entry (app_id / WM_CLASS)');
  assert.equal(config.linux.syncDesktopName, true);
  assert.equal(config.mac.target, 'dmg');
  assert.equal(config.mac.extendInfo.LSUIElement, true, 'no Dock icon');
  assert.equal(config.win.target, 'nsis');
  assert.equal(config.npmRebuild, false, 'no native modules: no node-gyp headers to fetch');
  assert.ok(config.files.includes('!dist/**/*.test.js'));
  assert.ok(!config.files.some((f) => f.startsWith('dist/tests')), 'tests are never packed');
});
