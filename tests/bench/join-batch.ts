/**
 * Writing a team's 150 contexts: one addContexts transaction (what a join does) against 150 addContext
 * calls (what a join did before), alternately round by round on fresh empty kubeconfigs, so drift hits both alike.
 * Prints ratios; asserts nothing.
 * Run directly (`node dist/tests/bench/join-batch.js [rounds]`) or through `npm run bench join`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { addContext, addContexts, type AddContextOptions } from '../../electron/core/kubeconfig/index.js';
import { CA_DATA, EXEC } from '../support/kubeconfig.js';

const CLUSTERS = 150;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function benchJoinBatch(rounds: number): Promise<{ batchMedianMs: number; oneByOneMedianMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-bench-join-'));
  const seen = { batch: [] as number[], oneByOne: [] as number[] };
  try {
    let n = 0;
    const list = (file: string): AddContextOptions[] =>
      Array.from({ length: CLUSTERS }, (_, i) => ({ files: [file], provider: 'pocket-id', name: `c${i}`, server: `https://10.6.${i >> 8}.${i & 255}:6443`, caData: CA_DATA, exec: EXEC }));
    const once = async (way: 'batch' | 'oneByOne') => {
      const file = path.join(dir, `config-${++n}`);
      const t0 = performance.now();
      if (way === 'batch') await addContexts(list(file));
      else for (const opts of list(file)) await addContext(opts);
      seen[way].push(performance.now() - t0);
    };
    for (let i = 0; i < rounds; i++) {
      for (const way of i % 2 === 0 ? (['batch', 'oneByOne'] as const) : (['oneByOne', 'batch'] as const)) await once(way);
    }
    return { batchMedianMs: median(seen.batch), oneByOneMedianMs: median(seen.oneByOne) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function printJoinBatch(rounds: number): Promise<void> {
  const r = await benchJoinBatch(rounds);
  console.log(`\nwriting a team's ${CLUSTERS} contexts to an empty kubeconfig, ${rounds} rounds each, interleaved (medians)`);
  console.log('| how | median ms | ratio to one transaction |');
  console.log('| --- | --- | --- |');
  console.log(`| one transaction (addContexts, a join now) | ${r.batchMedianMs.toFixed(0)} | 1.00 |`);
  console.log(`| ${CLUSTERS} writes (addContext each, a join before) | ${r.oneByOneMedianMs.toFixed(0)} | ${(r.oneByOneMedianMs / r.batchMedianMs).toFixed(1)} |`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await printJoinBatch(Number(process.argv[2] ?? process.env['BENCH_JOIN_ROUNDS'] ?? 3));
}
