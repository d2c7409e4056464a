/**
 * An agent starting with a stored session opens its socket at once, before the session has resumed: a
 * kubectl that asks in that first moment (an agent started at login, a terminal already running
 * `kubectl get pods -w`) must get the resumed session's token, not "not signed in".
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { secretKeys } from '../../electron/core/session/providers.js';
import { agentLog, untilAgentLogs } from '../support/agent-log.js';
import { launchChromium, run, Stack } from '../support/stack.js';

/** Alice's username at the API server (the seed guide's `oidc:` prefix and her Pocket ID subject). */
const ALICE = 'oidc:6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40';

describe('an agent starting with a stored session', () => {
  const stack = new Stack();
  let browser: Browser;
  /** secrets.json as Alice's sign-in left it. */
  let stored: Record<string, string>;

  before(async () => {
    browser = await launchChromium();
    await stack.start();
    // Alice signs in; the agent stops, leaving her session in the secrets file as at a logout or reboot.
    await stack.stopAgentProcess(await stack.signedInAgentProcess(browser));
    stored = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
  });
  after(async () => {
    await browser?.close();
    await stack.close();
  });

  /**
   * Starts the agent over a secrets file that answers only when the test writes it (a named pipe): the resume
   * stays in flight for as long as the test needs, as on a slow disk, without any sleep. Runs `kubectl auth
   * whoami` as soon as the socket answers, and writes `secrets` into the pipe once kubectl's request is waiting
   * for the read (the agent says so), or once kubectl has its answer (an agent that does not wait answers at
   * once). Returns kubectl's result, and stops the agent.
   */
  async function kubectlAtStartUp(secrets: Record<string, string>) {
    const file = stack.home.secretsFile;
    await rm(file, { force: true });
    const fifo = await run('/usr/bin/mkfifo', ['-m', '600', file], stack.env);
    assert.equal(fifo.code, 0, fifo.stderr);
    const agent = await stack.startAgentProcess(); // its socket answers; the resume is reading the pipe
    try {
      const kubectl = stack.kubectl(['auth', 'whoami', '-o', 'json'], { timeoutMs: 30_000 });
      await Promise.race([untilAgentLogs(agent, /kubectl asked for a token while the stored session is being read/), kubectl]);
      await writeFile(file, JSON.stringify(secrets));
      return { kubectl: await kubectl, log: agentLog(agent) };
    } finally {
      await stack.stopAgentProcess(agent);
    }
  }

  test('kubectl asking at once, while the agent is still reading the stored session, gets a token and not "not signed in"', async () => {
    const refreshesBefore = (await stack.pocketId.stats()).refreshGrants;
    const { kubectl, log } = await kubectlAtStartUp(stored);
    assert.equal(kubectl.code, 0, `kubectl failed: ${kubectl.stderr}`);
    assert.equal(JSON.parse(kubectl.stdout).status.userInfo.username, ALICE);
    assert.doesNotMatch(log, /not signed in/);
    assert.equal((await stack.pocketId.stats()).refreshGrants, refreshesBefore, 'the stored ID token was good: no refresh');
  });

  test('when the resume must refresh (no usable ID token stored), kubectl asking at once waits through that one refresh and gets its token', async () => {
    const refreshesBefore = (await stack.pocketId.stats()).refreshGrants;
    const withoutIdToken = Object.fromEntries(Object.entries(stored).filter(([key]) => key !== secretKeys.idToken(stack.provider)));
    const { kubectl, log } = await kubectlAtStartUp(withoutIdToken);
    assert.equal(kubectl.code, 0, `kubectl failed: ${kubectl.stderr}`);
    assert.equal(JSON.parse(kubectl.stdout).status.userInfo.username, ALICE);
    assert.match(log, /pocket-id: refreshed \((resume|on-demand)\)/);
    assert.equal((await stack.pocketId.stats()).refreshGrants, refreshesBefore + 1, 'one refresh, shared by the resume and kubectl');
  });
});
