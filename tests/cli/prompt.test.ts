/**
 * `pocketkube prompt` end to end: the real agent, the Pocket ID stand-in signed in through Chromium, the real
 * kubectl switching contexts. The sh entry point answers from the agent's file with shell built-ins (run with a
 * PATH holding nothing, so any fork would fail), and the Node CLI prints the same bytes in every state.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { promptFile } from '../../electron/core/session/prompt-status.js';
import { HELPER, launchChromium, REPO, run, Stack, type RunResult } from '../support/stack.js';
import { inCI } from '../support/ci.js';

const FORMATS = ['plain', 'bash', 'zsh', 'json'] as const;
const STRACE = '/usr/bin/strace';
const CLI_MAIN = path.join(REPO, 'dist', 'electron', 'cli', 'main.js');

describe('pocketkube prompt', () => {
  const stack = new Stack();
  let browser: Browser;
  let agent: Awaited<ReturnType<Stack['startAgentProcess']>> | undefined;
  /** An empty folder as PATH: the sh entry point can start nothing (no node, no cat, no date). */
  const empty = () => path.join(stack.dir, 'empty-bin');
  const fast = (args: string[], extra: NodeJS.ProcessEnv = {}, shell?: string[]): Promise<RunResult> =>
    shell ? run(shell[0]!, [...shell.slice(1), HELPER, 'prompt', ...args], { ...stack.env, PATH: empty(), ...extra }) : run(HELPER, ['prompt', ...args], { ...stack.env, PATH: empty(), ...extra });
  const node = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> => run(process.execPath, [CLI_MAIN, 'prompt', ...args], { ...stack.env, ...extra });
  /** The agent rewrites its file within the kubeconfig watcher's debounce; wait for it, boundedly. */
  async function fastUntil(args: string[], want: RegExp): Promise<RunResult> {
    let res: RunResult | undefined;
    for (let i = 0; i < 50; i++) {
      res = await fast(args);
      if (res.code === 0 && want.test(res.stdout)) return res;
      await sleep(100);
    }
    assert.fail(`prompt never matched ${want}: ${JSON.stringify(res)}`);
  }
  /** Every format, with and without NO_COLOR and --ours-only: the fast path's bytes equal the Node CLI's. */
  async function sameEverywhere(): Promise<void> {
    for (const format of FORMATS) {
      for (const extra of [[], ['--ours-only']]) {
        for (const env of [{}, { NO_COLOR: '1' }]) {
          const args = ['--format', format, ...extra];
          const f = await fast(args, env);
          const n = await node(args, env);
          assert.equal(f.code, 0, `fast ${args.join(' ')}: ${f.stderr}`);
          assert.equal(f.stderr, '');
          assert.deepEqual({ stdout: f.stdout, code: f.code }, { stdout: n.stdout, code: n.code }, `${args.join(' ')} ${JSON.stringify(env)}`);
        }
      }
    }
  }

  before(async () => {
    browser = await launchChromium();
    await stack.start();
    await mkdir(empty(), { recursive: true });
    agent = await stack.signedInAgentProcess(browser);
  });
  after(async () => {
    await browser?.close();
    await stack.close();
  });

  test('signed in: context, who and minutes left, from the file with no fork, in every format as the Node CLI prints it', async () => {
    const res = await fastUntil([], /\(alice, /);
    assert.match(res.stdout, /^pocket-id@talos-e2e \(alice, (59|60)m\)\n$/);
    const bash = await fast(['--format', 'bash']);
    assert.match(bash.stdout, /^\x01\x1b\[32m\x02pocket-id@talos-e2e \(alice, \d+m\)\x01\x1b\[0m\x02\n$/);
    const zsh = await fast(['--format=zsh']);
    assert.match(zsh.stdout, /^%\{\x1b\[32m%\}pocket-id@talos-e2e \(alice, \d+m\)%\{\x1b\[0m%\}\n$/);
    assert.deepEqual(Object.keys(JSON.parse((await fast(['--format', 'json'])).stdout)), ['state', 'context', 'provider', 'who', 'minutesLeft']);
    assert.equal((await fast([], { NO_COLOR: '1' })).stdout, res.stdout);
    await sameEverywhere();
  });

  test('the same under dash and bash in POSIX mode, with nothing on PATH', async () => {
    const want = (await fast([])).stdout;
    for (const shell of [['/bin/dash'], ['/bin/bash', '--posix']]) {
      const res = await fast([], {}, shell);
      assert.equal(res.code, 0, `${shell.join(' ')}: ${res.stderr}`);
      assert.equal(res.stdout, want, shell.join(' '));
    }
  });

  test('strace sees no fork and no exec beyond the script itself', { skip: !existsSync(STRACE) && !inCI() && 'strace is not installed here' }, async () => {
    const trace = path.join(stack.dir, 'prompt.trace');
    const res = await run(STRACE, ['-f', '-qq', '-e', 'trace=process', '-o', trace, HELPER, 'prompt', '--format', 'bash'], { ...stack.env, PATH: empty() });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /pocket-id@talos-e2e \(alice, \d+m\)/);
    const calls = (await readFile(trace, 'utf8')).split('\n').filter(Boolean);
    assert.deepEqual(calls.filter((l) => /\b(clone3?|v?fork)\(/.test(l)), [], 'no fork');
    assert.equal(calls.filter((l) => /\bexecve\(/.test(l)).length, 1, calls.join('\n'));
  });

  test('bash\'s PS1 and zsh\'s PROMPT expand the segment, colour codes marked as zero-width', async () => {
    const env = { ...stack.env, PATH: `${path.dirname(HELPER)}:${process.env.PATH}` };
    // ${PS1@P} is bash's own prompt expansion; \001/\002 are what readline counts as zero width.
    const b = await run('/bin/bash', ['-c', `PS1='$(pocketkube prompt --format bash) \\$ '; printf %s "\${PS1@P}"`], env);
    assert.match(b.stdout, /^\x01\x1b\[32m\x02pocket-id@talos-e2e \(alice, \d+m\)\x01\x1b\[0m\x02 [#$] $/, b.stderr);
    const z = await run('/usr/bin/zsh', ['-f', '-c', `setopt prompt_subst; PROMPT='$(pocketkube prompt --format zsh) %# '; print -rn -- "\${(%%)PROMPT}"`], env);
    assert.match(z.stdout, /^\x1b\[32mpocket-id@talos-e2e \(alice, \d+m\)\x1b\[0m [#%] $/, z.stderr);
  });

  test('kubectl config use-context: the next prompts show the other context alone, or nothing with --ours-only', async () => {
    const set = await stack.kubectl(['config', 'set-context', 'admin@talos-e2e', '--cluster=talos-e2e', '--user=admin']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await stack.kubectl(['config', 'use-context', 'admin@talos-e2e'])).code, 0);
    const res = await fastUntil([], /^admin@talos-e2e\n$/);
    assert.equal((await fast(['--format', 'bash'])).stdout, 'admin@talos-e2e\n', 'not ours: no colour');
    assert.equal((await fast(['--ours-only'])).stdout, '');
    assert.equal(res.stderr, '');
    await sameEverywhere();
    assert.equal((await stack.kubectl(['config', 'use-context', 'pocket-id@talos-e2e'])).code, 0);
    await fastUntil([], /^pocket-id@talos-e2e \(alice, \d+m\)\n$/);
  });

  test('a stale file (an agent held back by sleep) is not printed: the Node CLI answers instead', async () => {
    const file = promptFile(stack.home);
    const past = new Date(Date.now() - 120_000);
    await utimes(file, past, past);
    const noNode = await fast([]);
    assert.notEqual(noNode.code, 0, 'with no node on PATH the stale file is not used');
    assert.equal(noNode.stdout, '');
    const withNode = await run(HELPER, ['prompt'], stack.env);
    assert.match(withNode.stdout, /^pocket-id@talos-e2e \(alice, \d+m\)\n$/);
    // Any change rewrites the file with a fresh date: signing out is one.
  });

  test('signed out: the context and "(signed out)" in red', async () => {
    const out = await stack.cli(['logout', stack.provider]);
    assert.equal(out.code, 0, out.stderr);
    await fastUntil([], /^pocket-id@talos-e2e \(signed out\)\n$/);
    assert.equal((await fast(['--format', 'bash'])).stdout, '\x01\x1b[31m\x02pocket-id@talos-e2e (signed out)\x01\x1b[0m\x02\n');
    await sameEverywhere();
  });

  test('no agent: a marker from the file the stopped agent left, and the same from the Node CLI', async () => {
    assert.equal(await stack.stopAgentProcess(agent!), 0);
    agent = undefined;
    const res = await fast([]);
    assert.equal(res.stdout, 'pocketkube: agent not running\n');
    assert.equal((await fast(['--ours-only'])).stdout, 'pocketkube: agent not running\n');
    await sameEverywhere();
  });

  test('a bad --format is a usage error (exit 2) naming the formats', async () => {
    const res = await run(HELPER, ['prompt', '--format', 'fish'], stack.env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--format must be one of plain, bash, zsh, json, not "fish"/);
    const extra = await run(HELPER, ['prompt', 'prod'], stack.env);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /prompt takes no arguments/);
  });
});
