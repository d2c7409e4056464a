/**
 * What the window's handlers really answer when something is wrong: each failure here comes from running
 * the real AppController handler (electron/desktop/controller.ts) on real bad input (a locked or unparsable
 * kubeconfig, a cluster nothing listens for, a user RBAC refuses on the kube-apiserver stand-in, a Pocket ID
 * that cannot be reached, an agent whose session is signed out, a file that is not a Talos machine config), wrapped by the schema's own `toResult` as
 * main does. The renderer tests feed
 * these to the window, so a change in what main sends breaks them.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { Agent } from '../../electron/agent/agent.js';
import { AppController } from '../../electron/desktop/controller.js';
import { resolveHome, type Home } from '../../electron/core/platform/home.js';
import { ProviderRegistry, providerFromInput, saveProvider } from '../../electron/core/session/providers.js';
import { MemorySecretStore } from '../../electron/core/session/secret-store.js';
import { toResult, type InvokeChannel, type PocketKubeInvoke } from '../../electron/shared/ipc.js';
import type { Failure } from '../../electron/shared/api.js';
import type { DoctorCheck } from '../../electron/shared/talos.js';
import { startKubeApiServer } from '../stand-ins/kube-apiserver/index.js';
import { removeTempDir, tempDir } from '../support/temp.js';
import { startTokenIssuer } from '../support/token-issuer.js';
import { CLIENT_ID } from './fixtures.js';

/** A loopback URL nothing listens on: a port the system just gave us and we closed again. */
async function closedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}

function contextsFile(file: string, contexts: { name: string; server: string; user?: Record<string, unknown> }[], current?: string): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c.name.split('@')[1], cluster: { server: c.server } })),
    users: contexts.map((c) => ({ name: c.name, user: c.user ?? { token: 'not-a-real-token' } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name.split('@')[1], user: c.name } })),
    ...(current ? { 'current-context': current } : {}),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}

/** A home and a controller over kubeconfig files of our choosing; no agent runs (none is needed to fail). */
async function withController<T>(run: (c: { dir: string; home: Home; use: (files: string[]) => AppController }) => Promise<T>): Promise<T> {
  const dir = tempDir('pk-real-failures-');
  const home = resolveHome({ POCKETKUBE_HOME: path.join(dir, 'home') });
  fs.mkdirSync(home.dir, { recursive: true, mode: 0o700 });
  const refuse = async (): Promise<never> => {
    throw new Error('the desktop adapter is not part of these failures');
  };
  try {
    return await run({
      dir,
      home,
      use: (files) => new AppController({ home, desktop: { copyText: refuse, saveText: refuse, openFile: refuse, openExternal: refuse }, owner: () => 'app', version: '0.1.0', files: () => files }),
    });
  } finally {
    await removeTempDir(dir);
  }
}

/** Runs one real handler as main's IPC does and returns its failure; a success is a broken premise. */
async function failureOf<K extends InvokeChannel>(controller: AppController, channel: K, ...args: PocketKubeInvoke[K]['args']): Promise<Failure> {
  const handler = controller.handlers[channel] as (...a: PocketKubeInvoke[K]['args']) => Promise<unknown>;
  const result = structuredClone(await toResult(() => handler(...args)));
  if (result.ok) throw new Error(`${channel} was expected to fail here but answered ${JSON.stringify(result.value)}`);
  return result.error;
}

/** Switching context while another program holds kubectl's lock on the file (the writer waits 2 s, then gives up). */
export function lockedSwitch(context: string): Promise<Failure> {
  return withController(async ({ dir, use }) => {
    const file = contextsFile(path.join(dir, 'kube', 'config'), [{ name: 'pocket-id@homelab', server: 'https://10.0.0.10:6443' }, { name: context, server: 'https://prod.example.com:6443' }], 'pocket-id@homelab');
    fs.writeFileSync(`${file}.lock`, '');
    return failureOf(use([file]), 'useContext', context);
  });
}

/** Adding a cluster when the kubeconfig does not parse: kubectl refuses the file too, and nothing is written. */
export function unparsableAdd(): Promise<Failure> {
  return withController(async ({ dir, home, use }) => {
    await saveProvider(new ProviderRegistry(home.settingsFile), new MemorySecretStore(), providerFromInput({ name: 'pocket-id', issuer: 'https://id.example.com', clientId: CLIENT_ID }));
    const file = path.join(dir, 'kube', 'config');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'apiVersion: v1\nkind: Config\ncurrent-context: one: two\n', { mode: 0o600 });
    return failureOf(use([file]), 'addCluster', { provider: 'pocket-id', use: true, name: 'edge', server: 'https://10.0.0.20:6443' });
  });
}

/** Who am I on a context whose API server nothing answers for. */
export function unreachableWhoami(context: string): Promise<Failure> {
  return withController(async ({ dir, use }) => {
    const file = contextsFile(path.join(dir, 'kube', 'config'), [{ name: context, server: await closedUrl() }], context);
    return failureOf(use([file]), 'whoami', context);
  });
}

/** Applying the RBAC binding through a context whose user the kube-apiserver stand-in authenticates but RBAC refuses. */
export function forbiddenApply(context: string): Promise<Failure> {
  return withController(async ({ dir, use }) => {
    const idp = await startTokenIssuer(dir, 'pocketkube-test');
    const api = await startKubeApiServer({ oidcIssuerUrl: idp.issuer, oidcClientId: 'pocketkube-test', oidcUsernamePrefix: 'oidc:', oidcGroupsClaim: 'groups', oidcGroupsPrefix: 'oidc:', oidcCaPem: idp.caPem });
    try {
      const token = await idp.sign(idp.claims({ groups: ['developers'] }));
      const file = path.join(dir, 'kube', 'config');
      contextsFile(file, [{ name: context, server: api.server, user: { token } }], context);
      // The stand-in's own CA, as talosctl's kubeconfig carries it.
      const doc = fs.readFileSync(file, 'utf8').replace(`server: ${api.server}`, `server: ${api.server}\n      certificate-authority-data: ${Buffer.from(api.caPem).toString('base64')}`);
      fs.writeFileSync(file, doc);
      return await failureOf(use([file]), 'applyRbac', { group: 'kubernetes', context });
    } finally {
      await api.close();
      await idp.close();
    }
  });
}

/**
 * Asking for the Talos patch from a file that is not a control-plane machine config (`name` is the path the
 * window sends with it), for a provider whose discovery document a loopback issuer serves.
 */
export function refusedMachineConfig(name: string, text: string): Promise<Failure> {
  return withController(async ({ dir, home, use }) => {
    const idp = await startTokenIssuer(dir, CLIENT_ID);
    try {
      await saveProvider(new ProviderRegistry(home.settingsFile), new MemorySecretStore(), providerFromInput({ name: 'pocket-id', issuer: idp.issuer, clientId: CLIENT_ID, caFile: idp.caFile }));
      return await failureOf(use([]), 'talosPatch', { provider: 'pocket-id', machineConfigText: text, machineConfigName: name });
    } finally {
      await idp.close();
    }
  });
}

/** Doctor's checks for a provider whose Pocket ID nothing answers for: not an error, failed checks. */
export function doctorWithPocketIdUnreachable(): Promise<DoctorCheck[]> {
  return withController(async ({ dir, home, use }) => {
    await saveProvider(new ProviderRegistry(home.settingsFile), new MemorySecretStore(), providerFromInput({ name: 'pocket-id', issuer: await closedUrl(), clientId: CLIENT_ID }));
    // A kubeconfig that does not exist, never the developer's ~/.kube/config.
    const result = structuredClone(await toResult(() => use([path.join(dir, 'no-kubeconfig')]).handlers.doctor({ provider: 'pocket-id', group: 'kubernetes' })));
    if (!result.ok) throw new Error(`doctor was expected to answer with checks but failed: ${result.error.code}: ${result.error.message}`);
    return result.value;
  });
}

/**
 * A call that goes through the agent, answered by a real Agent (in this process, on a private socket) whose
 * one provider, pocket-id, has never been signed in to and whose Pocket ID nothing answers for.
 */
function withAgent<K extends InvokeChannel>(channel: K, ...args: PocketKubeInvoke[K]['args']): Promise<Failure> {
  return withController(async ({ dir, home, use }) => {
    const store = new MemorySecretStore();
    await saveProvider(new ProviderRegistry(home.settingsFile), store, providerFromInput({ name: 'pocket-id', issuer: await closedUrl(), clientId: CLIENT_ID }));
    const agent = new Agent({ home, store, kubeconfigFiles: [path.join(dir, 'no-kubeconfig')] });
    await agent.start();
    try {
      return await failureOf(use([]), channel, ...args);
    } finally {
      await agent.stop();
    }
  });
}

/** Refresh now, when the agent's session is not signed in (signed out elsewhere, or never signed in). */
export function refreshSignedOut(): Promise<Failure> {
  return withAgent('refresh', 'pocket-id');
}

/** Sign in, when Pocket ID cannot be reached: the agent cannot even read its discovery document. */
export function signInPocketIdUnreachable(): Promise<Failure> {
  return withAgent('signIn', 'pocket-id', {});
}
