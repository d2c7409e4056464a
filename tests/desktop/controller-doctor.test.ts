/**
 * The window's doctor reads the kubeconfig files the controller was given, as every other handler does,
 * not $KUBECONFIG of the process. A real AppController over real files; no agent runs (doctor skips the
 * checks that need claims), and the contexts name loopback ports nothing listens on.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { AppController } from '../../electron/desktop/controller.js';
import { resolveHome } from '../../electron/core/platform/home.js';
import { ProviderRegistry, providerFromInput, saveProvider } from '../../electron/core/session/providers.js';
import { MemorySecretStore } from '../../electron/core/session/secret-store.js';
import { removeTempDir, tempDir } from '../support/temp.js';

/** A loopback port the system just gave us and we closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function kubeconfig(file: string, context: string, server: string): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'homelab', cluster: { server } }],
    users: [{ name: 'pocket-id', user: { token: 'not-a-real-token' } }],
    contexts: [{ name: context, context: { cluster: 'homelab', user: 'pocket-id' } }],
    'current-context': context,
  };
  fs.writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}

let dir: string;
let savedKubeconfig: string | undefined;
before(() => {
  dir = tempDir('pk-controller-doctor-');
  savedKubeconfig = process.env['KUBECONFIG'];
});
after(async () => {
  if (savedKubeconfig === undefined) delete process.env['KUBECONFIG'];
  else process.env['KUBECONFIG'] = savedKubeconfig;
  await removeTempDir(dir);
});

test("doctor checks the API server of the controller's kubeconfig files, not of $KUBECONFIG", { timeout: 30_000 }, async () => {
  const home = resolveHome({ POCKETKUBE_HOME: path.join(dir, 'home') });
  fs.mkdirSync(home.dir, { recursive: true, mode: 0o700 });
  await saveProvider(new ProviderRegistry(home.settingsFile), new MemorySecretStore(), providerFromInput({ name: 'pocket-id', issuer: `https://127.0.0.1:${await closedPort()}`, clientId: 'pocketkube-test' }));
  const ours = `https://127.0.0.1:${await closedPort()}`;
  const theirs = `https://127.0.0.1:${await closedPort()}`;
  const given = kubeconfig(path.join(dir, 'given-config'), 'pocket-id@homelab', ours);
  // The process's $KUBECONFIG has the same context name on another server: doctor must not look there.
  process.env['KUBECONFIG'] = kubeconfig(path.join(dir, 'env-config'), 'pocket-id@homelab', theirs);
  const refuse = async (): Promise<never> => {
    throw new Error('the desktop adapter is not part of doctor');
  };
  const controller = new AppController({ home, desktop: { copyText: refuse, saveText: refuse, openFile: refuse, openExternal: refuse }, owner: () => 'app', version: '0.1.0', files: () => [given] });
  const checks = await controller.handlers.doctor({ provider: 'pocket-id', context: 'pocket-id@homelab' });
  const apiserver = checks.find((c) => c.id === 'apiserver');
  assert.ok(apiserver, 'an API server check');
  assert.equal(apiserver.ok, false, 'nothing listens on the port');
  assert.ok(apiserver.detail.includes(ours), `names the server of the given file: ${apiserver.detail}`);
  assert.ok(!apiserver.detail.includes(theirs), `not the server in $KUBECONFIG: ${apiserver.detail}`);
});
