/**
 * `npm test`: node's test runner over the built tests, then a summary of every skip. Under CI (`CI` set) a
 * skip is a real part missing, so it fails the run; the one exception is the Electron smoke tests without
 * an Electron binary, which cannot be downloaded where CI runs. Outside CI skips are listed and allowed.
 *
 *   node dist/tests/support/test-run.js [paths...]   (default: dist/electron dist/tests)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SkipRecord } from './skip-reporter.js';
import { inCI } from './ci.js';

/** The only skip CI allows: the smoke tests in tests/electron/smoke.test.ts, for want of Electron's binary. */
export function isAllowedSkip(skip: SkipRecord): boolean {
  return skip.kind === 'skip' && /(^|[\\/])tests[\\/]electron[\\/]smoke\.test\.[cm]?js$/.test(skip.file) && /no Electron binary/.test(skip.reason);
}

/** Where a skip is in the TypeScript source, through the built file's source map; else where node saw it. */
export function sourceOf(skip: SkipRecord, cwd = process.cwd()): string {
  const seen = `${path.relative(cwd, skip.file) || skip.file}${skip.line ? `:${skip.line}` : ''}`;
  if (!skip.line) return seen;
  try {
    const payload = JSON.parse(fs.readFileSync(`${skip.file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0] & { sources: string[] };
    const entry = new SourceMap(payload).findEntry(skip.line - 1, (skip.column ?? 1) - 1) as { originalSource?: string; originalLine?: number };
    if (!entry.originalSource || entry.originalLine === undefined) return seen;
    const source = path.resolve(path.dirname(skip.file), entry.originalSource);
    return `${path.relative(cwd, source)}:${entry.originalLine + 1}`;
  } catch {
    return seen; // no source map: a plain JavaScript test file
  }
}

export interface Verdict {
  /** Lines to print after node's own summary. */
  lines: string[];
  failed: boolean;
}

/** What the run's summary says about `skips`, and whether they fail it. */
export function judgeSkips(skips: SkipRecord[], ci: boolean, cwd = process.cwd()): Verdict {
  const allowed = skips.filter(isAllowedSkip);
  const others = skips.filter((s) => !isAllowedSkip(s));
  const lines: string[] = [];
  if (allowed.length) {
    lines.push(`test-run: ${allowed.length} Electron smoke test(s) skipped: no Electron binary here (the only skip CI allows; run them where Electron's binary is installed: \`npx install-electron\`).`);
  }
  if (!others.length) {
    lines.push(allowed.length ? 'test-run: no other test skipped.' : 'test-run: no test skipped.');
    return { lines, failed: false };
  }
  lines.push(
    ci
      ? `test-run: ${others.length} test(s) or suite(s) skipped under CI, where only the Electron smoke tests may skip; install what each one names (.ci/run does) — failing the run:`
      : `test-run: ${others.length} test(s) or suite(s) skipped (allowed outside CI; with CI=true they fail the run):`,
  );
  for (const s of others) lines.push(`  ${s.kind} ${sourceOf(s, cwd)} "${s.name}": ${s.reason}`);
  return { lines, failed: ci };
}

function readSkips(file: string): SkipRecord[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    /* no skip written */
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SkipRecord);
}

async function main(): Promise<number> {
  const paths = process.argv.slice(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-test-run-'));
  const skipsFile = path.join(dir, 'skips.jsonl');
  const reporter = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'skip-reporter.js')).href;
  const child = spawn(
    process.execPath,
    [
      '--test',
      '--test-concurrency=1',
      '--test-timeout=300000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${skipsFile}`,
      ...(paths.length ? paths : ['dist/electron', 'dist/tests']),
    ],
    { stdio: 'inherit' },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1))));
  const verdict = judgeSkips(readSkips(skipsFile), inCI());
  fs.rmSync(dir, { recursive: true, force: true });
  for (const line of verdict.lines) process.stdout.write(`${line}\n`);
  return code !== 0 ? code : verdict.failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await main();
}
