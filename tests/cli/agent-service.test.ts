/**
 * `pocketkube agent --install | --uninstall`. No systemd user bus or launchd runs here, so systemctl and
 * launchctl are stand-ins on PATH that record their arguments (and can fail as a machine without a user
 * bus does); the files written are the real ones, at the real paths under a throwaway HOME.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { installService, uninstallService } from '../../electron/cli/commands/service.js';
import { resolveHome } from '../../electron/core/platform/home.js';
import { CLI, sandbox, type Sandbox } from './cli.js';

let box: Sandbox;
let log: string;
beforeEach(async () => {
  await box?.remove();
  box = sandbox('pk-service-');
  log = path.join(box.dir, 'calls.log');
  const stubs = path.join(box.dir, 'stubs');
  await mkdir(stubs);
  // Each records "name args..." and fails with systemd's own message when FAIL_BUS is set.
  for (const name of ['systemctl', 'launchctl']) {
    await writeFile(
      path.join(stubs, name),
      `#!/bin/sh\necho "${name} $*" >> '${log}'\nif [ -n "$FAIL_BUS" ]; then echo 'Failed to connect to bus: No medium found' >&2; exit 1; fi\n`,
      { mode: 0o755 },
    );
  }
  box.env.PATH = `${stubs}:${box.env.PATH}`;
});
after(() => box.remove());

const calls = async () => (existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter(Boolean) : []);
const unitPath = () => path.join(box.env.HOME!, '.config', 'systemd', 'user', 'pocketkube-agent.service');

test('agent --install writes the systemd user unit that runs this CLI\'s agent, then reloads and enables it now', async () => {
  const r = await box.cli(['agent', '--install']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Wrote ${unitPath()} and enabled it: the agent runs now and at every login (\`systemctl --user status pocketkube-agent.service\`, logs in \`journalctl --user -u pocketkube-agent.service\`).\n`);
  const unit = await readFile(unitPath(), 'utf8');
  assert.match(unit, new RegExp(`\\nExecStart=${process.execPath} ${CLI} agent\\n`));
  assert.match(unit, new RegExp(`\\nEnvironment=POCKETKUBE_HOME=${box.env.POCKETKUBE_HOME}\\n`), 'a non-default home reaches the service');
  assert.match(unit, /\nWantedBy=default\.target\n/);
  assert.equal((await stat(unitPath())).mode & 0o777, 0o644);
  assert.deepEqual(await calls(), ['systemctl --user daemon-reload', 'systemctl --user enable --now pocketkube-agent.service']);
});

test('without a systemd user bus, --install still writes the unit and says in one sentence how to enable it', async () => {
  const r = await box.cli(['agent', '--install'], { env: { FAIL_BUS: '1' } });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `Wrote ${unitPath()}, but could not enable it: systemctl --user says "Failed to connect to bus: No medium found" (is there a systemd user session here?); in your login session run \`systemctl --user enable --now pocketkube-agent.service\`.\n`,
  );
  assert.ok(existsSync(unitPath()));
});

test('agent --uninstall disables and stops the service and removes the unit', async () => {
  await box.cli(['agent', '--install']);
  const r = await box.cli(['agent', '--uninstall']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Removed ${unitPath()}; the agent no longer starts at login.\n`);
  assert.ok(!existsSync(unitPath()));
  assert.deepEqual((await calls()).slice(2), ['systemctl --user disable --now pocketkube-agent.service', 'systemctl --user daemon-reload']);
});

test('on macOS, --install writes the launchd agent and bootstraps it in the user\'s GUI domain; --uninstall boots it out', async () => {
  const home = resolveHome({ POCKETKUBE_HOME: box.env.POCKETKUBE_HOME });
  const opts = { platform: 'darwin' as const, homedir: box.env.HOME!, env: box.env, command: { argv: ['/Applications/PocketKube.app/Contents/MacOS/PocketKube', '/Users/a/.pocketkube/bin/pocketkube-cli.mjs', 'agent'], env: { ELECTRON_RUN_AS_NODE: '1' } } };
  const plist = path.join(box.env.HOME!, 'Library', 'LaunchAgents', 'dev.pocketkube.agent.plist');
  const res = await installService(home, opts);
  assert.deepEqual([res.ok, res.file], [true, plist]);
  const text = await readFile(plist, 'utf8');
  assert.match(text, /<string>\/Users\/a\/\.pocketkube\/bin\/pocketkube-cli\.mjs<\/string>/);
  assert.match(text, new RegExp(`<key>StandardErrorPath</key>\\n {2}<string>${home.dir}/agent\\.log</string>`));
  const uid = process.getuid!();
  assert.deepEqual(await calls(), [`launchctl bootout gui/${uid}/dev.pocketkube.agent`, `launchctl bootstrap gui/${uid} ${plist}`]);
  const un = await uninstallService(home, opts);
  assert.equal(un.ok, true);
  assert.ok(!existsSync(plist));
  assert.deepEqual((await calls()).slice(2), [`launchctl bootout gui/${uid}/dev.pocketkube.agent`]);
});

test('on Windows, --install says to start the app at login instead', async () => {
  const home = resolveHome({ POCKETKUBE_HOME: box.env.POCKETKUBE_HOME });
  await assert.rejects(installService(home, { platform: 'win32', homedir: box.env.HOME!, env: box.env }), /knows systemd \(Linux\) and launchd \(macOS\), not win32; start the PocketKube app at login instead/);
  assert.deepEqual(await calls(), []);
});
