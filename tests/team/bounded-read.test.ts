/**
 * `pocketkube join` reads at most what a profile may hold (256 KiB) from a file and from standard input, and
 * refuses the rest with one sentence: /dev/zero, which never ends, is the real input that shows it. Each run
 * is bounded in time and memory (ulimit), so a reader that loads everything fails here instead of the machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { HELPER } from '../support/stack.js';
import { removeTempDir, tempDir } from '../support/temp.js';

const dir = tempDir('pk-bounded-read-');
after(() => removeTempDir(dir));
const env = { ...process.env, POCKETKUBE_HOME: path.join(dir, 'home'), KUBECONFIG: path.join(dir, 'kube', 'config'), NO_COLOR: '1' };

/** Runs the CLI with 1 GB of data (ulimit -d) and 30 s at most; `stdin` is a file opened as its standard input. */
function join(args: string[], stdin?: string): Promise<{ code: number | null; stderr: string }> {
  const fd = stdin ? openSync(stdin, 'r') : 'ignore';
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'ulimit -d 1000000; exec "$0" "$@"', HELPER, 'join', ...args], { env, stdio: [fd, 'ignore', 'pipe'] });
    if (typeof fd === 'number') closeSync(fd);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('a file that never ends (/dev/zero) is refused after 256 KiB, with one sentence', async () => {
  const r = await join(['/dev/zero', '--dry-run']);
  assert.match(r.stderr, /\/dev\/zero: is over 256 KiB, far more than a team profile; check that this is the profile file; nothing was changed\./);
  assert.equal(r.code, 1, r.stderr);
});

test('standard input that never ends is refused after 256 KiB, with one sentence', async () => {
  const r = await join(['-', '--dry-run'], '/dev/zero');
  assert.match(r.stderr, /standard input: is over 256 KiB, far more than a team profile; check that this is the profile file; nothing was changed\./);
  assert.equal(r.code, 1, r.stderr);
});
