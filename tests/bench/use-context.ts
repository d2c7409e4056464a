/**
 * `pocketkube use CONTEXT` versus `kubectl config use-context CONTEXT` on a kubeconfig of 5,000 contexts
 * (5,000 clusters with base64 CA data, 5,000 users, 5,000 contexts: about 8 MB, written the way kubectl
 * writes it). Each tool gets its own copy of the same file, and the two run alternately, round by round,
 * each switching to a different context every time, so drift on the machine hits both alike.
 * Run directly (`node dist/tests/bench/use-context.js [rounds]`) or through `npm run bench`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { KUBECTL } from '../support/kubectl.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const CLI = path.join(REPO, 'dist/electron/cli/main.js');
const CONTEXTS = 5000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A CA bundle the size of a real one (about 800 bytes of DER, as kubeadm makes), base64 as kubectl wants it. */
function caData(i: number): string {
  const body = randomBytes(800).toString('base64').replace(/.{64}/g, '$&\n');
  return Buffer.from(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n# ${i}\n`).toString('base64');
}

/** The file as `kubectl config` writes it: keys sorted, two-space indent, lists not indented. */
export function bigKubeconfig(n: number = CONTEXTS): string {
  const out: string[] = ['apiVersion: v1', 'clusters:'];
  for (let i = 0; i < n; i++) {
    out.push(`- cluster:`, `    certificate-authority-data: ${caData(i)}`, `    server: https://10.${(i >> 8) & 255}.${i & 255}.1:6443`, `  name: cluster${i}`);
  }
  out.push('contexts:');
  for (let i = 0; i < n; i++) out.push(`- context:`, `    cluster: cluster${i}`, `    namespace: default`, `    user: admin${i}`, `  name: ctx${i}`);
  out.push('current-context: ctx0', 'kind: Config', 'preferences: {}', 'users:');
  for (let i = 0; i < n; i++) out.push(`- name: admin${i}`, `  user:`, `    token: ${randomBytes(24).toString('hex')}`);
  return out.join('\n') + '\n';
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(cmd, args, { env, maxBuffer: 1 << 20, timeout: 60_000 }, (err, _stdout, stderr) => {
      const ms = performance.now() - t0;
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(ms);
    });
  });
}

function currentContext(file: string): string {
  const m = /^current-context: *(\S+)/m.exec(fs.readFileSync(file, 'utf8'));
  return m?.[1] ?? '';
}

export async function benchUseContext(rounds: number): Promise<{ pocketkubeMedianMs: number; kubectlMedianMs: number; ratio: number }> {
  if (!fs.existsSync(KUBECTL)) throw new Error(`${KUBECTL} is missing: the use-context benchmark needs the real kubectl`);
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p .)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-bench-use-'));
  try {
    const text = bigKubeconfig();
    const files = { pocketkube: path.join(dir, 'pk-config'), kubectl: path.join(dir, 'kubectl-config') };
    for (const f of Object.values(files)) fs.writeFileSync(f, text, { mode: 0o600 });
    const base: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, POCKETKUBE_HOME: path.join(dir, 'pk-home') };
    const tools = {
      pocketkube: (ctx: string) => run(process.execPath, [CLI, 'use', ctx], { ...base, KUBECONFIG: files.pocketkube }),
      kubectl: (ctx: string) => run(KUBECTL, ['config', 'use-context', ctx], { ...base, KUBECONFIG: files.kubectl }),
    };
    const times: Record<keyof typeof tools, number[]> = { pocketkube: [], kubectl: [] };
    // One warm-up each (disk cache, first-run costs), not counted.
    await tools.pocketkube('ctx1');
    await tools.kubectl('ctx1');
    for (let i = 0; i < rounds; i++) {
      // A different context each round, spread over the file; alternate which tool goes first.
      const ctx = `ctx${(i * 997 + 2) % CONTEXTS}`;
      const order: (keyof typeof tools)[] = i % 2 === 0 ? ['pocketkube', 'kubectl'] : ['kubectl', 'pocketkube'];
      for (const name of order) {
        times[name].push(await tools[name](ctx));
        const now = currentContext(files[name]);
        if (now !== ctx) throw new Error(`${name} left current-context at ${JSON.stringify(now)}, not ${ctx}`);
      }
    }
    const pocketkubeMedianMs = median(times.pocketkube);
    const kubectlMedianMs = median(times.kubectl);
    return { pocketkubeMedianMs, kubectlMedianMs, ratio: pocketkubeMedianMs / kubectlMedianMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? process.env['BENCH_ROUNDS'] ?? 15);
  const r = await benchUseContext(rounds);
  console.log(`\nswitching context in a kubeconfig of ${CONTEXTS} contexts, ${rounds} rounds each, interleaved (medians)`);
  console.log('| command | median ms |');
  console.log('| --- | --- |');
  console.log(`| pocketkube use | ${r.pocketkubeMedianMs.toFixed(0)} |`);
  console.log(`| kubectl config use-context | ${r.kubectlMedianMs.toFixed(0)} |`);
  console.log(`ratio pocketkube/kubectl: ${r.ratio.toFixed(2)} (target: at most 1.0)`);
}
