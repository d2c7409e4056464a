/**
 * Values and errors spelled as kube-apiserver (Go) spells them, so that the stand-in's messages read like
 * the real server's: quoted values, field errors, aggregated lists, Go slices and times.
 */
export const q = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

export const fRequired = (p: string, detail = ''): string => `${p}: Required value${detail ? `: ${detail}` : ''}`;

export const fInvalid = (p: string, v: unknown, detail: string): string => `${p}: Invalid value: ${q(v)}: ${detail}`;

export const fDuplicate = (p: string, v: unknown): string => `${p}: Duplicate value: ${q(v)}`;

export const fForbidden = (p: string, detail: string): string => `${p}: Forbidden: ${detail}`;

export const aggregate = (errs: string[]): string => (errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`);

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON type name Go's decoder reports for a value it cannot unmarshal. */
export function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

export const goQuoteSlice = (a: readonly string[]): string => `[${a.map((s) => JSON.stringify(s)).join(' ')}]`;

export const goTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC');
