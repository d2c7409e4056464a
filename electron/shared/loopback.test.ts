import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost } from './loopback.js';

test('loopback is localhost, all of 127.0.0.0/8 and ::1, as a URL hostname gives them (brackets or not)', () => {
  for (const host of ['localhost', '127.0.0.1', '127.0.0.2', '127.255.255.254', '127.1.2.3', '[::1]', '::1']) assert.equal(isLoopbackHost(host), true, host);
  // The WHATWG URL parser writes 127.1 and 0x7f.1 as 127.0.0.1 and [0:0::1] as [::1]: the rule sees those.
  for (const url of ['http://127.1:8000/', 'http://0x7f.1/', 'http://[0:0::1]/', 'http://LOCALHOST/']) assert.equal(isLoopbackHost(new URL(url).hostname), true, url);
});

test('anything else is not loopback, including names that only look like it', () => {
  for (const host of ['', '0.0.0.0', '128.0.0.1', '10.0.0.1', '127.0.0.1.nip.io', 'localhost.example.com', 'a.localhost', '127.0.0.256', '[::]', '[::ffff:7f00:1]', 'example.com']) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});
