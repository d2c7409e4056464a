/**
 * `pocketkube prompt` (the sh entry point answering from the agent's file, and the Node CLI it falls back to)
 * against `kubectl config current-context`, run alternately round by round against the same signed-in agent
 * and kubeconfig, so drift on the machine hits all alike. Prints medians and ratios to kubectl; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { HELPER, KUBECTL, launchChromium, REPO, run, Stack } from '../support/stack.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

export async function benchPrompt(rounds: number): Promise<void> {
  const stack = new Stack();
  await stack.start();
  const browser = await launchChromium();
  try {
    await stack.signedInAgentProcess(browser);
    const tools: Record<string, [string, string[]]> = {
      'kubectl config current-context': [KUBECTL, ['config', 'current-context']],
      'pocketkube prompt (sh, from the agent\'s file)': [HELPER, ['prompt', '--format', 'bash']],
      'pocketkube prompt via the Node CLI (Windows, stale file)': [process.execPath, [path.join(REPO, 'dist/electron/cli/main.js'), 'prompt', '--format', 'bash']],
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
    const once = async (name: string) => {
      const [cmd, args] = tools[name]!;
      const t0 = performance.now();
      const res = await run(cmd, args, stack.env, { timeoutMs: 30_000 });
      const ms = performance.now() - t0;
      if (res.code !== 0 || !res.stdout.includes('talos-e2e')) throw new Error(`${name}: exit ${res.code}: ${res.stdout}${res.stderr}`);
      return ms;
    };
    for (const name of Object.keys(tools)) await once(name); // warm-up, not counted
    const names = Object.keys(tools);
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const name of order) times[name]!.push(await once(name));
    }
    const base = median(times['kubectl config current-context']!);
    console.log(`\nthe prompt segment, ${rounds} rounds each, interleaved (medians)`);
    console.log('| command | median ms | ratio to kubectl config current-context |');
    console.log('| --- | --- | --- |');
    for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${median(xs).toFixed(2)} | ${(median(xs) / base).toFixed(2)} |`);
  } finally {
    await browser.close();
    await stack.close();
  }
}
