import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KubeconfigError } from './errors.js';
import { parseKubeconfig } from './parse.js';

/** The KubeconfigError parseKubeconfig throws for `text`; anything else fails the test. */
function refusal(text: string): KubeconfigError {
  try {
    parseKubeconfig('/tmp/kube/config', text);
  } catch (e) {
    if (e instanceof KubeconfigError) return e;
    throw e;
  }
  assert.fail('the text was accepted');
}

describe('parseKubeconfig: a YAML error at the end of the file names a line the file has', () => {
  const HEAD = 'apiVersion: v1\nkind: Config\n';
  const cases: { name: string; text: string; line: number; opener: string }[] = [
    { name: 'an unclosed [ on the last line', text: 'apiVersion: v1\nclusters: [\n', line: 2, opener: '[' },
    { name: 'an unclosed [ without a final newline', text: 'apiVersion: v1\nclusters: [', line: 2, opener: '[' },
    { name: 'an unclosed [ followed by blank lines', text: `${HEAD}clusters: [\n\n\n`, line: 3, opener: '[' },
    { name: 'an unclosed [ with items after it', text: `${HEAD}contexts: [\n  {name: a},\n  {name: b}\n`, line: 3, opener: '[' },
    { name: 'an unclosed {', text: `${HEAD}preferences: {\n`, line: 3, opener: '{' },
    { name: 'an unclosed double quote', text: `${HEAD}current-context: "admin@prod\n`, line: 3, opener: '"' },
    { name: "an unclosed single quote spanning lines", text: `${HEAD}current-context: 'admin\n  @prod\n`, line: 3, opener: "'" },
  ];
  for (const c of cases) {
    test(`${c.name}: the line where it opened, which exists in the file`, () => {
      const e = refusal(c.text);
      const lines = c.text.replace(/\n$/, '').split('\n').length;
      assert.ok(e.line !== undefined && e.line >= 1 && e.line <= lines, `line ${e.line} of a ${lines}-line file`);
      assert.equal(e.line, c.line);
      assert.ok(c.text.split('\n')[e.line - 1]!.includes(c.opener), `line ${e.line} holds the ${c.opener}`);
      assert.equal(e.message, `/tmp/kube/config line ${c.line}: this is not valid YAML (the ${c.opener} here is never closed)`);
    });
  }

  test('an error in the middle of the file keeps the yaml library\'s line and reason, without its position tail', () => {
    const e = refusal(`${HEAD}current-context: one: two\nclusters: []\n`);
    assert.equal(e.line, 3);
    assert.match(e.message, /^\/tmp\/kube\/config line 3: this is not valid YAML \([^)]*[^:]\)$/);
    assert.doesNotMatch(e.message, /at line|column/);
  });
});
