/**
 * `npm run bench`: kubectl through PocketKube's credential versus a static token, side by side in one run
 * on the same local HTTPS server, and the refresh count when 100 kubectl commands hit an expiring token.
 * Prints ratios; asserts nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent } from '../../electron/agent/agent.js';
import { ManualClock } from '../support/clock.js';
import { benchUseContext } from './use-context.js';
import { KUBECTL, launchChromium, REPO, run, Stack } from '../support/stack.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const CONCURRENT = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function kubeconfigWith(stack: Stack, user: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster: { server: stack.api.server, 'certificate-authority-data': Buffer.from(stack.api.caPem).toString('base64') } }],
    users: [{ name: 'bench', user }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
    'current-context': 'bench',
  });
}

async function timeKubectl(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const res = await run(KUBECTL, ['get', '--raw', '/version'], env);
  const ms = performance.now() - t0;
  if (res.code !== 0) throw new Error(`kubectl failed: ${res.stderr}`);
  return ms;
}

async function credentialSpeed(): Promise<void> {
  const stack = new Stack();
  await stack.start();
  const browser = await launchChromium();
  try {
    await stack.configure();
    await stack.startAgentProcess();
    const { cli } = await stack.login(browser);
    if (cli.code !== 0) throw new Error(cli.stderr);
    const cred = await stack.cli(['credential', '--provider', stack.provider]);
    const token = JSON.parse(cred.stdout).status.token as string;
    const dir = path.join(stack.dir, 'bench');
    await mkdir(dir, { recursive: true });
    const files = {
      'static token': kubeconfigWith(stack, { token }),
      'PocketKube (sh + curl helper)': kubeconfigWith(stack, {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: path.join(REPO, 'resources/bin/pocketkube'), args: ['credential', '--provider', stack.provider], env: [{ name: 'POCKETKUBE_HOME', value: stack.home.dir }], interactiveMode: 'Never' },
      }),
      'PocketKube via Node CLI (no curl)': kubeconfigWith(stack, {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [path.join(REPO, 'dist/electron/cli/main.js'), 'credential', '--provider', stack.provider], env: [{ name: 'POCKETKUBE_HOME', value: stack.home.dir }], interactiveMode: 'Never' },
      }),
    };
    const times: Record<string, number[]> = {};
    const envs: Record<string, NodeJS.ProcessEnv> = {};
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.json`);
      await writeFile(file, text, { mode: 0o600 });
      envs[name] = { ...stack.env, KUBECONFIG: file };
      times[name] = [];
      await timeKubectl(envs[name]!); // warm-up
    }
    // Interleave the variants round by round so drift on the machine hits them alike.
    for (let i = 0; i < ROUNDS; i++) for (const name of Object.keys(files)) times[name]!.push(await timeKubectl(envs[name]!));
    const base = median(times['static token']!);
    console.log(`\nkubectl get --raw /version, ${ROUNDS} rounds each, interleaved (medians)`);
    console.log('| credential | median ms | p90 ms | ratio to static token |');
    console.log('| --- | --- | --- | --- |');
    for (const [name, xs] of Object.entries(times)) {
      console.log(`| ${name} | ${median(xs).toFixed(1)} | ${percentile(xs, 90).toFixed(1)} | ${(median(xs) / base).toFixed(2)} |`);
    }
    // The fast path must still fail fast and clearly when no agent runs.
    await stack.close();
    const t0 = performance.now();
    const res = await run(path.join(REPO, 'resources/bin/pocketkube'), ['credential', '--provider', 'x'], { ...stack.env });
    console.log(`\nno agent running: helper exits ${res.code} in ${(performance.now() - t0).toFixed(1)} ms with: ${res.stderr.trim()}`);
  } finally {
    await browser.close();
    await stack.close().catch(() => {});
  }
}

async function concurrency(): Promise<void> {
  const stack = new Stack();
  await stack.start();
  const browser = await launchChromium();
  const clock = new ManualClock();
  const agent = new Agent({ home: stack.home, clock });
  try {
    await stack.configure();
    await agent.start();
    await stack.pocketId.setIdTokenTtl(120);
    const { cli } = await stack.login(browser);
    if (cli.code !== 0) throw new Error(cli.stderr);
    await stack.pocketId.setIdTokenTtl(3600);
    const before = await stack.pocketId.stats();
    clock.jump(100_000); // 20 s left: below the 60 s floor
    const latencies = await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        const t0 = performance.now();
        const res = await run(KUBECTL, ['get', '--raw', '/version'], stack.env, { timeoutMs: 120_000 });
        return { ms: performance.now() - t0, ok: res.code === 0 };
      }),
    );
    const after = await stack.pocketId.stats();
    const ms = latencies.map((l) => l.ms);
    console.log(`\n${CONCURRENT} kubectl commands started together at the moment of expiry`);
    console.log('| refresh requests at the provider (target 1) | succeeded | p50 ms | p99 ms |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| ${after.refreshGrants - before.refreshGrants} | ${latencies.filter((l) => l.ok).length}/${CONCURRENT} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 99).toFixed(0)} |`);
  } finally {
    await agent.stop();
    await browser.close();
    await stack.close();
  }
}

async function useContextSpeed(): Promise<void> {
  const rounds = Number(process.env.BENCH_USE_ROUNDS ?? 9);
  const r = await benchUseContext(rounds);
  console.log(`\nswitching context in a kubeconfig of 5,000 contexts, ${rounds} rounds each, interleaved (medians)`);
  console.log('| command | median ms | ratio to kubectl (target at most 1.0) |');
  console.log('| --- | --- | --- |');
  console.log(`| kubectl config use-context | ${r.kubectlMedianMs.toFixed(1)} | 1.00 |`);
  console.log(`| pocketkube use | ${r.pocketkubeMedianMs.toFixed(1)} | ${r.ratio.toFixed(2)} |`);
}

const only = process.argv[2];
if (!only || only === 'credential') await credentialSpeed();
if (!only || only === 'concurrency') await concurrency();
if (!only || only === 'use') await useContextSpeed();
