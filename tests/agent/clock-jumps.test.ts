/**
 * The agent itself re-checks every session's expiry when the wall clock jumps (a laptop waking, a clock
 * change), so the headless `pocketkube agent` refreshes at once after a sleep instead of when a late timer
 * fires; the tray app adds its power and unlock events on top. First on an injected clock, then a real agent
 * process whose wall clock libfaketime moves while it runs (its monotonic clock untouched, as in a sleep).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Agent } from '../../electron/agent/agent.js';
import { CLOCK_CHECK_MS, CLOCK_JUMP_MS } from '../../electron/core/platform/clock-jump.js';
import { resolveHome } from '../../electron/core/platform/home.js';
import { MemorySecretStore } from '../../electron/core/session/secret-store.js';
import { LaptopClock } from '../support/monotonic-clock.js';
import { agentLog, untilAgentLogs } from '../support/agent-log.js';
import { launchChromium, Stack } from '../support/stack.js';
import { inCI } from '../support/ci.js';

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

/** Debian's libfaketime (the `faketime` package), found under /usr/lib for any architecture. */
function findLibfaketime(): string | undefined {
  const candidates = ['/usr/lib/faketime', ...readdirSync('/usr/lib', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `/usr/lib/${d.name}/faketime`)];
  return candidates.map((dir) => path.join(dir, 'libfaketime.so.1')).find((f) => existsSync(f));
}
const LIBFAKETIME = findLibfaketime();

describe('a real `pocketkube agent` whose wall clock jumps an hour ahead while it runs', { skip: LIBFAKETIME || inCI() ? false : 'libfaketime (Debian package faketime) is not installed' }, () => {
  const stack = new Stack();
  let browser: Browser;
  let agent: ChildProcess;
  /** libfaketime reads the offset from this file at every clock call, so the test moves the running agent's wall clock. */
  let offsetFile: string;

  before(async () => {
    browser = await launchChromium();
    await stack.start();
    await stack.configure();
    offsetFile = path.join(stack.dir, 'faketime-offset');
    await writeFile(offsetFile, '+0\n');
    agent = await stack.startAgentProcess({
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: offsetFile,
      FAKETIME_NO_CACHE: '1',
      // Running time goes on as it was: only the wall clock jumps, as after a sleep.
      DONT_FAKE_MONOTONIC: '1',
    });
    const { cli } = await stack.login(browser);
    assert.equal(cli.code, 0, cli.stderr);
  });
  after(async () => {
    await browser?.close();
    await stack.close();
  });

  test('the agent notices the jump at a clock check and refreshes the session that came due right after, with no kubectl asking', async () => {
    const refreshesBefore = (await stack.pocketId.stats()).refreshGrants;
    const mark = agentLog(agent).length;
    await writeFile(offsetFile, '+3600\n'); // an hour asleep: the one-hour ID token is now past its refresh time
    // A hang guard only (the next check comes within CLOCK_CHECK_MS); the old agent's timer would wait 55 min.
    await untilAgentLogs(agent, /pocket-id: refreshed \(background\)/, 8 * CLOCK_CHECK_MS);
    // The log after the jump, in order: the check that noticed it, then the refresh that re-check started.
    const lines = agentLog(agent).slice(mark).split('\n').filter(Boolean);
    const noticed = lines.findIndex((l) => /info the wall clock moved 36\d\d s further than running time \(a sleep or a clock change\); re-checking expiry$/.test(l));
    const refreshed = lines.findIndex((l) => /pocket-id: refreshed \(background\)/.test(l));
    assert.ok(noticed >= 0 && noticed < refreshed, `the jump is noticed before the refresh:\n${lines.join('\n')}`);
    assert.deepEqual(lines.slice(0, refreshed).filter((l) => /wall clock moved/.test(l)).length, 1, `one check noticed the jump and the refresh followed it:\n${lines.join('\n')}`);
    assert.equal((await stack.pocketId.stats()).refreshGrants, refreshesBefore + 1);
  });
});
