/**
 * `npm run demo`: the whole flow on loopback in a minute, without a Pocket ID or a cluster. Starts a local
 * OpenID provider that behaves like Pocket ID, an HTTPS stand-in for a Kubernetes API server, a throwaway
 * POCKETKUBE_HOME and kubeconfig, and the agent; then prints the commands to try.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKubeApiServer } from './kube-apiserver/index.js';
import { startPocketId } from './pocket-id.js';
import { seedGuideBinding, seedGuideOidcFlags } from './seed.js';
import { removeTempDir, tempDir } from '../support/temp.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HELPER = path.join(REPO, 'resources', 'bin', 'pocketkube');

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function callbackPort(): Promise<number> {
  // The seed registers http://localhost:8000; use it when free, like a real setup would.
  if (await portFree(8000)) return 8000;
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(HELPER, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pocketkube ${args[0]} failed: ${stderr.trim()}`))));
  });
}

async function main(): Promise<void> {
  const dir = tempDir('pocketkube-demo-');
  const port = await callbackPort();
  const clientId = 'a60960a8-c856-43b7-add7-50d83bf7eeab';
  const pocketId = await startPocketId({
    stateDir: path.join(dir, 'pocket-id'),
    clients: [{ clientId, name: 'Kubernetes', redirectUris: [`http://localhost:${port}`], allowedGroups: ['kubernetes', 'developers'] }],
  });
  const api = await startKubeApiServer({
    stateDir: path.join(dir, 'apiserver'),
    ...seedGuideOidcFlags(pocketId.issuer, clientId, pocketId.caPem),
    clusterRoleBindings: [seedGuideBinding],
  });
  const env = {
    ...process.env,
    POCKETKUBE_HOME: path.join(dir, 'home'),
    KUBECONFIG: path.join(dir, 'kube', 'config'),
  };
  await runCli(['provider', 'add', 'pocket-id', '--issuer', pocketId.issuer, '--client-id', clientId, '--callback-port', String(port), '--ca-file', pocketId.caFile], env);
  await runCli(['cluster', 'add', 'demo', '--provider', 'pocket-id', '--server', api.server, '--ca-file', api.caFile, '--use'], env);
  const agent: ChildProcess = spawn(HELPER, ['agent'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    agent.stderr!.on('data', (d) => {
      log += d;
      if (log.includes('PocketKube agent running')) resolve();
    });
    agent.on('exit', (code) => reject(new Error(`the agent exited (${code}): ${log}`)));
  });
  agent.stderr!.pipe(process.stderr);

  const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  process.stdout.write(`
PocketKube demo is running on loopback (Ctrl-C stops it and deletes ${dir}).
  Pocket ID stand-in:  ${pocketId.issuer}  (sign in as Alice: in group "kubernetes"; Bob is not)
  API server stand-in: ${api.server}  (ClusterRoleBinding for group oidc:kubernetes)
  Agent socket:        ${path.join(env.POCKETKUBE_HOME, 'agent.sock')}

In another terminal:
  export POCKETKUBE_HOME=${sh(env.POCKETKUBE_HOME)} KUBECONFIG=${sh(env.KUBECONFIG)} PATH=${sh(path.dirname(HELPER))}:"$PATH"
  pocketkube login              # opens the browser (or prints the URL); press "Sign in as Alice"
  kubectl auth whoami           # oidc:6f1a2b3c-... in groups oidc:kubernetes, oidc:developers
  kubectl get --raw /version
  pocketkube status

Your browser will warn about the certificate of ${pocketId.issuer} before the sign-in page: the demo's
provider signs it with its own CA, made a minute ago. The provider must be https (kube-apiserver accepts
no other issuer, and the sign-in page lives at the issuer, as in Pocket ID). Accept the warning for this
page, or trust ${pocketId.caFile} in a throwaway browser profile.

`);
  const stop = async () => {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    await api.close();
    await pocketId.close();
    await removeTempDir(dir);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`demo: ${err.message}\n`);
  process.exit(1);
});
