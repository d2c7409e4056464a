/**
 * The browser is started with a one-time local link, not the authorization URL: the URL's state, nonce and
 * PKCE challenge never sit in a command line other users can read with `ps`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { LoopbackListener } from '../../electron/core/oidc/loopback.js';

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function get(url: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url.replace('//localhost:', '//127.0.0.1:'), (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) });
      })
      .on('error', reject);
  });
}

const AUTH = 'https://id.example.com/authorize?client_id=c&state=s3cr3t-state&nonce=n&code_challenge=abc&code_challenge_method=S256';
let listener: LoopbackListener;
after(() => listener?.close());

test('the local link redirects to the authorization URL once, and names none of it', async () => {
  listener = await LoopbackListener.start(await freePort(), 's3cr3t-state', 60_000);
  const link = listener.startUrl(AUTH);
  assert.match(link, /^http:\/\/localhost:\d+\/start\/[\w-]{20,}$/);
  assert.doesNotMatch(link, /state|nonce|code_challenge|client_id/);
  assert.deepEqual(await get(link), { status: 302, location: AUTH });
  assert.equal((await get(link)).status, 410, 'a second use is refused');
});

test('a guessed or old link is refused', async () => {
  const link = listener.startUrl(AUTH);
  assert.equal((await get(link.replace(/\/start\/.*/, '/start/guess'))).status, 410);
  assert.equal((await get(link)).status, 302, 'the real one still works after a wrong guess');
});
