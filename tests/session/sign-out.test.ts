import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Agent } from '../../electron/agent/agent.js';
import { secretKeys } from '../../electron/core/session/providers.js';
import { launchChromium, Stack } from '../support/stack.js';

const stack = new Stack();
let browser: Browser;
let agent: Agent;
before(async () => {
  browser = await launchChromium();
  await stack.start();
  await stack.configure();
  agent = new Agent({ home: stack.home });
  await agent.start();
  const { cli } = await stack.login(browser);
  assert.equal(cli.code, 0, cli.stderr);
});
after(async () => {
  await agent?.stop();
  await browser?.close();
  await stack.close();
});

test('sign-out ends the session at Pocket ID with the ID token in a POST body, never in a URL', async () => {
  const idToken = await agent.store.get(secretKeys.idToken(stack.provider));
  assert.ok(idToken, 'signed in');
  const out = await stack.cli(['logout']);
  assert.equal(out.code, 0, out.stderr);
  const { endSessions } = await stack.pocketId.stats();
  assert.equal(endSessions.length, 1, JSON.stringify(endSessions.map((e) => e.method)));
  const [request] = endSessions;
  assert.equal(request!.method, 'POST');
  assert.ok(!request!.target.includes('id_token_hint') && !request!.target.includes(idToken.split('.')[1]!), 'no ID token in the request target');
  assert.ok(request!.revoked >= 1, 'Pocket ID revoked the refresh session tied to the hint');
});
