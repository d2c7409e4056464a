import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { startKubeApiServer, type KubeApiServerHandle } from '../stand-ins/kube-apiserver/index.js';
import { startPocketId, type PocketIdClient, type PocketIdHandle } from '../stand-ins/pocket-id.js';
import { seedGuideBinding, seedGuideOidcFlags } from '../stand-ins/seed.js';
import { resolveHome, type Home } from '../../electron/core/platform/home.js';
import { runKubectl } from './kubectl.js';
import { run, type RunResult } from './run.js';
import { removeTempDir, tempDir } from './temp.js';

export { KUBECTL } from './kubectl.js';
export { run, type RunResult } from './run.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const HELPER = path.join(REPO, 'resources', 'bin', 'pocketkube');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * Signs in at Pocket ID in real Chromium, as a person would: open the URL, press the user's button (the
 * stand-in for the passkey), land on PocketKube's loopback page. Returns that page's heading.
 */
export async function signInInBrowser(browser: Browser, url: string, username = 'alice'): Promise<string> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await ctx.newPage();
    await page.goto(url);
    await page.click(`[data-testid="login-${username}"]`);
    await page.waitForURL(/^http:\/\/(localhost|127\.0\.0\.1|\[::1\]):\d+\/\?/, { timeout: 30_000 });
    return (await page.textContent('h1'))?.trim() ?? '';
  } finally {
    await ctx.close();
  }
}

export interface StackOptions {
  /** Client secret: a confidential client like the seed's; none: a public client with PKCE. */
  clientSecret?: string;
  allowedGroups?: string[];
  idTokenTtl?: number;
  deviceInterval?: number;
  callbackPort?: number;
  /** Seed the API server with the seed guide's ClusterRoleBinding for oidc:kubernetes (default true). */
  seedBinding?: boolean;
}

/**
 * Everything a user has, on loopback: a real OpenID provider behaving like Pocket ID, an API server
 * stand-in that checks tokens as kube-apiserver does, a private POCKETKUBE_HOME and KUBECONFIG.
 */
export class Stack {
  readonly provider = 'pocket-id';
  readonly clientId = 'a60960a8-c856-43b7-add7-50d83bf7eeab';
  pocketId!: PocketIdHandle;
  api!: KubeApiServerHandle;
  dir!: string;
  home!: Home;
  kubeconfig!: string;
  callbackPort!: number;
  env!: NodeJS.ProcessEnv;
  private agents: ChildProcess[] = [];

  constructor(private readonly options: StackOptions = {}) {}

  async start(): Promise<this> {
    this.dir = tempDir('pk-e2e-');
    this.callbackPort = this.options.callbackPort ?? (await freePort());
    const client: PocketIdClient = {
      clientId: this.clientId,
      ...(this.options.clientSecret ? { clientSecret: this.options.clientSecret } : {}),
      // Registered exactly as the seed guide says, with our test port.
      redirectUris: [`http://localhost:${this.callbackPort}`],
      allowedGroups: this.options.allowedGroups ?? ['kubernetes'],
    };
    this.pocketId = await startPocketId({
      stateDir: path.join(this.dir, 'pocket-id'),
      clients: [client],
      lifetimes: { idToken: this.options.idTokenTtl ?? 3600 },
      deviceInterval: this.options.deviceInterval ?? 1,
    });
    this.api = await startKubeApiServer({
      stateDir: path.join(this.dir, 'apiserver'),
      ...seedGuideOidcFlags(this.pocketId.issuer, this.clientId, this.pocketId.caPem),
      clusterRoleBindings: this.options.seedBinding === false ? [] : [seedGuideBinding],
    });
    this.home = resolveHome({ POCKETKUBE_HOME: path.join(this.dir, 'home') });
    this.kubeconfig = path.join(this.dir, 'kube', 'config');
    this.env = {
      PATH: process.env.PATH,
      HOME: this.dir,
      POCKETKUBE_HOME: this.home.dir,
      KUBECONFIG: this.kubeconfig,
      LANG: 'C.UTF-8',
    };
    return this;
  }

  cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(HELPER, args, { ...this.env, ...opts.env }, opts);
  }

  kubectl(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
    return runKubectl(args, { ...this.env, ...opts.env }, opts);
  }

  /** `pocketkube provider add` and `cluster add --use` for this stack, as a user would type them. */
  async configure(): Promise<void> {
    const add = ['provider', 'add', this.provider, '--issuer', this.pocketId.issuer, '--client-id', this.clientId, '--callback-port', String(this.callbackPort), '--ca-file', this.pocketId.caFile];
    if (this.options.clientSecret) {
      const { writeFile } = await import('node:fs/promises');
      const secretFile = path.join(this.dir, 'client-secret');
      await writeFile(secretFile, `${this.options.clientSecret}\n`, { mode: 0o600 });
      add.push('--client-secret-file', secretFile);
    }
    const a = await this.cli(add);
    if (a.code !== 0) throw new Error(`provider add failed: ${a.stderr}`);
    const c = await this.cli(['cluster', 'add', 'talos-e2e', '--provider', this.provider, '--server', this.api.server, '--ca-file', this.api.caFile, '--use']);
    if (c.code !== 0) throw new Error(`cluster add failed: ${c.stderr}${c.stdout}`);
  }

  /** Starts `pocketkube agent` as its own process and waits until its socket answers. */
  async startAgentProcess(extraEnv: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
    const child = spawn(HELPER, ['agent'], { env: { ...this.env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    this.agents.push(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent did not start: ${log}`)), 20_000);
      const check = () => {
        if (log.includes('PocketKube agent running')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stderr!.on('data', check);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`agent exited with ${code}: ${log}`));
      });
    });
    Object.defineProperty(child, 'log', { get: () => log });
    return child;
  }

  async stopAgentProcess(child: ChildProcess): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode; // already gone (a killed one has only a signal)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    return exited;
  }

  /**
   * `pocketkube login --no-browser`, with the printed URL opened in Chromium. Returns the CLI's result and
   * the page heading the browser ended on.
   */
  /** The usual start of a signed-in test: provider configured, a `pocketkube agent` process, Alice signed in in Chromium. */
  async signedInAgentProcess(browser: Browser): Promise<ChildProcess> {
    await this.configure();
    const agent = await this.startAgentProcess();
    const { cli } = await this.login(browser);
    if (cli.code !== 0) throw new Error(`sign-in failed: ${cli.stderr}`);
    return agent;
  }

  async login(browser: Browser, opts: { username?: string; provider?: string } = {}): Promise<{ cli: RunResult; page: string }> {
    return this.signInWith(browser, ['login', opts.provider ?? this.provider, '--no-browser'], opts);
  }

  /**
   * Runs a command that signs in (`login --no-browser`, `join ... --no-browser`), opens the sign-in URL it
   * prints in Chromium, and returns the command's result and the page heading the browser ended on.
   */
  async signInWith(browser: Browser, args: string[], opts: { username?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ cli: RunResult; page: string }> {
    const child = spawn(HELPER, args, { env: { ...this.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args[0]} printed no URL: ${stderr}`)), 30_000);
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /(http:\/\/localhost:\d+\/start\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`${args[0]} exited before signing in: ${stdout}${stderr}`));
      });
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    const page = await signInInBrowser(browser, url, opts.username);
    const code = await exited;
    return { cli: { code, stdout, stderr }, page };
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => this.stopAgentProcess(a)));
    await this.api?.close();
    await this.pocketId?.close();
    await removeTempDir(this.dir);
  }
}
