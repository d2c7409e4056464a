/**
 * A YAML parse error in words for the file's owner: the yaml library's reason without its "at line N,
 * column M:" tail, at a line the file has. At the end of the file the library points one line past the last
 * (where it gave up looking for a `]`, `}` or quote), so the line is the one where the unclosed bracket or
 * quote opened, and the reason says so.
 */
import { isCollection, isNode, isScalar, visit, type Document, type YAMLError } from 'yaml';

export interface YamlProblem {
  /** 1-based, always a line of the text. */
  line: number;
  /** One clause, no position in it: "the [ here is never closed". */
  reason: string;
}

const CLOSER: Record<string, string> = { '[': ']', '{': '}', '"': '"', "'": "'" };

function lineAt(text: string, offset: number): number {
  return text.slice(0, Math.max(0, offset)).split('\n').length;
}

/** The innermost flow collection or quoted scalar that opens before `before` and is still open at the end of `text`. */
function unclosedOpener(doc: Document | undefined, text: string, before: number): number | undefined {
  if (!doc) return undefined;
  let found: number | undefined;
  visit(doc, (_key, node) => {
    if (!isNode(node) || !node.range) return;
    const opens = (isCollection(node) && node.flow) || (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE'));
    const start = node.range[0];
    const closer = CLOSER[text[start] ?? ''];
    if (!opens || !closer || start >= before) return;
    const body = text.slice(start, node.range[1]).trimEnd();
    if (body.length > 1 && body.endsWith(closer)) return;
    if (found === undefined || start > found) found = start;
  });
  return found;
}

/** Where `error` (from parsing `text` into `doc`) is, and what is wrong there. */
export function yamlProblem(text: string, error: YAMLError, doc?: Document): YamlProblem {
  const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const contentEnd = text.trimEnd().length;
  const lastLine = lineAt(text, contentEnd);
  const reported = error.linePos?.[0]?.line ?? lineAt(text, error.pos[0]);
  if (error.pos[0] >= contentEnd) {
    const opener = unclosedOpener(doc, text, contentEnd);
    if (opener !== undefined) return { line: lineAt(text, opener), reason: `the ${text[opener]} here is never closed` };
  }
  return { line: Math.min(reported, lastLine), reason };
}
