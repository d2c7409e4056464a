/**
 * The promises a careful kubeconfig writer keeps: refuse rather than guess, never clobber what is not
 * ours, honour kubectl's locks without leaving any behind, keep modes, links and a backup.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { hugeConfig } from '../support/corpus.js';
import { addContext, isOurs, KubeconfigError, listContexts, removeContext, useContext, type FileOps, type WriteOptions } from '../../electron/core/kubeconfig/index.js';
import { CA_DATA, CA_PEM, EXEC, skipWithoutKubectl, kubectlView, leftovers, read, readBytes, tempDir } from '../support/kubeconfig.js';
import { WriteRecorder } from './write-recorder.js';

const BASE = `# team cluster, edited by hand
apiVersion: v1
kind: Config
clusters:
- name: homelab
  cluster:
    server: https://192.168.1.10:6443   # control plane VIP
    certificate-authority-data: ${CA_DATA}
users:
- name: admin@homelab
  user:
    token: hunter2
contexts:
- name: admin@homelab
  context:
    cluster: homelab
    namespace: default
    user: admin@homelab
current-context: admin@homelab
`;

function setup(content: string | null = BASE, name = 'config'): { dir: string; file: string } {
  const dir = tempDir();
  const file = path.join(dir, name);
  if (content !== null) fs.writeFileSync(file, content);
  return { dir, file };
}

const add = (files: string[], extra: Partial<Parameters<typeof addContext>[0]> = {}, io?: WriteOptions) =>
  addContext({ files, name: 'talos', provider: 'pocket-id', server: 'https://10.5.0.2:6443', caData: CA_DATA, exec: EXEC, ...extra }, io);

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<KubeconfigError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KubeconfigError, `a KubeconfigError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected a KubeconfigError');
}

describe('refusing to write', () => {
  test('a file that does not parse is left byte for byte, and the error names file and line', async () => {
    const broken = BASE.replace('users:\n', 'users:\n\t- name: tabbed\n');
    const { dir, file } = setup(broken);
    const e = await rejectsWith(add([file]), /line 10: this is not valid YAML .*; nothing was written$/);
    assert.equal(e.file, file);
    assert.equal(e.line, 10);
    assert.ok(e.message.startsWith(file), e.message);
    assert.equal(read(file), broken);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a broken second file stops writes to the first file too', async () => {
    const { dir, file } = setup();
    const second = path.join(dir, 'second');
    fs.writeFileSync(second, 'contexts: {a: 1}\n');
    for (const op of [() => add([file, second], { use: true }), () => useContext('admin@homelab', [file, second]), () => removeContext('admin@homelab', [file, second])]) {
      const e = await rejectsWith(op(), /second line 1: contexts: expected a list, found a mapping; nothing was written/);
      assert.equal(e.file, second);
    }
    assert.equal(read(file), BASE);
    assert.equal(read(second), 'contexts: {a: 1}\n');
    assert.deepEqual(leftovers(dir), []);
  });

  test('listContexts reports a broken file and still lists the others', async () => {
    const { dir, file } = setup();
    const second = path.join(dir, 'second');
    fs.writeFileSync(second, 'clusters:\n- name: x\n  cluster:\n    certificate-authority-data: "not base64!"\n');
    const r = await listContexts([second, file]);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.line, 4);
    assert.deepEqual(r.contexts.map((c) => c.name), ['admin@homelab']);
  });

  test('a file that is not UTF-8 is not touched', async () => {
    const { file } = setup(null);
    const bytes = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\napiVersion: v1\n')]);
    fs.writeFileSync(file, bytes);
    await rejectsWith(add([file]), /not UTF-8/);
    assert.ok(readBytes(file).equals(bytes));
  });

  test('a user of the same name that is not PocketKube’s is a clash: nothing written', async () => {
    const mine = BASE.replace('- name: admin@homelab\n  user:', '- name: pocket-id\n  user:\n    token: abc\n- name: admin@homelab\n  user:');
    const { dir, file } = setup(mine);
    const e = await rejectsWith(add([file]), /user "pocket-id" in .* line 10 already exists and uses a token \(rename it, or choose another provider name\); nothing was written/);
    assert.equal(e.line, 10);
    assert.equal(read(file), mine);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a cluster of the same name with another server is a clash: nothing written', async () => {
    const { file } = setup();
    await rejectsWith(add([file], { name: 'homelab' }), /cluster "homelab" .* already exists with server "https:\/\/192.168.1.10:6443" \(pass fromContext/);
    assert.equal(read(file), BASE);
  });

  test('a context of the same name for another cluster or user is a clash', async () => {
    const clash = BASE + 'preferences: {}\n';
    const { file } = setup(clash.replace('contexts:\n', 'contexts:\n- name: pocket-id@talos\n  context: {cluster: homelab, user: admin@homelab}\n'));
    const before = read(file);
    await rejectsWith(add([file]), /context "pocket-id@talos" .* already exists for cluster "homelab" and user "admin@homelab"/);
    assert.equal(read(file), before);
  });

  test('bad arguments are refused before anything is read', async () => {
    const { file } = setup();
    await assert.rejects(add([file], { exec: { command: 'pocketkube', args: [] } }), /absolute path/);
    await assert.rejects(add([file], { server: 'ftp://x' }), TypeError);
    await assert.rejects(add([file], { caData: 'not base64!' }), /base64/);
    await assert.rejects(add([file], { insecureSkipTlsVerify: true }), /CA together with insecure/);
    await assert.rejects(add([file], { namespace: 'Not_Valid' }), /namespace/);
    assert.equal(read(file), BASE);
  });

  test('useContext of a name that does not exist suggests close names', async () => {
    const { file } = setup();
    await rejectsWith(useContext('admin@homelap', [file]), /no context "admin@homelap" \(did you mean "admin@homelab"\?\); nothing was written/);
  });

  test('removeContext refuses a context whose user is not PocketKube’s, and ignores a missing one', async () => {
    const { file } = setup();
    await rejectsWith(removeContext('admin@homelab', [file]), /uses user "admin@homelab", which PocketKube did not write/);
    assert.deepEqual(await removeContext('nope', [file]), { removed: [], currentContextCleared: false, currentContext: 'admin@homelab' });
    assert.equal(read(file), BASE);
  });
});

describe('owning only what we wrote', () => {
  test('fromContext reuses an existing cluster entry untouched, and remove leaves it', async () => {
    const { file } = setup();
    const r = await addContext({ files: [file], name: '', provider: 'pocket-id', fromContext: 'admin@homelab', exec: EXEC, namespace: 'default' });
    assert.deepEqual(r, { context: 'pocket-id@homelab', cluster: 'homelab', user: 'pocket-id', file, changed: true });
    assert.ok(read(file).startsWith(BASE.slice(0, BASE.indexOf('users:'))), 'clusters untouched');
    await removeContext('pocket-id@homelab', [file]);
    assert.equal(read(file), BASE);
  });

  test('a cluster with the same server and CA is reused, not claimed', async () => {
    const { file } = setup();
    await add([file], { name: 'homelab', server: 'https://192.168.1.10:6443' });
    const r = await removeContext('pocket-id@homelab', [file]);
    assert.deepEqual(r.removed.map((x) => x.split(' ')[0]), ['context/pocket-id@homelab', 'user/pocket-id']);
    assert.equal(read(file), BASE);
  });

  test('our entries are updated in place, keeping comments and fields someone added to them', async () => {
    const { file } = setup();
    await add([file], { caData: undefined, caFile: undefined, insecureSkipTlsVerify: true });
    const edited = read(file)
      .replace('      provideClusterInfo: false\n', '      provideClusterInfo: false\n      # keep me\n      x-note: hand-added\n')
      .replace('    insecure-skip-tls-verify: true\n', '    insecure-skip-tls-verify: true\n    proxy-url: socks5://127.0.0.1:1080\n');
    fs.writeFileSync(file, edited);
    const caFile = path.join(path.dirname(file), 'ca.pem');
    fs.writeFileSync(caFile, CA_PEM);
    const r = await add([file], { server: 'https://10.5.0.3:6443', caData: undefined, caFile, exec: { ...EXEC, command: '/usr/local/bin/pocketkube', env: [{ name: 'POCKETKUBE_PROFILE', value: 'work' }] } });
    assert.equal(r.changed, true);
    const now = read(file);
    assert.match(now, /server: https:\/\/10\.5\.0\.3:6443/);
    assert.match(now, new RegExp(`certificate-authority-data: ${CA_DATA.replace(/[+/=]/g, '\\$&')}`));
    assert.doesNotMatch(now, /insecure-skip-tls-verify/);
    assert.match(now, /proxy-url: socks5:\/\/127.0.0.1:1080/);
    assert.match(now, /command: \/usr\/local\/bin\/pocketkube/);
    assert.match(now, /# keep me\n      x-note: hand-added/);
    assert.match(now, /env:\n      - name: POCKETKUBE_PROFILE\n        value: work/);
    const users = (await listContexts([file])).contexts.filter((c) => c.ours);
    assert.equal(users.length, 1);
  });

  test('our entries written in other styles are updated in those styles', async () => {
    const flowUser = BASE.replace(
      'users:\n',
      `users:\n- {name: pocket-id, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${EXEC.command}, args: [old], interactiveMode: Never, provideClusterInfo: false}}}\n`,
    );
    const { file } = setup(flowUser);
    await add([file], { exec: { ...EXEC, args: ['credential', '--profile', 'a b'] } });
    const text = read(file);
    assert.match(text, /args: \["credential", "--profile", "a b"\], interactiveMode: Never/);
    assert.match(text, /installHint: "Install PocketKube/);
    assert.equal(text.split('\n').filter((l) => l.includes('pocket-id, user')).length, 1);
    // Block style, a longer and then a shorter args list.
    await add([file], { exec: { ...EXEC, args: ['a', 'b', 'c', 'd'] } });
    const { file: block } = setup();
    await add([block], { exec: { ...EXEC, args: ['a', 'b', 'c', 'd'] } });
    await add([block], { exec: { ...EXEC, args: ['z'] } });
    assert.match(read(block), /      args:\n      - z\n      interactiveMode: Never/);
    await removeContext('pocket-id@talos', [block]);
    assert.equal(read(block), BASE);
  });

  test('kubectl reads a block-style args list that was shortened in place as the shorter list', { skip: skipWithoutKubectl }, async () => {
    const { file: block } = setup();
    await add([block], { exec: { ...EXEC, args: ['a', 'b', 'c', 'd'] } });
    await add([block], { exec: { ...EXEC, args: ['z'] } });
    const view = await kubectlView([block]);
    assert.deepEqual((view.users.find((u) => u.name === 'pocket-id')!.user['exec'] as { args: string[] }).args, ['z']);
  });

  test('a user shared by two contexts stays until the last one goes; the created cluster goes with its context', async () => {
    const { file } = setup();
    await add([file], { name: 'a', server: 'https://a:6443' });
    await add([file], { name: 'b', server: 'https://b:6443' });
    const first = await removeContext('pocket-id@a', [file]);
    assert.deepEqual(first.removed.map((x) => x.split(' ')[0]), ['context/pocket-id@a', 'cluster/a']);
    const second = await removeContext('pocket-id@b', [file]);
    assert.deepEqual(second.removed.map((x) => x.split(' ')[0]), ['context/pocket-id@b', 'user/pocket-id', 'cluster/b']);
    assert.equal(read(file), BASE);
  });

  test('removing the current context clears current-context in every file that names it', async () => {
    const { dir, file } = setup();
    const second = path.join(dir, 'second');
    fs.writeFileSync(second, 'current-context: pocket-id@talos\n');
    await add([file, second], { use: true });
    const r = await removeContext('pocket-id@talos', [file, second]);
    assert.equal(r.currentContextCleared, true);
    assert.equal(r.currentContext, undefined);
    assert.equal(read(second), 'current-context: ""\n');
    assert.match(read(file), /^current-context: ""$/m);
  });

  test('isOurs recognises PocketKube’s helper, however it is installed', () => {
    const user = (command: string, args: string[] = []) => ({ name: 'x', user: { exec: { command, args } } });
    assert.equal(isOurs(user('/Applications/PocketKube.app/Contents/Resources/bin/pocketkube')), true);
    assert.equal(isOurs(user('C:\\Program Files\\PocketKube\\resources\\bin\\pocketkube.exe')), true);
    assert.equal(isOurs(user('/usr/bin/node', ['/opt/pocketkube/dist/pocketkube-helper.js'])), true);
    assert.equal(isOurs({ exec: { command: '/usr/local/bin/pocketkube-credential' } }), true);
    assert.equal(isOurs(user('/usr/local/bin/kubelogin', ['get-token'])), false);
    assert.equal(isOurs(user('/usr/bin/node', ['/opt/other/tool.js'])), false);
    assert.equal(isOurs(user('/opt/notpocketkube')), false);
    assert.equal(isOurs({ name: 'x', user: { token: 'pocketkube' } }), false);
    assert.equal(isOurs(null), false);
  });
});

describe('files on disk', () => {
  test('mode is kept; backup holds the previous content, mode 0600, one file only', async () => {
    const { dir, file } = setup();
    fs.chmodSync(file, 0o640);
    await add([file]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    const bak = file + '.pocketkube.bak';
    assert.equal(read(bak), BASE);
    assert.equal(fs.statSync(bak).mode & 0o777, 0o600);
    const afterAdd = read(file);
    await useContext('pocket-id@talos', [file]);
    assert.equal(read(bak), afterAdd, 'the backup is the content just before the last write');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['config', 'config.pocketkube.bak']);
  });

  test('a new file is created 0600 in new directories 0700', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'home', '.kube', 'config');
    await add([file]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(fs.existsSync(file + '.pocketkube.bak'), false);
    assert.match(read(file), /^apiVersion: v1\nkind: Config\nclusters:\n/);
  });

  test('a kubeconfig that is a symlink stays a symlink; the file it points to is edited', async () => {
    const dir = tempDir();
    const real = path.join(dir, 'dotfiles', 'kubeconfig.yaml');
    fs.mkdirSync(path.dirname(real));
    fs.writeFileSync(real, BASE);
    const link = path.join(dir, '.kube', 'config');
    fs.mkdirSync(path.dirname(link));
    fs.symlinkSync('../dotfiles/kubeconfig.yaml', link);
    await add([link]);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.match(read(real), /name: pocket-id@talos/);
    assert.equal(read(real + '.pocketkube.bak'), BASE);
  });

  test('adding to a 5,000-context file reads, plans and writes its temp file before taking kubectl\'s lock, then holds it for one rename', { skip: skipWithoutKubectl }, async () => {
    // How long that takes is `npm run bench lock`'s figure; here, the order of the steps.
    const huge = hugeConfig();
    const { dir, file } = setup(huge);
    const lock = file + '.lock';
    // Another program holds the lock as we start: all we do before waiting for it is done outside the lock.
    fs.writeFileSync(lock, '');
    let atFirstWait: { backup: string | null; temps: string[] } | undefined;
    const writes = new WriteRecorder(() => {
      if (atFirstWait) return;
      const others = fs.readdirSync(dir).filter((n) => !['config', 'config.lock', 'config.pocketkube.bak'].includes(n));
      atFirstWait = { backup: fs.existsSync(file + '.pocketkube.bak') ? read(file + '.pocketkube.bak') : null, temps: others.map((n) => read(path.join(dir, n))) };
      fs.rmSync(lock); // the other program lets go
    });
    const underLock: string[] = [];
    const ops: FileOps = {
      rename: (from, to) => {
        underLock.push(`rename to ${path.basename(to)}${fs.existsSync(lock) ? ', lock held' : ''}`);
        fs.renameSync(from, to);
      },
      writeFile: (f, data) => {
        underLock.push(`write ${path.basename(f)}`);
        fs.writeFileSync(f, data);
      },
      unlink: (f) => {
        underLock.push(`unlink ${path.basename(f)}`);
        fs.unlinkSync(f);
      },
    };
    await add([file], { use: true }, { observer: writes, fs: ops });
    const written = read(file);
    assert.ok(atFirstWait, 'the writer waited for the lock');
    assert.equal(atFirstWait.backup, huge, 'the file was read and backed up before the lock');
    assert.deepEqual(atFirstWait.temps, [written], 'the new text was parsed, edited, serialised and written to a temp file before the lock');
    assert.deepEqual(underLock, ['rename to config, lock held'], 'the only file operation under the lock is one rename');
    assert.equal(writes.commits, 1);
    assert.equal(fs.existsSync(lock), false, 'our lock is gone');
    assert.deepEqual(leftovers(dir), []);
    const view = await kubectlView([file]);
    assert.equal(view.contexts.length, 5001);
    await removeContext('pocket-id@talos', [file]);
    assert.equal(read(file), huge.replace('current-context: c4999', 'current-context: ""'));
  });
});

describe('kubectl’s lock', () => {
  test('an existing lock makes us wait, then fail clearly; the lock is not ours to remove', async () => {
    const { dir, file } = setup();
    fs.writeFileSync(file + '.lock', '');
    const writes = new WriteRecorder();
    const started = performance.now();
    const e = await rejectsWith(
      add([file], {}, { lock: { timeoutMs: 200 }, observer: writes }),
      /is locked by another program \(.*config\.lock\); if no kubectl is running, delete it; nothing was written/,
    );
    assert.ok(performance.now() - started >= 200);
    assert.ok(writes.busy >= 5, `${writes.busy} waits`);
    assert.equal(e.file, file);
    assert.equal(read(file), BASE);
    assert.ok(fs.existsSync(file + '.lock'));
    fs.unlinkSync(file + '.lock');
    assert.deepEqual(leftovers(dir), []);
  });

  test('we go ahead as soon as the other program lets go', async () => {
    const { dir, file } = setup();
    fs.writeFileSync(file + '.lock', '');
    const r = await add([file], {}, { observer: new WriteRecorder(() => fs.rmSync(file + '.lock', { force: true })) });
    assert.equal(r.changed, true);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a change made while we waited is re-read, never overwritten', async () => {
    const { dir, file } = setup();
    fs.writeFileSync(file + '.lock', '');
    const writes = new WriteRecorder(() => {
      // What kubectl does while holding its lock: rewrite the file.
      fs.writeFileSync(file, read(file).replace('contexts:\n', 'contexts:\n- name: written-meanwhile\n  context: {cluster: homelab, user: admin@homelab}\n'));
      fs.rmSync(file + '.lock');
    });
    await add([file], {}, { observer: writes });
    assert.equal(writes.retries, 1);
    const names = (await listContexts([file])).contexts.map((c) => c.name);
    assert.deepEqual(names, ['written-meanwhile', 'admin@homelab', 'pocket-id@talos']);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a file caught half-written by kubectl is read again under its lock, not reported broken', async () => {
    const { dir, file } = setup();
    // kubectl truncates and rewrites in place while holding its lock; we read in the middle.
    fs.writeFileSync(file, BASE.slice(0, BASE.indexOf('users:') + 20));
    fs.writeFileSync(file + '.lock', '');
    const writes = new WriteRecorder(() => {
      fs.writeFileSync(file, BASE);
      fs.rmSync(file + '.lock');
    });
    const r = await add([file], {}, { observer: writes });
    assert.equal(r.changed, true);
    assert.ok(read(file).startsWith(BASE.slice(0, BASE.indexOf('users:'))));
    assert.deepEqual(leftovers(dir), []);
  });

  test('a write that fails under the lock leaves no lock, no temp file and the file as it was', async () => {
    const { dir, file } = setup();
    // A disk that fails the first rename: the moment between the temp file's write and its rename.
    const failing = {
      rename: () => {
        assert.ok(fs.existsSync(file + '.lock'), 'the lock is held during the commit');
        throw new Error('disk full');
      },
      writeFile: (f: string, data: Buffer) => fs.writeFileSync(f, data),
      unlink: (f: string) => fs.unlinkSync(f),
    };
    await rejectsWith(add([file], {}, { fs: failing }), /cannot be replaced \(disk full\); nothing was written/);
    assert.equal(read(file), BASE);
    assert.deepEqual(leftovers(dir), []);
  });

  test('when the second file of a write cannot be replaced, the first is put back as it was', async () => {
    const { dir, file } = setup();
    await add([file]);
    const first = read(file);
    // A later file with its own copy of our context: removing it changes both files in one write.
    const second = path.join(dir, 'second');
    const secondText = 'apiVersion: v1\nkind: Config\ncontexts:\n- name: pocket-id@talos\n  context: {cluster: talos, user: pocket-id}\n';
    fs.writeFileSync(second, secondText);
    let renames = 0;
    const failsOnSecond = {
      rename: (from: string, to: string) => {
        if (++renames === 2) throw new Error('disk full');
        fs.renameSync(from, to);
      },
      writeFile: (f: string, data: Buffer) => fs.writeFileSync(f, data),
      unlink: (f: string) => fs.unlinkSync(f),
    };
    await rejectsWith(removeContext('pocket-id@talos', [file, second], { fs: failsOnSecond }), /second: cannot be replaced \(disk full\); nothing was written/);
    assert.equal(renames, 2, 'the first file was replaced before the second failed');
    assert.equal(read(file), first);
    assert.equal(read(second), secondText);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a lock left by a PocketKube process that died is cleared', async () => {
    const { dir, file } = setup();
    const child = spawn(process.execPath, ['-e', 'process.exit(0)']);
    await new Promise((r) => child.on('exit', r));
    fs.writeFileSync(file + '.lock', `pocketkube-lock pid=${child.pid} host=${(await import('node:os')).hostname()}\n`);
    await add([file], {}, { lock: { timeoutMs: 200 } });
    assert.deepEqual(leftovers(dir), []);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`a process holding our lock that gets ${signal} removes it on the way out`, async () => {
      const { dir, file } = setup();
      const lockModule = new URL('../../electron/core/kubeconfig/lock.js', import.meta.url).href;
      const child = spawn(
        process.execPath,
        ['--input-type=module', '-e', `import { acquireLocks } from ${JSON.stringify(lockModule)}; await acquireLocks([${JSON.stringify(file)}]); console.log('locked'); setInterval(() => {}, 1000);`],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()));
      assert.ok(fs.existsSync(file + '.lock'));
      child.kill(signal);
      const [code, sig] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
      assert.equal(sig, signal, `the process still dies of ${signal} (exit ${code})`);
      assert.deepEqual(leftovers(dir), []);
    });
  }

  test('no lock is taken at all when nothing changes', async () => {
    const { file } = setup();
    await add([file]);
    fs.writeFileSync(file + '.lock', '');
    const r = await add([file], {}, { lock: { timeoutMs: 50 } });
    assert.equal(r.changed, false);
    fs.unlinkSync(file + '.lock');
  });
});

