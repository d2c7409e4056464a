/** The small conventions terminal users expect: --version, help with an example, exit codes, newlines, colour. */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { COMMANDS } from '../../electron/cli/commands/help.js';
import { REPO } from '../support/stack.js';
import { run } from '../support/run.js';
import { BUNDLE, CLI, sandbox, type Sandbox } from './cli.js';

let box: Sandbox;
before(() => (box = sandbox()));
after(() => box.remove());

const packageVersion = async () => (JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

test('--version, -V and version print package.json\'s version, from dist and from the bundle copied away from it', async () => {
  const want = `${await packageVersion()}\n`;
  for (const flag of ['--version', '-V', 'version']) {
    const r = await box.cli([flag]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, want, ''], `pocketkube ${flag}`);
  }
  // As the app installs it: the single file alone in ~/.pocketkube/bin, no package.json anywhere above it.
  const installed = path.join(box.dir, 'home', 'bin', 'pocketkube-cli.mjs');
  await run('/bin/mkdir', ['-p', path.dirname(installed)], box.env);
  await copyFile(BUNDLE, installed);
  const r = await run(process.execPath, [installed, '--version'], box.env);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, want, '']);
  // And through the sh entry point on PATH.
  const sh = await run('pocketkube', ['--version'], box.env);
  assert.equal(sh.stdout, want);
});

test('every command has help with an example, as `help COMMAND` and as `COMMAND --help`', async () => {
  for (const name of Object.keys(COMMANDS)) {
    const a = await box.cli(['help', name]);
    const b = await box.cli([name, '--help']);
    assert.equal(a.code, 0, `help ${name}: ${a.stderr}`);
    assert.equal(b.code, 0, `${name} --help: ${b.stderr}`);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, new RegExp(`^Usage: pocketkube ${name.replace('-', '\\-')}`));
    assert.match(a.stdout, /\nExample:\n {2}\$ .*pocketkube /);
  }
  const all = await box.cli(['--help']);
  assert.equal(all.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(all.stdout, new RegExp(`\\n  ${name} ?`), `--help lists ${name}`);
});

test('every command name in the help table is one the CLI runs (none falls through to "unknown command")', async () => {
  for (const name of Object.keys(COMMANDS)) {
    const r = await box.cli([name, '--no-such-flag']);
    assert.doesNotMatch(r.stderr, /unknown command/, name);
  }
});

test('exit codes: 0 ok, 2 for a usage mistake (with the usage on stderr), 1 for a failure', async () => {
  const none = await box.cli([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^Usage: pocketkube/);
  for (const args of [['nope'], ['help', 'nope'], ['use', 'a', 'b'], ['talos', 'rbac', '--bogus'], ['whoami', '--bogus'], ['doctor', '--bogus'], ['completion', 'tcsh'], ['agent', '--install', '--uninstall'], ['ns', 'Not_A_Namespace']]) {
    const r = await box.cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr, /^pocketkube: .+\.\n$/);
  }
  const failure = await box.cli(['use', 'no-such-context']);
  assert.equal(failure.code, 1);
  assert.match(failure.stderr, /no context "no-such-context"/);
  assert.equal((await box.cli(['contexts'])).code, 0);
});

test('every command\'s output ends with a newline, on stdout and on stderr', async () => {
  await writeFile(box.env.KUBECONFIG!, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: one\n  context: {cluster: c, user: u}\ncurrent-context: one\n');
  const commands = [
    ['status'], ['status', '--json'], ['provider', 'list'], ['provider', 'list', '--json'], ['contexts'], ['contexts', '--json'], ['cluster', 'list'],
    ['use'], ['use', '--json'], ['ns'], ['doctor'], ['doctor', '--json'], ['talos', 'rbac', '--group', 'kubernetes'], ['completion', 'bash'], ['completion', 'zsh'],
    ['completion', 'fish'], ['help'], ['--version'], ['import-kubelogin', '--dry-run'], ['login'], ['whoami'],
  ];
  for (const args of commands) {
    const r = await box.cli(args, { env: { POCKETKUBE_HOME: path.join(box.dir, 'empty-home') } });
    for (const [stream, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
      if (text) assert.ok(text.endsWith('\n'), `pocketkube ${args.join(' ')}: ${stream} ends without a newline: ${JSON.stringify(text.slice(-40))}`);
    }
    assert.ok(r.stdout || r.stderr, `pocketkube ${args.join(' ')} printed something`);
  }
});

// `script` gives the CLI a real terminal, as an interactive shell would.
const onTerminal = (args: string[], env: NodeJS.ProcessEnv) =>
  run('script', ['-qec', [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], env);

test('colour only on a terminal, never with NO_COLOR, never when piped', async () => {
  const env = { ...box.env, POCKETKUBE_HOME: path.join(box.dir, 'colour-home'), TERM: 'xterm' };
  // A provider nobody answers for: doctor's discovery check fails at once (connection refused on loopback).
  assert.equal((await box.cli(['provider', 'add', 'p', '--issuer', 'https://127.0.0.1:9', '--client-id', 'x'], { env })).code, 0);
  const tty = await onTerminal(['doctor'], env);
  assert.match(tty.stdout, /\x1b\[31m✖/, 'a failed check is red on a terminal');
  const noColor = await onTerminal(['doctor'], { ...env, NO_COLOR: '1' });
  assert.match(noColor.stdout, /✖/);
  assert.doesNotMatch(noColor.stdout, /\x1b\[/);
  const piped = await box.cli(['doctor'], { env });
  assert.match(piped.stdout, /✖/);
  assert.doesNotMatch(piped.stdout + piped.stderr, /\x1b\[/);
});
