/** `status` shows the running agent's version and warns when this CLI is a different version. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO } from '../support/stack.js';
import { run } from '../support/run.js';
import { BUNDLE, CLI, sandbox, type Sandbox } from './cli.js';

let box: Sandbox;
let agent: ChildProcess;
let version: string;

before(async () => {
  version = (JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  box = sandbox('pk-status-');
  agent = spawn(process.execPath, [CLI, 'agent'], { env: box.env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Ready when it says so on stderr (bounded: the test runner's timeout ends a hung start).
  let said = '';
  agent.stderr!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    agent.stderr!.on('data', (d: string) => {
      said += d;
      if (said.includes('PocketKube agent running')) resolve();
    });
    agent.once('exit', (code) => reject(new Error(`the agent exited (${code}): ${said}`)));
  });
});
after(async () => {
  if (agent.exitCode === null) {
    agent.kill('SIGTERM');
    await once(agent, 'exit');
  }
  await box.remove();
});

test('status names the running agent\'s version; the same version gives no warning', async () => {
  const r = await box.cli(['status']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Agent: running \\(version ${version.replace(/\./g, '\\.')}, pid ${agent.pid}, headless, since `));
  assert.equal(r.stderr, '');
  const j = JSON.parse((await box.cli(['status', '--json'])).stdout) as { agent: { version: string } };
  assert.equal(j.agent.version, version);
});

test('a CLI of another version than the running agent says so on stderr and still prints the status', async () => {
  // The same bundle as built, but announcing 9.9.9: a CLI upgraded while an older agent still runs.
  const text = await readFile(BUNDLE, 'utf8');
  const marker = `return cached = ${JSON.stringify(version)};`;
  assert.ok(text.includes(marker), 'the bundle carries the version written in at build time');
  const newer = path.join(box.dir, 'newer-cli.mjs');
  await writeFile(newer, text.replace(marker, 'return cached = "9.9.9";'));
  const r = await run(process.execPath, [newer, 'status'], box.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `Warning: this pocketkube is version 9.9.9 but the running agent is ${version}; restart the agent (or the PocketKube app) so both are the same.\n`);
  assert.match(r.stdout, /^Agent: running /);
});
