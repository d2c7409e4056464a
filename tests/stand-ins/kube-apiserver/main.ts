/**
 * The kube-apiserver stand-in as its own process: `node dist/tests/stand-ins/kube-apiserver/main.js` reads
 * its options as JSON from `KUBE_APISERVER_CONFIG`, prints one JSON ready line on stdout (server, CA and admin
 * files, or `ready:false` and the error) and exits on SIGTERM/SIGINT. Logs go to stderr.
 */
import { isRecord } from './messages.js';
import { startKubeApiServer, type KubeApiServerHandle, type KubeApiServerOptions } from './index.js';

async function main(): Promise<void> {
  const log = (line: string): void => {
    process.stderr.write(`kube-apiserver: ${line}\n`);
  };
  let opts: KubeApiServerOptions;
  try {
    const raw = process.env.KUBE_APISERVER_CONFIG ?? '{}';
    const parsed: unknown = JSON.parse(raw);
    if (!isRecord(parsed)) throw new Error('KUBE_APISERVER_CONFIG must be a JSON object');
    opts = parsed as KubeApiServerOptions;
  } catch (e) {
    log(`bad KUBE_APISERVER_CONFIG: ${(e as Error).message}`);
    process.stdout.write(`${JSON.stringify({ ready: false, error: (e as Error).message })}\n`);
    process.exit(2);
  }
  let handle: KubeApiServerHandle;
  try {
    handle = await startKubeApiServer({ ...opts, log });
  } catch (e) {
    log((e as Error).message);
    process.stdout.write(`${JSON.stringify({ ready: false, error: (e as Error).message })}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void handle.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      server: handle.server,
      port: handle.port,
      caFile: handle.caFile,
      adminCertFile: handle.adminCertFile,
      adminKeyFile: handle.adminKeyFile,
      stateDir: handle.stateDir,
    })}\n`,
  );
}

void main();
