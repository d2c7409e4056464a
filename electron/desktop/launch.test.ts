import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchArgs, sandboxFallback, type SandboxProbe } from './launch.js';

const BIN = '/repo/node_modules/electron/dist/electron';
function probe(files: Record<string, string>, sandbox?: { uid: number; mode: number }): SandboxProbe {
  return { read: (f) => files[f], stat: (f) => (f === '/repo/node_modules/electron/dist/chrome-sandbox' ? sandbox : undefined) };
}
const UBUNTU_24 = { '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1\n' };

test('where AppArmor restricts user namespaces, npm start says so in one line with the fix and runs without the sandbox', () => {
  const notice = sandboxFallback(BIN, 'linux', probe(UBUNTU_24, { uid: 1000, mode: 0o100755 }));
  assert.ok(notice);
  assert.equal(notice.split('\n').length, 1);
  assert.match(notice, /AppArmor restricts unprivileged user namespaces .*--no-sandbox.*sudo chown root:root '\/repo\/node_modules\/electron\/dist\/chrome-sandbox' && sudo chmod 4755/);
  assert.deepEqual(launchArgs('/repo', ['--x'], notice !== undefined), ['--no-sandbox', '/repo', '--x']);
});

test('a setuid-root chrome-sandbox, or namespaces that are allowed, keep the sandbox on', () => {
  assert.equal(sandboxFallback(BIN, 'linux', probe(UBUNTU_24, { uid: 0, mode: 0o104755 })), undefined);
  assert.equal(sandboxFallback(BIN, 'linux', probe({ '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '0\n' })), undefined);
  assert.equal(sandboxFallback(BIN, 'linux', probe({})), undefined, 'a kernel without the AppArmor switch');
  assert.equal(sandboxFallback(BIN, 'darwin', probe(UBUNTU_24)), undefined);
  assert.deepEqual(launchArgs('/repo', [], false), ['/repo']);
});

test('a kernel with unprivileged user namespaces switched off (older Debian) gets the same fallback', () => {
  assert.match(sandboxFallback(BIN, 'linux', probe({ '/proc/sys/kernel/unprivileged_userns_clone': '0\n' })) ?? '', /user namespaces are disabled/);
});
