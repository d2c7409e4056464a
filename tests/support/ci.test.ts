/** inCI(): CI is on for any value of CI but an empty one, 0 or false, so `CI=false` runs as on a laptop. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCI } from './ci.js';

test('CI unset, empty, 0 or false (any case, spaces around) is not CI', () => {
  for (const v of [undefined, '', '0', 'false', 'FALSE', ' false ']) assert.equal(inCI(v === undefined ? {} : { CI: v }), false, `CI=${JSON.stringify(v)}`);
});

test('CI true, 1 or any other value is CI', () => {
  for (const v of ['true', '1', 'yes', 'woodpecker']) assert.equal(inCI({ CI: v }), true, `CI=${JSON.stringify(v)}`);
});
