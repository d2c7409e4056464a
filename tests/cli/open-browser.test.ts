/** The browser PocketKube opens for a sign-in: BROWSER's forms, and no Node mode leaking into it. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openBrowser } from '../../electron/cli/open-browser.js';
import { removeTempDir, tempDir } from '../support/temp.js';

const dir = tempDir('pk-browser-');
after(() => removeTempDir(dir));

/** A "browser" that writes what it was started with, then exits. */
function recordingBrowser(name: string): { command: string; read(): Promise<{ args: string[]; asNode: string }> } {
  const out = path.join(dir, `${name}.json`);
  const script = path.join(dir, `${name}.sh`);
  writeFileSync(script, `#!/bin/sh\nprintf '{"args":"%s","asNode":"%s"}' "$*" "\${ELECTRON_RUN_AS_NODE-unset}" > '${out}'\n`, { mode: 0o755 });
  return {
    command: script,
    async read() {
      for (let i = 0; i < 100; i++) {
        try {
          const r = JSON.parse(readFileSync(out, 'utf8')) as { args: string; asNode: string };
          return { args: r.args.split(' '), asNode: r.asNode };
        } catch {
          await sleep(20);
        }
      }
      throw new Error(`${name} never ran`);
    },
  };
}

test('a browser started from the installed helper does not inherit its Node mode', async () => {
  const b = recordingBrowser('plain');
  await openBrowser('http://127.0.0.1:1/x', { PATH: process.env.PATH, BROWSER: b.command, ELECTRON_RUN_AS_NODE: '1' });
  const seen = await b.read();
  assert.deepEqual(seen.args, ['http://127.0.0.1:1/x']);
  assert.equal(seen.asNode, 'unset');
});

test('BROWSER may place the URL with %s and list fallbacks separated by ":"', async () => {
  const b = recordingBrowser('placed');
  await openBrowser('http://127.0.0.1:1/y', { PATH: process.env.PATH, BROWSER: `/nonexistent/browser:${b.command} --new-window %s` });
  assert.deepEqual((await b.read()).args, ['--new-window', 'http://127.0.0.1:1/y']);
});
