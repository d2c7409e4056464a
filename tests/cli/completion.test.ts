/**
 * The completion scripts, loaded in the real shells: bash's `complete -p` and `_pocketkube` driven with
 * COMP_WORDS/COMP_CWORD, zsh's compsys registration and function, fish's own `complete -C`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { run } from '../support/run.js';
import { sandbox, type Sandbox } from './cli.js';
import { inCI } from '../support/ci.js';

let box: Sandbox;
before(async () => {
  box = sandbox('pk-completion-');
  await writeFile(
    box.env.KUBECONFIG!,
    'apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: x}\n' +
      'contexts:\n- name: admin@prod\n  context: {cluster: prod, user: u}\n- name: pocket-id@prod\n  context: {cluster: prod, user: u}\n' +
      '- name: "arn:aws:eks:eu-west-1:123:cluster/prod"\n  context: {cluster: prod, user: u}\ncurrent-context: admin@prod\n',
  );
  const add = await box.cli(['provider', 'add', 'pocket-id', '--issuer', 'https://id.example.com', '--client-id', 'abc']);
  assert.equal(add.code, 0, add.stderr);
});
after(() => box.remove());

// A shell's absence fails in CI (.ci/run installs them) and skips only on a developer's machine.
function shell(name: string): string | false {
  const file = `/usr/bin/${name}`;
  if (existsSync(file)) return file;
  if (inCI()) throw new Error(`${file} is missing: .ci/run installs ${name} for the completion tests`);
  return false;
}

/**
 * What bash's _pocketkube offers for the command line `line` (the cursor at its end), with COMP_LINE,
 * COMP_POINT, COMP_WORDS and COMP_CWORD set as bash sets them (COMP_WORDS split at COMP_WORDBREAKS, ":" too).
 */
async function bashOffers(words: string[]): Promise<string[]> {
  const line = ['pocketkube', ...words].join(' ');
  const script = [
    'source <(pocketkube completion bash)',
    `COMP_LINE=${shq(line)}; COMP_POINT=\${#COMP_LINE}`,
    // bash's own word splitting of the line (readline's, for the default COMP_WORDBREAKS)
    `COMP_WORDS=(${bashWords(line).map(shq).join(' ')}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))`,
    '_pocketkube',
    'printf \'%s\\n\' "${COMPREPLY[@]}"',
  ].join('\n');
  const r = await run('/bin/bash', ['--norc', '-c', script], box.env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Readline's split for the words used here: spaces separate words, and each ":", "@" or "=" is a word of its own. */
function bashWords(line: string): string[] {
  const words = line.split(' ').flatMap((w) => w.split(/([:@=])/).filter((p) => p !== ''));
  if (line.endsWith(' ')) words.push('');
  return words.length ? words : [''];
}

test('bash: the script registers _pocketkube for pocketkube', async () => {
  const r = await run('/bin/bash', ['--norc', '-c', 'source <(pocketkube completion bash) && complete -p pocketkube'], box.env);
  assert.equal(r.stdout, 'complete -F _pocketkube pocketkube\n');
});

test('bash: commands, subcommands and flags', async () => {
  assert.deepEqual(await bashOffers(['us']), ['use']);
  assert.ok((await bashOffers([''])).includes('completion'));
  assert.deepEqual(await bashOffers(['provider', '']), ['add', 'list', 'remove']);
  assert.deepEqual(await bashOffers(['cluster', 'add', '--from-c']), ['--from-context']);
  assert.deepEqual(await bashOffers(['status', '--']), ['--json', '--help']);
  assert.deepEqual(await bashOffers(['completion', '']), ['bash', 'zsh', 'fish']);
});

test('bash: context and provider names, read from the kubeconfig and the settings', async () => {
  assert.deepEqual(await bashOffers(['use', '']), ['admin@prod', 'pocket-id@prod', 'arn:aws:eks:eu-west-1:123:cluster/prod', '-']);
  assert.deepEqual(await bashOffers(['use', 'po']), ['pocket-id@prod']);
  assert.deepEqual(await bashOffers(['cluster', 'add', '--provider', 'pocket-id', '--from-context', 'ad']), ['admin@prod']);
  assert.deepEqual(await bashOffers(['login', '']), ['pocket-id']);
  assert.deepEqual(await bashOffers(['doctor', '--provider', '']), ['pocket-id']);
  // After the one positional argument, only flags remain.
  assert.deepEqual(await bashOffers(['login', 'pocket-id', '']), ['--no-browser', '--device']);
});

test('bash: context names with ":" or "@" complete whole, though bash splits words there', async () => {
  // bash replaces only the text after the last word break, so the reply is the rest of the name from there.
  assert.deepEqual(await bashOffers(['use', 'arn:aws:e']), ['eks:eu-west-1:123:cluster/prod']);
  assert.deepEqual(await bashOffers(['use', 'pocket-id@']), ['prod']);
  assert.deepEqual(await bashOffers(['use', 'ar']), ['arn:aws:eks:eu-west-1:123:cluster/prod']);
});

test('bash: a file flag completes file names', async () => {
  await writeFile(`${box.dir}/controlplane.yaml`, 'version: v1alpha1\n');
  assert.deepEqual(await bashOffers(['talos', 'patch', '--machine-config', `${box.dir}/control`]), [`${box.dir}/controlplane.yaml`]);
});

test('zsh: the script registers with compsys and offers the same words', async (t) => {
  const zsh = shell('zsh');
  if (!zsh) return t.skip('zsh is not installed here');
  // compadd is replaced by a function that prints what it was given, so the script's own logic runs in zsh.
  const script = [
    'autoload -U compinit && compinit -u -D',
    'source <(pocketkube completion zsh)',
    'print -r -- "registered: $_comps[pocketkube]"',
    'compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }',
    "words=(pocketkube use ''); CURRENT=3; _pocketkube",
    "words=(pocketkube lo); CURRENT=2; _pocketkube",
  ].join('\n');
  const r = await run(zsh, ['-f', '-c', script], box.env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean), ['registered: _pocketkube', 'admin@prod', 'pocket-id@prod', 'arn:aws:eks:eu-west-1:123:cluster/prod', '-', 'login', 'logout']);
});

test('fish: fish\'s own completion engine offers commands and contexts', async (t) => {
  const fish = shell('fish');
  if (!fish) return t.skip('fish is not installed here');
  const r = await run(fish, ['--no-config', '-c', 'pocketkube completion fish | source; complete -C"pocketkube us"; complete -C"pocketkube use "; complete -C"pocketkube login "'], box.env);
  assert.equal(r.code, 0, r.stderr);
    // fish sorts what it offers.
  assert.deepEqual(r.stdout.split('\n').filter(Boolean), ['use', 'admin@prod', 'arn:aws:eks:eu-west-1:123:cluster/prod', 'pocket-id@prod', '-', 'pocket-id']);
});
