/**
 * How long adding a context holds kubectl's lock, on a kubeconfig of 5,000 contexts (about 8 MB) against
 * one of a single context, alternately round by round on fresh copies, so drift hits both alike. Under the
 * lock the writer only re-reads the file to compare its bytes with what it planned from, and renames its
 * temp file into place (tests/kubeconfig/safety.test.ts checks that order): the parse, the edit and the
 * serialising happen before, so the whole add grows with the file far more than the lock does.
 * Prints ratios; asserts nothing.
 * Run directly (`node dist/tests/bench/lock-hold.js [rounds]`) or through `npm run bench lock`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { addContext } from '../../electron/core/kubeconfig/index.js';
import { CA_DATA, EXEC } from '../support/kubeconfig.js';
import { bigKubeconfig } from './use-context.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Sizes {
  heldMs: number[];
  addMs: number[];
}

export async function benchLockHold(rounds: number): Promise<Record<'one' | 'big', { heldMedianMs: number; addMedianMs: number }>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-bench-lock-'));
  try {
    const texts = { one: bigKubeconfig(1), big: bigKubeconfig(5000) };
    const seen: Record<keyof typeof texts, Sizes> = { one: { heldMs: [], addMs: [] }, big: { heldMs: [], addMs: [] } };
    const addTo = async (name: keyof typeof texts, count: boolean) => {
      const file = path.join(dir, `${name}-config`);
      fs.writeFileSync(file, texts[name], { mode: 0o600 });
      let held: number | undefined;
      const t0 = performance.now();
      await addContext(
        { files: [file], name: 'talos', provider: 'pocket-id', server: 'https://10.5.0.2:6443', caData: CA_DATA, exec: EXEC, use: true },
        { observer: { committed: (info) => (held = info.heldMs) } },
      );
      const ms = performance.now() - t0;
      if (held === undefined) throw new Error(`adding to the ${name} file wrote nothing`);
      if (count) {
        seen[name].heldMs.push(held);
        seen[name].addMs.push(ms);
      }
    };
    // One warm-up each (JIT, disk cache), not counted.
    await addTo('one', false);
    await addTo('big', false);
    for (let i = 0; i < rounds; i++) {
      const order: (keyof typeof texts)[] = i % 2 === 0 ? ['one', 'big'] : ['big', 'one'];
      for (const name of order) await addTo(name, true);
    }
    const summary = (s: Sizes) => ({ heldMedianMs: median(s.heldMs), addMedianMs: median(s.addMs) });
    return { one: summary(seen.one), big: summary(seen.big) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function printLockHold(rounds: number): Promise<void> {
  const r = await benchLockHold(rounds);
  console.log(`\nadding a context: kubectl's lock held vs the whole add, 1-context file and 5,000-context file, ${rounds} rounds each, interleaved (medians)`);
  console.log('| kubeconfig | lock held ms | whole add ms |');
  console.log('| --- | --- | --- |');
  console.log(`| 1 context | ${r.one.heldMedianMs.toFixed(2)} | ${r.one.addMedianMs.toFixed(1)} |`);
  console.log(`| 5,000 contexts | ${r.big.heldMedianMs.toFixed(2)} | ${r.big.addMedianMs.toFixed(1)} |`);
  console.log(`| 5,000 / 1 | **${(r.big.heldMedianMs / r.one.heldMedianMs).toFixed(2)}** (a byte compare and a rename) | ${(r.big.addMedianMs / r.one.addMedianMs).toFixed(1)} |`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await printLockHold(Number(process.argv[2] ?? process.env['BENCH_LOCK_ROUNDS'] ?? 9));
}
