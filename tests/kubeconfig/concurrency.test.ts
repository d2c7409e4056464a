/**
 * PocketKube's writes interleaved with 200 `kubectl config set-context` runs against the same two files.
 * kubectl does not wait for a lock (it fails at once) and reads the files before locking them, so it can
 * fail on, or overwrite, a write that lands at the wrong moment. This measures how often, side by side
 * with a fifth kubectl doing what PocketKube does (the kubectl-vs-kubectl baseline, in the same test), and checks the part that is ours to guarantee: a PocketKube write
 * never loses anything kubectl wrote, and every write of ours that is lost (or removal undone) was
 * overwritten by a kubectl run that read the file before our write and wrote it after. How long our lock
 * is held is reported (about a millisecond), not asserted: speed belongs to the benchmarks.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, test, type TestContext } from 'node:test';
import { addContext, listContexts, removeContext, type CommitInfo } from '../../electron/core/kubeconfig/index.js';
import { parseKubeconfig } from '../../electron/core/kubeconfig/parse.js';
import { CA_DATA, EXEC, kubectl, skipWithoutKubectl, kubectlContextNames, tempDir } from '../support/kubeconfig.js';
import { WriteRecorder } from './write-recorder.js';

const KUBECTL_RUNS = 200;
const LOCK_FAILURE = /\.lock: file exists/;

// A realistic first file: a few clusters carrying CA certificates (sizes matter: kubectl rewrites in place).
const CA = 'QUJD'.repeat(300);
const FILE_A = `# first file
apiVersion: v1
kind: Config
clusters:
${Array.from({ length: 10 }, (_, i) => `- name: team${i}\n  cluster:\n    server: https://team${i}.example:6443\n    certificate-authority-data: ${CA}\n`).join('')}- name: c
  cluster: {server: "https://c:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: base
  context: {cluster: c, user: u}
current-context: base
`;
const FILE_B = `apiVersion: v1
kind: Config
contexts:
- name: other
  context: {cluster: c, user: u}
`;

interface KubectlOutcome {
  succeeded: string[];
  /** [start, end] of each kubectl run that wrote, on performance.now()'s clock: it read after start, wrote before end. */
  writes: [number, number][];
  lockFailures: number;
  otherFailures: string[];
}

/** Run `count` set-context commands, `parallel` at a time; a run that hits a lock is retried (up to 20 times). */
async function kubectlRuns(files: string[], count: number, parallel: number, prefix: string, afterEach?: () => void): Promise<KubectlOutcome> {
  const out: KubectlOutcome = { succeeded: [], writes: [], lockFailures: 0, otherFailures: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const name = `${prefix}${i}`;
      for (let attempt = 0; attempt < 20; attempt++) {
        const start = performance.now();
        const r = await kubectl(files, 'config', 'set-context', name, `--cluster=c`, '--user=u', `--namespace=ns${i}`);
        if (r.code === 0) {
          out.writes.push([start, performance.now()]);
          out.succeeded.push(name);
          break;
        }
        if (LOCK_FAILURE.test(r.stderr)) out.lockFailures++;
        else {
          out.otherFailures.push(r.stderr.trim());
          break;
        }
      }
      afterEach?.();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

interface OurOutcome {
  ops: number;
  expected: Set<string>;
  removed: Set<string>;
  errors: string[];
}

/** The fifth writer's three operations, by PocketKube or (for the baseline) by one more kubectl. */
interface WriterOps {
  name(n: number): string;
  add(n: number, use: boolean): Promise<void>;
  remove(n: number): Promise<void>;
}

function pocketKubeOps(files: string[], writes: WriteRecorder): WriterOps {
  return {
    name: (n) => `pocket-id@pk${n}`,
    add: (n, use) => addContext({ files, name: `pk${n}`, provider: 'pocket-id', server: `https://pk${n}.example:6443`, caData: CA_DATA, exec: EXEC, use }, { observer: writes }).then(() => undefined),
    remove: (n) => removeContext(`pocket-id@pk${n}`, files, { observer: writes }).then(() => undefined),
  };
}

/** kubectl doing what PocketKube does, retrying a busy lock like kubectlRuns: the kubectl-vs-kubectl baseline. */
function kubectlOps(files: string[]): WriterOps {
  const retried = async (...args: string[]): Promise<void> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = await kubectl(files, ...args);
      if (r.code === 0) return;
      if (!LOCK_FAILURE.test(r.stderr)) throw new Error(r.stderr.trim());
    }
    throw new Error(`kubectl ${args.join(' ')}: lock busy 20 times`);
  };
  return {
    name: (n) => `pk${n}`,
    add: async (n, use) => {
      await retried('config', 'set-context', `pk${n}`, '--cluster=c', '--user=u');
      // Switching fails when another kubectl already overwrote the new context: a loss the final count sees.
      if (use) await retried('config', 'use-context', `pk${n}`).catch((e: Error) => assert.match(e.message, /no context exists/));
    },
    remove: (n) => retried('config', 'delete-context', `pk${n}`),
  };
}

/**
 * The fifth writer: one operation each time a kubectl run finishes (never two at once): add a context,
 * switch to every fourth, remove every third one added two steps earlier. A removal that fails leaves its
 * context expected: a fifth kubectl cannot delete a context another kubectl already overwrote, a loss.
 */
function fifthWriter(ops: WriterOps): { kick: () => void; drain: () => Promise<OurOutcome> } {
  const out: OurOutcome = { ops: 0, expected: new Set(), removed: new Set(), errors: [] };
  let running: Promise<void> | undefined;
  let j = 0;
  const step = async (): Promise<void> => {
    const n = j++;
    try {
      await ops.add(n, n % 4 === 0);
      out.expected.add(ops.name(n));
      if (n % 3 === 2) {
        await ops.remove(n - 2);
        out.expected.delete(ops.name(n - 2));
        out.removed.add(ops.name(n - 2));
      }
      out.ops++;
    } catch (e) {
      out.errors.push((e as Error).message);
    }
  };
  return {
    kick: () => {
      if (!running) running = step().finally(() => (running = undefined));
    },
    drain: async () => {
      while (running) await running;
      return out;
    },
  };
}

function setUp(): string[] {
  const dir = tempDir('pk-concurrency-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.writeFileSync(a, FILE_A);
  fs.writeFileSync(b, FILE_B);
  return [a, b];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** A WriteRecorder that also notes when each file replacement happened (under the lock, right after the rename). */
class TimedRecorder extends WriteRecorder {
  readonly replacedAt: number[] = [];
  override fileReplaced(info: CommitInfo): void {
    this.replacedAt.push(performance.now());
    super.fileReplaced(info);
  }
}

function contextNames(c: CommitInfo, text: string, ours: boolean): string[] {
  return text.trim() === '' ? [] : parseKubeconfig(c.file, text).lists.contexts.entries.map((e) => e.name).filter((n) => n.startsWith('pocket-id@') === ours);
}

/** Contexts someone else wrote that a replacement of ours left out: `before` is what the rename replaced, read under the lock. */
function droppedBy(replaced: readonly CommitInfo[]): string[] {
  const dropped: string[] = [];
  for (const c of replaced) {
    const after = new Set(contextNames(c, c.after, false));
    for (const n of contextNames(c, c.before, false)) if (!after.has(n)) dropped.push(n);
  }
  return dropped;
}

/** When each of our contexts was added and removed, by the replacement that did it. */
function ourChangeTimes(writes: TimedRecorder): { addedAt: Map<string, number>; removedAt: Map<string, number> } {
  const addedAt = new Map<string, number>();
  const removedAt = new Map<string, number>();
  writes.replaced.forEach((c, i) => {
    const before = new Set(contextNames(c, c.before, true));
    const after = new Set(contextNames(c, c.after, true));
    for (const n of after) if (!before.has(n)) addedAt.set(n, writes.replacedAt[i]!);
    for (const n of before) if (!after.has(n)) removedAt.set(n, writes.replacedAt[i]!);
  });
  return { addedAt, removedAt };
}

type Fifth = 'kubectl' | 'pocketkube';

async function phase(t: TestContext, label: string, parallel: number, fifth: Fifth) {
  const files = setUp();
  const writes = new TimedRecorder();
  const writer = fifthWriter(fifth === 'kubectl' ? kubectlOps(files) : pocketKubeOps(files, writes));
  const k = await kubectlRuns(files, KUBECTL_RUNS, parallel, 'k', writer.kick);
  const ours = await writer.drain();
  const commits = writes.replaced.length;
  const dropped = droppedBy(writes.replaced);
  const names = new Set(await kubectlContextNames(files));
  const kubectlLost = k.succeeded.filter((n) => !names.has(n));
  const oursLost = [...ours.expected].filter((n) => !names.has(n));
  const oursRevived = [...ours.removed].filter((n) => names.has(n));
  // A change of ours is undone only by a kubectl run that read the file before our rename and wrote it
  // after: one that started before the rename and ended after it (kubectl cannot write while we hold the lock).
  const { addedAt, removedAt } = ourChangeTimes(writes);
  const byKubectl = (at: number | undefined) => at !== undefined && k.writes.some(([start, end]) => start < at && at < end);
  // (Only PocketKube's commits are observed: a fifth kubectl's changes have no times.)
  const lostNotByKubectl = fifth === 'pocketkube' ? oursLost.filter((n) => !byKubectl(addedAt.get(n))) : [];
  // A removal that found its context already gone wrote nothing: that context's add was lost to kubectl, and
  // a kubectl that had read it wrote it back; the add is what a kubectl run must have spanned.
  const undoneNotByKubectl = fifth === 'pocketkube' ? oursRevived.filter((n) => !byKubectl(removedAt.get(n) ?? addedAt.get(n))) : [];
  const held = writes.holdMs;
  const listed = await listContexts(files);
  const result = {
    label,
    kubectlRuns: KUBECTL_RUNS,
    parallel,
    kubectlLockFailures: k.lockFailures,
    kubectlOtherFailures: k.otherFailures,
    kubectlUpdatesLost: kubectlLost.length,
    fifthWriter: fifth,
    ourOps: ours.ops,
    ourCommits: commits,
    ourErrors: ours.errors,
    droppedByUs: dropped,
    ourUpdatesLost: oursLost.length,
    ourRemovalsUndone: oursRevived.length,
    ourLossesNotByKubectl: [...lostNotByKubectl.map((n) => ({ lost: n, at: addedAt.get(n) })), ...undoneNotByKubectl.map((n) => ({ undone: n, at: removedAt.get(n) }))].map((x) => ({ ...x, near: k.writes.filter(([s, e]) => x.at !== undefined && s < x.at + 50 && e > x.at - 50) })),
    lockHoldMs: held.length ? { median: +percentile(held, 50).toFixed(3), p99: +percentile(held, 99).toFixed(3), max: +Math.max(...held).toFixed(3) } : null,
  };
  t.diagnostic(JSON.stringify(result));
  /** The phase's own checks, run by the caller (after any comparison it makes first). */
  const check = (): void => {
  assert.deepEqual(listed.errors, [], 'both files still read cleanly');
  if (parallel === 1) {
    assert.deepEqual(k.otherFailures, [], 'kubectl never failed for another reason');
    assert.deepEqual(ours.errors, [], 'none of our writes failed');
  } else {
    // kubectl writes in place, so with several kubectl at once one can read another's half-written file:
    // kubectl's own race (it shows in the kubectl-only baseline too), never a file of ours (we rename).
    const foreign = k.otherFailures.filter((f) => !/error loading config file/.test(f));
    assert.deepEqual(foreign, [], 'kubectl never failed for a reason other than reading a file another kubectl was writing');
    // Under that churn our bounded wait may give up; it must then say so and write nothing.
    const unclear = fifth === 'pocketkube' ? ours.errors.filter((e) => !/(kept changing while PocketKube tried to write it|is locked by another program).*nothing was written/.test(e)) : [];
    assert.deepEqual(unclear, [], 'every write of ours that gave up said why and wrote nothing');
  }
  if (fifth === 'pocketkube') {
    assert.deepEqual(dropped, [], 'no commit of ours dropped a context someone else wrote');
    assert.deepEqual(lostNotByKubectl, [], 'every context of ours that vanished was added while a kubectl run that rewrote the file was under way');
    assert.deepEqual(undoneNotByKubectl, [], 'every removal of ours that was undone happened while a kubectl run that rewrote the file was under way');
  }
  };
  return { result, kubectlLost, check };
}

/** The margin over the kubectl-vs-kubectl baseline for our losses, for noise between two racing runs: a quarter more, plus 10. */
const lossBound = (baseline: number) => Math.floor(baseline * 1.25) + 10;
/**
 * kubectl's own losses swing far more between two side-by-side runs (pairs seen: 77 beside PocketKube vs 5
 * beside a fifth kubectl, 6 vs 92, 136 vs 140: kubectl writes in place and another kubectl can read a
 * half-written file that still parses), so their margin is twice the baseline plus 80 of 200; with our
 * under-lock check removed it was 167 against a bound of 108. droppedByUs is the exact check.
 */
const kubectlLossBound = (baseline: number) => 2 * baseline + 80;

describe('PocketKube and kubectl writing the same files', { skip: skipWithoutKubectl }, () => {
  test('with 4 kubectl at a time, PocketKube as a fifth writer loses no more than a fifth kubectl does', async (t) => {
    // The baseline, same shape, run at the same time on its own files so both see the same machine load
    // (losses here swing from ~10 to ~140 of 200 with load): a fifth kubectl doing what PocketKube does.
    const [{ result: base, check: checkBase }, { result, check }] = await Promise.all([
      phase(t, 'kubectl 4 parallel + a fifth kubectl', 4, 'kubectl'),
      phase(t, 'kubectl 4 parallel + PocketKube', 4, 'pocketkube'),
    ]);
    // kubectl holds its locks much of the time here (8 kubectl at once with the baseline), so our writes
    // mostly wait and many give up, saying so; some must get through (3 to 45 of ~50 in trial runs).
    assert.ok(result.ourOps >= 1, `${result.ourOps} of our operations ran`);
    assert.ok(
      result.kubectlUpdatesLost <= kubectlLossBound(base.kubectlUpdatesLost),
      `${result.kubectlUpdatesLost} kubectl updates lost beside PocketKube; beside a fifth kubectl ${base.kubectlUpdatesLost} (bound ${kubectlLossBound(base.kubectlUpdatesLost)})`,
    );
    // Ours per operation, against the fifth kubectl's per operation, scaled to our number of operations.
    const ourLosses = result.ourUpdatesLost + result.ourRemovalsUndone;
    const baseLosses = Math.ceil(((base.ourUpdatesLost + base.ourRemovalsUndone) / Math.max(1, base.ourOps)) * result.ourOps);
    assert.ok(ourLosses <= lossBound(baseLosses), `${ourLosses} of PocketKube's ${result.ourOps} operations lost; the fifth kubectl's rate gives ${baseLosses} (bound ${lossBound(baseLosses)})`);
    checkBase();
    check();
  });

  test('our writes interleaved with kubectl one at a time: every kubectl failure or loss here would be ours', async (t) => {
    const { result, kubectlLost, check } = await phase(t, 'kubectl serial + PocketKube', 1, 'pocketkube');
    check();
    assert.deepEqual(kubectlLost, [], 'no kubectl update lost');
    assert.ok(result.ourOps >= 50, `${result.ourOps} of our operations ran`);
    // kubectl fails at once on a lock we hold; with ~1 ms holds this should be rare. Reported above;
    // bounded here only to catch a regression that holds the lock for long.
    assert.ok(result.kubectlLockFailures <= KUBECTL_RUNS * 0.05, `${result.kubectlLockFailures} kubectl runs failed on our lock`);
  });
});
