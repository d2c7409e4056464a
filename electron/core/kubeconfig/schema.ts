/**
 * The shape kubectl decodes a kubeconfig into (client-go's clientcmd/api/v1 types). A value of the wrong
 * type makes kubectl refuse the whole file, so we refuse to write to such a file too.
 */
export type Schema =
  | 'string'
  | 'bool'
  | 'bytes'
  | 'any'
  | { list: Schema }
  | { obj: Record<string, Schema> }
  | { map: Schema };

const extensions: Schema = { list: { obj: { name: 'string', extension: 'any' } } };

const cluster: Schema = {
  obj: {
    server: 'string',
    'tls-server-name': 'string',
    'insecure-skip-tls-verify': 'bool',
    'certificate-authority': 'string',
    'certificate-authority-data': 'bytes',
    'proxy-url': 'string',
    'disable-compression': 'bool',
    extensions,
  },
};

const authInfo: Schema = {
  obj: {
    'client-certificate': 'string',
    'client-certificate-data': 'bytes',
    'client-key': 'string',
    'client-key-data': 'bytes',
    token: 'string',
    tokenFile: 'string',
    as: 'string',
    'as-uid': 'string',
    'as-groups': { list: 'string' },
    'as-user-extra': { map: { list: 'string' } },
    username: 'string',
    password: 'string',
    'auth-provider': { obj: { name: 'string', config: { map: 'string' } } },
    exec: {
      obj: {
        command: 'string',
        args: { list: 'string' },
        env: { list: { obj: { name: 'string', value: 'string' } } },
        apiVersion: 'string',
        installHint: 'string',
        provideClusterInfo: 'bool',
        interactiveMode: 'string',
      },
    },
    extensions,
  },
};

const context: Schema = { obj: { cluster: 'string', user: 'string', namespace: 'string', extensions } };

export const kubeconfigSchema: Schema = {
  obj: {
    kind: 'string',
    apiVersion: 'string',
    preferences: { obj: { colors: 'bool', extensions } },
    clusters: { list: { obj: { name: 'string', cluster } } },
    users: { list: { obj: { name: 'string', user: authInfo } } },
    contexts: { list: { obj: { name: 'string', context } } },
    'current-context': 'string',
    extensions,
  },
};

export interface SchemaProblem {
  path: (string | number)[];
  message: string;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && v !== null) return 'a mapping';
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 30 ? v.slice(0, 30) + '…' : v)}`;
  return String(v);
}

// Go's base64.StdEncoding as encoding/json uses it for []byte: padded, newlines ignored. That is: a length
// that is a multiple of 4, the base64 alphabet, and at most two "=" at the end.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
export function isBase64(s: string): boolean {
  if (s.includes('\n') || s.includes('\r')) s = s.replace(/[\r\n]/g, '');
  return s.length % 4 === 0 && BASE64.test(s);
}

interface Found {
  /** The path from the problem up to the value checked, innermost first (built only when there is one). */
  up: (string | number)[];
  message: string;
}

function check(value: unknown, schema: Schema): Found | undefined {
  if (value === null || value === undefined) return undefined;
  if (schema === 'any') return undefined;
  if (schema === 'string') {
    return typeof value === 'string' ? undefined : { up: [], message: `expected text, found ${describe(value)}` };
  }
  if (schema === 'bool') {
    return typeof value === 'boolean' ? undefined : { up: [], message: `expected true or false, found ${describe(value)}` };
  }
  if (schema === 'bytes') {
    if (typeof value !== 'string') return { up: [], message: `expected base64 text, found ${describe(value)}` };
    return isBase64(value) ? undefined : { up: [], message: 'expected base64 data, found text that is not base64' };
  }
  if ('list' in schema) {
    if (!Array.isArray(value)) return { up: [], message: `expected a list, found ${describe(value)}` };
    for (let i = 0; i < value.length; i++) {
      const p = check(value[i], schema.list);
      if (p) {
        p.up.push(i);
        return p;
      }
    }
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { up: [], message: `expected a mapping, found ${describe(value)}` };
  }
  const record = value as Record<string, unknown>;
  if ('map' in schema) {
    for (const k in record) {
      if (!Object.hasOwn(record, k)) continue;
      const p = check(record[k], schema.map);
      if (p) {
        p.up.push(k);
        return p;
      }
    }
    return undefined;
  }
  for (const k in schema.obj) {
    if (!Object.hasOwn(record, k)) continue;
    const p = check(record[k], schema.obj[k]!);
    if (p) {
      p.up.push(k);
      return p;
    }
  }
  return undefined;
}

/** First place where `value` does not fit `schema`, or undefined. Null fits everything, as in Go. */
export function checkSchema(value: unknown, schema: Schema, path: (string | number)[] = []): SchemaProblem | undefined {
  const p = check(value, schema);
  return p ? { path: [...path, ...p.up.reverse()], message: p.message } : undefined;
}
