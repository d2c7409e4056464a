/**
 * A unified line diff (the `diff -u` format) for showing a kubeconfig change before it is made. Myers'
 * O((N+M)·D) algorithm after trimming the common head and tail; a change too large to diff line by line
 * (more than `maxEdits` lines differ) is shown as one hunk replacing the differing middle.
 */

export interface DiffOptions {
  /** Lines of context around each change (default 3). */
  context?: number;
  /** Bound on the line-level search (default 4,000 differing lines). */
  maxEdits?: number;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Lines with their endings, so a missing final newline or CRLF shows. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const i = text.indexOf('\n', pos);
    const end = i === -1 ? text.length : i + 1;
    out.push(text.slice(pos, end));
    pos = end;
  }
  return out;
}

/** The shortest edit script between a and b, or undefined when it needs more than maxD edits. */
function myers(a: string[], b: string[], maxD: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= Math.min(max, maxD); d++) {
    // Keep only the diagonals this round can reach: O(D²) memory in all.
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, d);
    }
  }
  return undefined;
}

function backtrack(a: string[], b: string[], trace: Int32Array[], dEnd: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const vd = trace[d]!; // v as it was before round d, diagonals -d-1 .. d+1
    const at = (k: number): number => vd[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: ' ', line: a[x]! });
    }
    if (x === prevX) {
      y--;
      ops.push({ kind: '+', line: b[y]! });
    } else {
      x--;
      ops.push({ kind: '-', line: a[x]! });
    }
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    ops.push({ kind: ' ', line: a[x]! });
  }
  return ops.reverse();
}

function show(op: Op): string[] {
  const body = op.line.endsWith('\n') ? op.line.slice(0, -1) : op.line;
  const out = [op.kind + body];
  if (!op.line.endsWith('\n')) out.push('\\ No newline at end of file');
  return out;
}

/** `start,count` as diff -u writes it: an empty range is numbered by the line before it. */
function range(before: number, count: number): string {
  const start = count === 0 ? before : before + 1;
  return count === 1 ? String(start) : `${start},${count}`;
}

/** `--- from` / `+++ to` and the hunks turning `before` into `after`; '' when they are equal. */
export function unifiedDiff(before: string, after: string, from: string, to: string, opts: DiffOptions = {}): string {
  if (before === after) return '';
  const context = opts.context ?? 3;
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const mid = myers(midA, midB, opts.maxEdits ?? 4000) ?? [
    ...midA.map((line): Op => ({ kind: '-', line })),
    ...midB.map((line): Op => ({ kind: '+', line })),
  ];
  // Only the context around the middle matters; line numbers count from the head.
  const lead = Math.min(head, context);
  const ops: Op[] = [
    ...a.slice(head - lead, head).map((line): Op => ({ kind: ' ', line })),
    ...mid,
    ...a.slice(a.length - tail, a.length - tail + context).map((line): Op => ({ kind: ' ', line })),
  ];
  const aBefore: number[] = [];
  const bBefore: number[] = [];
  let na = head - lead;
  let nb = head - lead;
  for (const op of ops) {
    aBefore.push(na);
    bBefore.push(nb);
    if (op.kind !== '+') na++;
    if (op.kind !== '-') nb++;
  }
  const changes = ops.map((op, j) => (op.kind === ' ' ? -1 : j)).filter((j) => j >= 0);
  const out = [`--- ${from}`, `+++ ${to}`];
  for (let c = 0; c < changes.length; ) {
    // A hunk: changes closer than 2·context lines to each other, with context around them.
    let last = c;
    while (last + 1 < changes.length && changes[last + 1]! - changes[last]! <= 2 * context + 1) last++;
    const start = Math.max(0, changes[c]! - context);
    const stop = Math.min(ops.length, changes[last]! + context + 1);
    const body: string[] = [];
    let countA = 0;
    let countB = 0;
    for (let j = start; j < stop; j++) {
      const op = ops[j]!;
      body.push(...show(op));
      if (op.kind !== '+') countA++;
      if (op.kind !== '-') countB++;
    }
    out.push(`@@ -${range(aBefore[start]!, countA)} +${range(bBefore[start]!, countB)} @@`, ...body);
    c = last + 1;
  }
  return out.join('\n') + '\n';
}
