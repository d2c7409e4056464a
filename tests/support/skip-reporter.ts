/**
 * A node:test reporter that writes one JSON line per skipped or todo test or suite (file, line, name,
 * reason), for test-run.ts to judge. A skipped `describe` is one line here: node's own summary does not
 * count it at all, which is how whole suites used to vanish.
 */
import type { TestEvent } from 'node:test/reporters';

export interface SkipRecord {
  kind: 'skip' | 'todo';
  file: string;
  line?: number;
  column?: number;
  name: string;
  reason: string;
}

export default async function* skipReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data as { name: string; file?: string; line?: number; column?: number; skip?: string | boolean; todo?: string | boolean };
    for (const kind of ['skip', 'todo'] as const) {
      const flag = data[kind];
      if (flag === undefined || flag === false) continue;
      const record: SkipRecord = { kind, file: data.file ?? '(unknown file)', name: data.name, reason: typeof flag === 'string' ? flag : '(no reason given)' };
      if (data.line !== undefined) record.line = data.line;
      if (data.column !== undefined) record.column = data.column;
      yield `${JSON.stringify(record)}\n`;
    }
  }
}
