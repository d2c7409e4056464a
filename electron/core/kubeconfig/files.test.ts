/**
 * Which files kubectl reads, as one rule: KUBECONFIG split on the platform's list separator, empty entries
 * and repeats dropped (the first kept), ~/.kube/config when nothing is left. tests/kubeconfig/kubectl-parity
 * checks the same lists against the real kubectl.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { kubeconfigFiles, resolveFiles } from './files.js';

const sep = path.delimiter;
const HOME = '/home/jo';
const DEFAULT = path.join(HOME, '.kube', 'config');

describe('kubeconfigFiles', () => {
  test('splits KUBECONFIG like kubectl: no empties, no repeats, default ~/.kube/config', () => {
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: `/a${sep}${sep}/b${sep}/a${sep}` }, HOME), ['/a', '/b']);
    assert.deepEqual(kubeconfigFiles({}, HOME), [DEFAULT]);
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: '' }, HOME), [DEFAULT]);
  });

  test('a repeated file keeps its first place, not its last', () => {
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: ['/b', '/a', '/b'].join(sep) }, HOME), ['/b', '/a']);
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: ['/a', '/a', '/a'].join(sep) }, HOME), ['/a']);
  });

  test('empty entries anywhere in the list are skipped', () => {
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: `${sep}/a` }, HOME), ['/a']);
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: `/a${sep}` }, HOME), ['/a']);
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: `/a${sep}${sep}${sep}/b` }, HOME), ['/a', '/b']);
  });

  test('a KUBECONFIG of separators only falls back to ~/.kube/config, so a writer has a file', () => {
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: sep }, HOME), [DEFAULT]);
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: sep.repeat(3) }, HOME), [DEFAULT]);
  });

  test('entries are taken as written: no trimming, no resolving', () => {
    assert.deepEqual(kubeconfigFiles({ KUBECONFIG: ['a', './a', ' /b'].join(sep) }, HOME), ['a', './a', ' /b']);
  });
});

describe('resolveFiles', () => {
  test('a list the caller names is cleaned by the same rules', () => {
    assert.deepEqual(resolveFiles(['/b', '', '/a', '/b']), ['/b', '/a']);
  });

  test('no list, or an empty one, means the files kubectl reads', () => {
    assert.deepEqual(resolveFiles(), kubeconfigFiles());
    assert.deepEqual(resolveFiles([]), kubeconfigFiles());
  });

  test('a list of empty names only is refused, not read as the default', () => {
    assert.throws(() => resolveFiles(['', '']), /no kubeconfig file given/);
  });
});
