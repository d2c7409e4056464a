/** The Account view: who you are, the ID token's countdown, its claims, and sign-in/out/refresh, in Chromium. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FixtureBridge } from './bridge.js';
import { appState, NOW, PICTURE, signedIn, signedOut, SUB } from './fixtures.js';
import { assertNoTokenText, open, startSuite, type Suite } from './harness.js';
import { refreshSignedOut, signInPocketIdUnreachable } from './real-failures.js';

const BOUNDED = { timeout: 60_000 };
let suite: Suite;
before(async () => {
  suite = await startSuite();
});
after(() => suite?.close());

describe('Account view', () => {
  test('a signed-in session shows picture, name, verified email, groups and when it was refreshed', BOUNDED, async (t) => {
    const { page, problems } = await open(t, suite);
    const card = page.getByRole('article', { name: 'Alice Anderson' });
    assert.equal(await card.locator('img.avatar').getAttribute('src'), PICTURE);
    await card.locator('.email-address').getByText('alice@example.com').waitFor();
    await card.getByText('verified', { exact: true }).waitFor();
    await card.getByText('Clusters that name users by email accept you').waitFor();
    assert.deepEqual(await card.getByRole('list', { name: 'Groups of Alice Anderson' }).getByRole('listitem').allInnerTexts(), ['kubernetes', 'developers']);
    assert.match(await card.locator('dl.facts').innerText(), /Last refresh\s+succeeded 18 min ago \(in the background/);
    assert.match(await card.locator('dl.facts').innerText(), /Next refresh\s+in 37 min/);
    assert.equal(await page.getByRole('status').filter({ hasText: 'Signed in' }).count(), 1);
    assert.deepEqual(problems, []);
  });

  test('without a picture the avatar falls back to initials', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ providers: [signedIn({ picture: false })] }) });
    assert.equal(await page.locator('.avatar-initials').innerText(), 'AA');
    assert.equal(await page.locator('img.avatar').count(), 0);
  });

  test('an unverified email is flagged with what it means for Kubernetes', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ providers: [signedIn({ emailVerified: false })] }) });
    await page.getByText('not verified', { exact: true }).waitFor();
    await page.getByText('Clusters that name users by email refuse this token until the address is verified in Pocket ID').waitFor();
  });

  test('a token without groups warns that group RBAC will answer 403', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ providers: [signedIn({ groups: null })] }) });
    await page.getByText('No groups in your token').waitFor();
    await page.getByText('will answer 403').waitFor();
  });

  test('the countdown and bar follow the page clock and turn to "expiring soon" under 10 minutes', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ providers: [signedIn({ expiresInMs: 11 * 60_000 })] }) });
    const timer = page.getByRole('timer');
    const bar = page.getByRole('progressbar', { name: 'ID token lifetime left' });
    assert.equal(await timer.innerText(), '11:00');
    assert.equal(await timer.getAttribute('aria-label'), 'ID token expires in 11 min');
    assert.equal(await page.getByText('expiring soon').count(), 0);
    const before = Number(await bar.getAttribute('value'));

    await page.clock.runFor(1_000);
    assert.equal(await timer.innerText(), '10:59');
    await page.clock.runFor(60_000);
    assert.equal(await timer.innerText(), '9:59');
    await page.getByText('· expiring soon').waitFor();
    await page.getByText('PocketKube refreshes it by itself before it runs out').waitFor();
    assert.equal(Number(await bar.getAttribute('value')), before - 61_000);
    // The claims table's "in N min" moves with it.
    await page.getByRole('row', { name: /^exp/ }).getByText('(in 10 min)').waitFor();

    await page.clock.runFor(10 * 60_000);
    assert.equal(await timer.innerText(), '0:00');
    await page.getByText(/ID token expired \d+ s ago/).waitFor();
    await page.getByText('kubectl gets a fresh token the next time it asks').waitFor();
  });

  test('a refresh that keeps failing is shown next to the countdown', BOUNDED, async (t) => {
    const providers = [signedIn({ expiresInMs: 4 * 60_000, lastRefresh: { at: new Date(NOW - 30_000).toISOString(), trigger: 'background', result: 'retrying', message: 'offline: getaddrinfo ENOTFOUND id.example.com' } })];
    const { page } = await open(t, suite, { state: appState({ providers }) });
    await page.getByText('PocketKube could not refresh it yet (offline: getaddrinfo ENOTFOUND id.example.com) and keeps trying').waitFor();
    await page.getByText('failed; retrying').waitFor();
  });

  test('every claim is listed, times as dates and as "in 42 min", and the JSON view holds the same claims', BOUNDED, async (t) => {
    const { page } = await open(t, suite);
    const table = page.getByRole('table', { name: 'ID token claims' });
    const names = await table.locator('tbody th code').allInnerTexts();
    assert.deepEqual([...names].sort(), ['aud', 'auth_time', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'groups', 'iat', 'iss', 'name', 'picture', 'preferred_username', 'sub']);
    assert.match(await table.getByRole('row', { name: /^exp/ }).innerText(), /Nov 28, 2026, 6:22:00 PM \(in 42 min\)/);
    assert.match(await table.getByRole('row', { name: /^iat/ }).innerText(), /\(18 min ago\)/);
    assert.match(await table.getByRole('row', { name: /^sub/ }).innerText(), new RegExp(SUB));
    await page.getByRole('button', { name: 'JSON' }).click();
    const json = JSON.parse(await page.getByLabel('ID token claims as JSON').innerText()) as Record<string, unknown>;
    assert.equal(json.email, 'alice@example.com');
    assert.deepEqual(json.groups, ['kubernetes', 'developers']);
    assert.equal(await page.getByRole('button', { name: 'JSON' }).getAttribute('aria-pressed'), 'true');
    await assertNoTokenText(page);
  });

  test('Refresh now asks the agent, and the pushed state shows the new refresh', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await page.getByText('(by you,').waitFor();
    assert.deepEqual(bridge.callsTo('refresh'), [['pocket-id']]);
  });

  test('Sign out asks the agent, and the pushed state shows why you are signed out', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Why: you signed out.').waitFor();
    assert.deepEqual(bridge.callsTo('signOut'), [['pocket-id']]);
    assert.equal(await page.getByRole('table', { name: 'ID token claims' }).count(), 0, 'no claims once signed out');
    await page.getByRole('status').filter({ hasText: 'Signed out' }).waitFor();
  });

  test('signed out: the reason, then Sign in waits for the browser and shows you when it is done', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite, { state: appState({ providers: [signedOut('Pocket ID ended the session (refresh token revoked)')] }) });
    await page.getByText('Why: Pocket ID ended the session (refresh token revoked).').waitFor();
    await page.getByText('kubectl gets no token for this provider until you sign in').waitFor();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('Waiting for you in the browser').waitFor();
    assert.equal(bridge.callsTo('signIn')[0]?.[0], 'pocket-id');
    await page.getByRole('button', { name: 'Open the sign-in page again' }).click();
    assert.match(String(bridge.callsTo('openExternal')[0]?.[0]), /^https:\/\/id\.example\.com\/authorize\?/);
    await bridge.push(appState());
    await page.getByRole('heading', { name: 'Alice Anderson' }).waitFor();
    assert.equal(await page.getByText('Waiting for you in the browser').count(), 0);
  });

  test('Sign in with a code shows the code to type on another device', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite, { state: appState({ providers: [signedOut()] }) });
    await page.getByRole('button', { name: 'Sign in with a code' }).click();
    await page.getByText('KQXW-PRTD').waitFor();
    assert.deepEqual(bridge.callsTo('signIn'), [['pocket-id', { device: true }]]);
  });

  test('a refresh the agent refuses because the session ended says so and offers to sign in again', BOUNDED, async (t) => {
    // The window still shows the session the agent pushed last; the agent has meanwhile lost it.
    const failure = await refreshSignedOut();
    assert.deepEqual([failure.code, failure.needsSignIn], ['signed_out', true]);
    const bridge = new FixtureBridge(appState()).fail('refresh', failure);
    const { page } = await open(t, suite, { bridge });
    await page.getByRole('button', { name: 'Refresh now' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Refresh failed' });
    await alert.getByText(failure.message, { exact: true }).waitFor();
    await alert.getByText('Sign in again, then try once more.').waitFor();
    await alert.getByRole('button', { name: 'Sign in again' }).click();
    assert.equal(bridge.callsTo('signIn').length, 1);
  });

  test('a sign-in that cannot reach Pocket ID says why and points at the checks, not at signing in again', BOUNDED, async (t) => {
    const failure = await signInPocketIdUnreachable();
    assert.equal(failure.code, 'sign_in_failed');
    const bridge = new FixtureBridge(appState({ providers: [signedOut()] })).fail('signIn', failure);
    const { page } = await open(t, suite, { bridge });
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Sign-in did not start' });
    await alert.getByText(failure.message, { exact: true }).waitFor();
    await alert.getByText('Try signing in again. If it keeps failing, run the checks in Setup, step 4.').waitFor();
    assert.equal(await alert.getByText('Sign in again, then try once more.').count(), 0);
  });

  test('with no provider the view explains and leads to the setup guide', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ providers: [] }) });
    await page.getByText('No Pocket ID provider yet').waitFor();
    await page.getByRole('button', { name: 'Open the setup guide' }).click();
    assert.equal(await page.getByRole('tab', { selected: true }).innerText(), 'Setup');
    await page.getByRole('heading', { name: '1. Pocket ID client' }).waitFor();
    await page.getByText('pocketkube provider add pocket-id --issuer https://id.example.com --client-id CLIENT_ID').waitFor();
  });

  test('two providers get a card each, signed in or not', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ providers: [signedIn(), { ...signedOut('not signed in yet'), provider: 'work' }] }) });
    assert.equal(await page.getByRole('article').count(), 2);
    await page.getByRole('article', { name: 'work' }).getByText('Why: not signed in yet.').waitFor();
    await page.getByRole('status').filter({ hasText: 'Signed in to 1 of 2' }).waitFor();
  });
});
