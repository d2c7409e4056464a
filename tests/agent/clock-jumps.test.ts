/**
 * The agent itself re-checks every session's expiry when the wall clock jumps (a laptop waking, a clock
 * change), so the headless `pocketkube agent` refreshes at once after a sleep instead of when a late timer
 * fires; the tray app adds its power and unlock events on top.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { Agent } from '../../electron/agent/agent.js';
import { CLOCK_CHECK_MS, CLOCK_JUMP_MS } from '../../electron/core/platform/clock-jump.js';
import { resolveHome } from '../../electron/core/platform/home.js';
import { MemorySecretStore } from '../../electron/core/session/secret-store.js';
import { LaptopClock } from '../support/monotonic-clock.js';

const HOUR = 3_600_000;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A headless agent (no tray, no jump clock of its own) on a laptop clock, counting its re-checks. */
async function headlessAgent() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-agent-jumps-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const clock = new LaptopClock();
  const agent = new Agent({ home: resolveHome({ POCKETKUBE_HOME: path.join(dir, 'home') }), store: new MemorySecretStore(), clock, kubeconfigFiles: [path.join(dir, 'kubeconfig')] });
  let rechecks = 0;
  const recheckAll = agent.recheckAll.bind(agent);
  agent.recheckAll = () => {
    rechecks++;
    recheckAll();
  };
  await agent.start();
  cleanup.push(() => agent.stop());
  return { agent, clock, rechecks: () => rechecks };
}

test('the headless agent re-checks expiry at the first check after a sleep longer than the threshold, and says why', async () => {
  const { agent, clock, rechecks } = await headlessAgent();
  clock.run(CLOCK_CHECK_MS * 2);
  assert.equal(rechecks(), 0);
  clock.sleep(HOUR);
  clock.run(CLOCK_CHECK_MS);
  assert.equal(rechecks(), 1);
  assert.match(agent.status().recent.at(-1)!.message, /^the wall clock moved 3600 s further than running time \(a sleep or a clock change\); re-checking expiry$/);
});

test('the headless agent re-checks when the wall clock is set back, but not for a small drift', async () => {
  const { clock, rechecks } = await headlessAgent();
  clock.setWall(CLOCK_JUMP_MS - 1_000);
  clock.run(CLOCK_CHECK_MS);
  assert.equal(rechecks(), 0, 'a few seconds of NTP correction is not a jump');
  clock.setWall(-HOUR);
  clock.run(CLOCK_CHECK_MS);
  assert.equal(rechecks(), 1);
});

test('a stopped agent watches the clock no more', async () => {
  const { agent, clock, rechecks } = await headlessAgent();
  await agent.stop();
  assert.equal(clock.pendingTimers(), 0, 'no timer of the agent is left');
  clock.sleep(HOUR);
  clock.run(CLOCK_CHECK_MS * 2);
  assert.equal(rechecks(), 0);
});
