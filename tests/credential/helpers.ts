/** What the credential tests share: a kubeconfig for one provider's helper, and the agent's credential cache. */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Home } from '../../electron/core/platform/home.js';
import { credentialCacheDir } from '../../electron/core/credential/credential-cache.js';
import { HELPER, type Stack } from '../support/stack.js';
export { curlCalls } from './old-curl.js';

/** A kubeconfig (JSON) whose one user runs the helper for `provider` against the stack's API server. */
export function kubeconfigFor(stack: Stack, provider: string, exec: { command?: string; args?: string[] } = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: stack.api.server, 'certificate-authority-data': Buffer.from(stack.api.caPem).toString('base64') } }],
    users: [
      {
        name: 'u',
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: exec.command ?? HELPER,
            args: exec.args ?? ['credential', '--provider', provider],
            env: [{ name: 'POCKETKUBE_HOME', value: stack.home.dir }],
            interactiveMode: 'Never',
          },
        },
      },
    ],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'c',
  });
}

/** Removes the agent's cached credentials, so the helper's next answer comes over the socket (through curl). */
export async function dropCredentialCache(home: Home): Promise<void> {
  const dir = credentialCacheDir(home);
  for (const f of await readdir(dir).catch(() => [] as string[])) await rm(path.join(dir, f), { force: true });
}
