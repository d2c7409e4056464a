import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveHome, type Home } from '../../electron/core/platform/home.js';
import { MemorySecretStore } from '../../electron/core/session/secret-store.js';
import { ProviderRegistry, providerFromInput } from '../../electron/core/session/providers.js';
import { AgentClient } from '../../electron/client/agent-client.js';
import { probeSocket } from '../../electron/agent/server.js';
import { Agent, AgentAlreadyRunningError } from '../../electron/agent/agent.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pk-lock-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let homes = 0;
const newHome = (): Home => resolveHome({ POCKETKUBE_HOME: path.join(dir, `h${++homes}`) });
const newAgent = (home: Home, lockGraceMs = 300) => new Agent({ home, store: new MemorySecretStore(), lockGraceMs, kubeconfigFiles: [] });

/**
 * The delay hook for the race (tests only): every write of agent.pid or its temp file waits, as a busy
 * machine may between creating the file and filling it. Node's fs/promises functions are patched through
 * the CommonJS object and synced into the ES module bindings the agent imported.
 */
async function withSlowPidWrites<T>(ms: number, run: () => Promise<T>): Promise<T> {
  const fsp = fs.promises as unknown as Record<string, unknown>;
  const original = { open: fs.promises.open, writeFile: fs.promises.writeFile };
  const slow = (file: unknown) => String(file).includes('agent.pid');
  const delay = () => new Promise((r) => setTimeout(r, ms));
  fsp.open = async (...args: Parameters<typeof fs.promises.open>) => {
    const fh = await original.open(...args);
    if (!slow(args[0])) return fh;
    const write = fh.writeFile.bind(fh);
    fh.writeFile = (async (...w: Parameters<typeof fh.writeFile>) => {
      await delay();
      return write(...w);
    }) as typeof fh.writeFile;
    return fh;
  };
  fsp.writeFile = async (...args: Parameters<typeof fs.promises.writeFile>) => {
    if (slow(args[0])) await delay();
    return original.writeFile(...args);
  };
  syncBuiltinESMExports();
  try {
    return await run();
  } finally {
    fsp.open = original.open;
    fsp.writeFile = original.writeFile;
    syncBuiltinESMExports();
  }
}

test('two agents starting at once for one home, with a slow pid-file write: exactly one starts', async () => {
  for (let round = 0; round < 4; round++) {
    const home = newHome();
    const agents = [newAgent(home), newAgent(home)];
    const results = await withSlowPidWrites(150, () => Promise.allSettled(agents.map((a) => a.start())));
    const started = agents.filter((_, i) => results[i]!.status === 'fulfilled');
    try {
      assert.equal(started.length, 1, `round ${round}: ${started.length} agents started`);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(refused.reason instanceof AgentAlreadyRunningError, String(refused.reason));
      assert.match(refused.reason.message, /already running/);
      assert.equal(await probeSocket(home.socketPath), true, 'the winner serves the socket');
      assert.equal((await readFile(home.pidFile, 'utf8')).split('\n')[0], String(process.pid), "agent.pid's first line is the live agent's pid");
    } finally {
      await Promise.all(started.map((a) => a.stop()));
    }
  }
});

test('a stale agent.pid whose pid now belongs to another live process does not block a start', async () => {
  const home = newHome();
  await mkdir(home.dir, { recursive: true, mode: 0o700 });
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await writeFile(home.pidFile, `${other.pid}\n`, { mode: 0o600 });
    const agent = newAgent(home);
    await agent.start();
    try {
      const status = await new AgentClient(home.socketPath).request<{ agent: { pid: number } }>('GET', '/v1/status');
      assert.equal(status.agent.pid, process.pid);
      assert.equal((await readFile(home.pidFile, 'utf8')).split('\n')[0], String(process.pid));
    } finally {
      await agent.stop();
    }
    assert.equal(fs.existsSync(home.pidFile), false, 'stop releases the lock');
  } finally {
    other.kill();
  }
});

test('an agent that holds the lock and starts listening within the grace is respected', async () => {
  const home = newHome();
  await mkdir(home.dir, { recursive: true, mode: 0o700 });
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  const server = net.createServer((s) => s.destroy());
  try {
    await writeFile(home.pidFile, `${other.pid}\nstarting-agent\n`, { mode: 0o600 });
    const starting = newAgent(home, 5_000).start();
    setTimeout(() => server.listen(home.socketPath), 300);
    await assert.rejects(starting, (err: Error) => err instanceof AgentAlreadyRunningError && err.message.includes(`pid ${other.pid}`));
    assert.equal(await readFile(home.pidFile, 'utf8'), `${other.pid}\nstarting-agent\n`, "the other agent's lock is untouched");
  } finally {
    server.close();
    other.kill();
  }
});

test('an over-long socket path is refused with one sentence before anything is created', async () => {
  const parent = path.join(dir, 'long');
  await mkdir(parent);
  const home = resolveHome({ POCKETKUBE_HOME: path.join(parent, 'x'.repeat(120)) });
  const agent = newAgent(home);
  await assert.rejects(agent.start(), /socket path .* is \d+ bytes, over the 10[37]-byte limit for Unix sockets here; set POCKETKUBE_HOME to a shorter folder/);
  assert.deepEqual(await readdir(parent), [], 'no home folder and no socket cut short in the parent folder');
});

test('a start that fails after its sessions began stops them and gives the lock back', async () => {
  const home = newHome();
  await mkdir(home.dir, { recursive: true, mode: 0o700 });
  await new ProviderRegistry(home.settingsFile).upsert(providerFromInput({ name: 'pid', issuer: 'https://id.example.com', clientId: 'kube' }));
  await mkdir(home.socketPath); // listen fails: the path is taken by a folder
  const agent = newAgent(home);
  await assert.rejects(agent.start(), /EADDRINUSE/);
  assert.equal(agent.sessions.size, 0, 'no session left running');
  assert.equal(fs.existsSync(home.pidFile), false, 'the lock is released');
  await rm(home.socketPath, { recursive: true });
  const next = newAgent(home);
  await next.start();
  await next.stop();
});
