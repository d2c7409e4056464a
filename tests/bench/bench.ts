/**
 * `npm run bench`: kubectl through PocketKube's credential versus a static token, side by side in one run
 * on the same local HTTPS server; the helper alone against other ways to check expiry; the refresh count
 * when 100 kubectl commands hit an expiring token; 50 kubectl at expiry against 50 with a static token;
 * `pocketkube prompt` against `kubectl config current-context`; kubectl's lock held while adding a context to a
 * 5,000-context kubeconfig against a 1-context one; a team's 150 contexts in one write against 150 writes.
 * Prints ratios; asserts nothing.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent } from '../../electron/agent/agent.js';
import { credentialCacheDir } from '../../electron/core/credential/credential-cache.js';
import { ManualClock } from '../support/clock.js';
import { wakeAfter } from '../support/wake.js';
import { benchUseContext } from './use-context.js';
import { benchPrompt } from './prompt.js';
import { printJoinBatch } from './join-batch.js';
import { printLockHold } from './lock-hold.js';
import { HELPER, KUBECTL, launchChromium, REPO, run, Stack } from '../support/stack.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const CONCURRENT = 100;
const CONCURRENT_AT_EXPIRY = 50;

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

/** A kubeconfig user that runs `command args` as its credential plugin, for the agent of `home`. */
function execUser(command: string, args: string[], home: string): Record<string, unknown> {
  return { exec: { apiVersion: 'client.authentication.k8s.io/v1', command, args, env: [{ name: 'POCKETKUBE_HOME', value: home }], interactiveMode: 'Never' } };
}

/** A home that reaches the same agent (socket and pid linked) but has no cached credential: the helper's curl path. */
async function homeWithoutCache(stack: Stack): Promise<string> {
  const dir = path.join(stack.dir, 'home-without-cache');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await symlink(stack.home.socketPath, path.join(dir, 'agent.sock'));
  await symlink(stack.home.pidFile, path.join(dir, 'agent.pid'));
  return dir;
}

async function credentialSpeed(): Promise<void> {
  const stack = new Stack();
  await stack.start();
  const browser = await launchChromium();
  try {
    await stack.signedInAgentProcess(browser);
    const cred = await stack.cli(['credential', '--provider', stack.provider]);
    const token = JSON.parse(cred.stdout).status.token as string;
    const dir = path.join(stack.dir, 'bench');
    await mkdir(dir, { recursive: true });
    const credFile = path.join(dir, 'exec-credential.json');
    await writeFile(credFile, cred.stdout, { mode: 0o600 });
    const helper = HELPER;
    const exec = (command: string, args: string[], home = stack.home.dir) => execUser(command, args, home);
    const noCache = await homeWithoutCache(stack);
    const files = {
      'static token': kubeconfigWith(stack, { token }),
      'exec `cat` of an ExecCredential file (the floor)': kubeconfigWith(stack, exec('/bin/cat', [credFile])),
      'PocketKube helper (sh built-ins, cached credential)': kubeconfigWith(stack, exec(helper, ['credential', '--provider', stack.provider])),
      'PocketKube helper, curl path (no cached credential)': kubeconfigWith(stack, exec(helper, ['credential', '--provider', stack.provider], noCache)),
      'PocketKube via Node CLI (no curl)': kubeconfigWith(stack, exec(process.execPath, [path.join(REPO, 'dist/electron/cli/main.js'), 'credential', '--provider', stack.provider])),
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
    console.log('| credential | median ms | p90 ms | ratio to static token (target at most 1.10) |');
    console.log('| --- | --- | --- | --- |');
    for (const [name, xs] of Object.entries(times)) {
      console.log(`| ${name} | ${median(xs).toFixed(1)} | ${percentile(xs, 90).toFixed(1)} | ${(median(xs) / base).toFixed(2)} |`);
    }
    await helperAlone(stack, credFile, noCache);
    // The fast path must still fail fast and clearly when no agent runs.
    await stack.close();
    const t0 = performance.now();
    const res = await run(helper, ['credential', '--provider', 'x'], { ...stack.env });
    console.log(`\nno agent running: helper exits ${res.code} in ${(performance.now() - t0).toFixed(1)} ms with: ${res.stderr.trim()}`);
  } finally {
    await browser.close();
    await stack.close().catch(() => {});
  }
}

/**
 * The helper alone (no kubectl), against ways it could check expiry: the built-ins it uses (`test -nt` against
 * a file it touches), `date +%s` (a fork), and curl to the agent; `cat` of a file is the floor.
 */
async function helperAlone(stack: Stack, credFile: string, noCache: string): Promise<void> {
  const rounds = ROUNDS * 4;
  const helper = HELPER;
  const dir = path.join(stack.dir, 'bench');
  const deadline = path.join(dir, 'deadline');
  await writeFile(deadline, `${Math.floor(Date.now() / 1000) + 3600}\n`);
  // The alternative, as the helper would be with `date`: same reads, but the expiry compared with `date +%s`.
  const withDate = path.join(dir, 'helper-with-date');
  const cached = path.join(credentialCacheDir(stack.home), stack.provider);
  await writeFile(
    withDate,
    `#!/bin/sh\nread -r deadline <'${deadline}'\nnow=$(date +%s)\n[ "$now" -lt "$deadline" ] && read -r status <'${cached}' &&\n  printf '{"apiVersion":"%s","kind":"ExecCredential","spec":{},"status":%s}\\n' client.authentication.k8s.io/v1 "$status"\n`,
    { mode: 0o755 },
  );
  const args = ['credential', '--provider', stack.provider];
  const variants: Record<string, [string, string[], NodeJS.ProcessEnv]> = {
    '`cat` of the ExecCredential file (the floor)': ['/bin/cat', [credFile], stack.env],
    'helper, cached credential, expiry by `test -nt` (used)': [helper, args, stack.env],
    'helper-like sh, expiry by `date +%s`': [withDate, [], stack.env],
    'helper, curl to the agent': [helper, args, { ...stack.env, POCKETKUBE_HOME: noCache }],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, [cmd, a, env]] of Object.entries(variants)) {
      const t0 = performance.now();
      const res = await run(cmd, a, env);
      const ms = performance.now() - t0;
      if (res.code !== 0 || !res.stdout.includes('"kind":"ExecCredential"')) throw new Error(`${name} failed: ${res.stderr}`);
      times[name]!.push(ms);
    }
  }
  const base = median(times['`cat` of the ExecCredential file (the floor)']!);
  console.log(`\nthe helper alone (no kubectl), ${rounds} rounds each, interleaved (medians)`);
  console.log('| how the helper answers | median ms | ratio to `cat` |');
  console.log('| --- | --- | --- |');
  for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${median(xs).toFixed(2)} | ${(median(xs) / base).toFixed(2)} |`);
}

/** Starts `count` kubectl commands at once; their wall times and how many succeeded. */
async function burst(count: number, env: NodeJS.ProcessEnv): Promise<{ ms: number[]; ok: number }> {
  const latencies = await Promise.all(
    Array.from({ length: count }, async () => {
      const t0 = performance.now();
      const res = await run(KUBECTL, ['get', '--raw', '/version'], env, { timeoutMs: 120_000 });
      return { ms: performance.now() - t0, ok: res.code === 0 };
    }),
  );
  return { ms: latencies.map((l) => l.ms), ok: latencies.filter((l) => l.ok).length };
}

/** An agent in this process with a clock that runs no timers, signed in (first token `firstTtl` s long); runs `body`. */
async function withSignedInAgent(firstTtl: number, body: (stack: Stack, agent: Agent, clock: ManualClock) => Promise<void>): Promise<void> {
  const stack = new Stack();
  await stack.start();
  const browser = await launchChromium();
  const clock = new ManualClock();
  const agent = new Agent({ home: stack.home, clock });
  try {
    await stack.configure();
    await agent.start();
    await stack.pocketId.setIdTokenTtl(firstTtl);
    const { cli } = await stack.login(browser);
    if (cli.code !== 0) throw new Error(cli.stderr);
    await body(stack, agent, clock);
  } finally {
    await agent.stop();
    await browser.close();
    await stack.close();
  }
}

/**
 * 50 kubectl started together the moment the cached credential runs out, against the same 50 with a static
 * token, round by round. The provider issues 20-second ID tokens, so "at expiry" comes by itself every round
 * (the agent hands a token out until 10 s before its end): the wall clock the helper checks and the agent's
 * clock agree, and the agent's clock runs no timers, so no background refresh gets there first.
 */
async function burstAtExpiry(): Promise<void> {
  const rounds = Number(process.env.BENCH_BURST_ROUNDS ?? 5);
  await withSignedInAgent(3600, async (stack, agent) => {
    const token = JSON.parse((await stack.cli(['credential', '--provider', stack.provider])).stdout).status.token as string;
    const staticFile = path.join(stack.dir, 'static.json');
    await writeFile(staticFile, kubeconfigWith(stack, { token }), { mode: 0o600 });
    const staticEnv = { ...stack.env, KUBECONFIG: staticFile };
    // The same helper with no cached credential: every call goes through curl to the agent, no refresh due.
    const curlFile = path.join(stack.dir, 'curl-path.json');
    const noCache = await homeWithoutCache(stack);
    await writeFile(curlFile, kubeconfigWith(stack, execUser(HELPER, ['credential', '--provider', stack.provider], noCache)), { mode: 0o600 });
    const curlEnv = { ...stack.env, KUBECONFIG: curlFile };
    await stack.pocketId.setIdTokenTtl(20);
    const session = agent.session(stack.provider)!;
    const samples = { static: [] as number[], curl: [] as number[], pocketkube: [] as number[] };
    const refreshes: number[] = [];
    const curlRefreshes: number[] = [];
    let ok = 0;
    for (let i = 0; i < rounds; i++) {
      await session.refresh('manual'); // a fresh 20 s token, cached for kubectl
      const s = await burst(CONCURRENT_AT_EXPIRY, staticEnv);
      if (s.ok !== CONCURRENT_AT_EXPIRY) throw new Error(`static burst: ${s.ok}/${CONCURRENT_AT_EXPIRY} succeeded`);
      samples.static.push(...s.ms);
      const beforeCurl = await stack.pocketId.stats();
      const c = await burst(CONCURRENT_AT_EXPIRY, curlEnv);
      curlRefreshes.push((await stack.pocketId.stats()).refreshGrants - beforeCurl.refreshGrants);
      if (c.ok !== CONCURRENT_AT_EXPIRY) throw new Error(`curl-path burst: ${c.ok}/${CONCURRENT_AT_EXPIRY} succeeded`);
      samples.curl.push(...c.ms);
      const until = Date.parse(session.snapshot().idToken!.expiresAt) - 10_000;
      await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now() + 100)));
      const before = await stack.pocketId.stats();
      const p = await burst(CONCURRENT_AT_EXPIRY, stack.env);
      refreshes.push((await stack.pocketId.stats()).refreshGrants - before.refreshGrants);
      ok += p.ok;
      samples.pocketkube.push(...p.ms);
    }
    const [s50, s99, p50, p99] = [percentile(samples.static, 50), percentile(samples.static, 99), percentile(samples.pocketkube, 50), percentile(samples.pocketkube, 99)];
    const [c50, c99] = [percentile(samples.curl, 50), percentile(samples.curl, 99)];
    console.log(`\n${CONCURRENT_AT_EXPIRY} kubectl started together at expiry vs the same burst with a static token, ${rounds} rounds`);
    console.log('| burst | p50 ms | p99 ms | refreshes at the provider per burst | succeeded |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(`| static token | ${s50.toFixed(0)} | ${s99.toFixed(0)} | - | ${samples.static.length}/${samples.static.length} |`);
    console.log(`| PocketKube, token valid, every call through curl (no cache) | ${c50.toFixed(0)} (${(c50 / s50).toFixed(2)}) | ${c99.toFixed(0)} (${(c99 / s99).toFixed(2)}) | ${curlRefreshes.join(', ')} | ${samples.curl.length}/${samples.curl.length} |`);
    console.log(`| PocketKube, at expiry | ${p50.toFixed(0)} | ${p99.toFixed(0)} | ${refreshes.join(', ')} | ${ok}/${rounds * CONCURRENT_AT_EXPIRY} |`);
    console.log(`| PocketKube at expiry / static token | **${(p50 / s50).toFixed(2)}** | **${(p99 / s99).toFixed(2)}** | | |`);
  });
}

async function concurrency(): Promise<void> {
  await withSignedInAgent(120, async (stack, _agent, clock) => {
    await stack.pocketId.setIdTokenTtl(3600);
    const before = await stack.pocketId.stats();
    await wakeAfter(clock, 100_000, stack.home); // 20 s left: below the 60 s floor
    const { ms, ok } = await burst(CONCURRENT, stack.env);
    const after = await stack.pocketId.stats();
    console.log(`\n${CONCURRENT} kubectl commands started together at the moment of expiry`);
    console.log('| refresh requests at the provider (target 1) | succeeded | p50 ms | p99 ms |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| ${after.refreshGrants - before.refreshGrants} | ${ok}/${CONCURRENT} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 99).toFixed(0)} |`);
  });
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
if (!only || only === 'burst') await burstAtExpiry();
if (!only || only === 'use') await useContextSpeed();
if (!only || only === 'prompt') await benchPrompt(Number(process.env.BENCH_PROMPT_ROUNDS ?? 25));
if (!only || only === 'lock') await printLockHold(Number(process.env.BENCH_LOCK_ROUNDS ?? 9));
if (!only || only === 'join') await printJoinBatch(Number(process.env.BENCH_JOIN_ROUNDS ?? 3));
