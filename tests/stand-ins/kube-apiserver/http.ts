/** HTTP plumbing shared by the routes: Status errors as kube-apiserver sends them, request bodies in JSON, YAML or protobuf, replies. */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { parse as parseYaml } from 'yaml';
import { isRecord } from './messages.js';
import { decodeK8sProtobuf } from './protobuf.js';

/** The largest body read from a request or fetched from an issuer. */
export const MAX_BODY = 3 * 1024 * 1024;

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Array<{ reason: string; message: string; field: string }>;
}

export function statusBody(code: number, reason: string, message: string, details?: StatusDetails): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: StatusDetails) {
    super(message);
  }
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function readObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  let obj: unknown;
  try {
    if (ct === 'application/vnd.kubernetes.protobuf') obj = decodeK8sProtobuf(body);
    else if (ct === 'application/yaml') obj = parseYaml(body.toString('utf8'));
    else if (ct === 'application/json' || ct === '') obj = JSON.parse(body.toString('utf8'));
    else {
      throw new HttpError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
        {},
      );
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
  if (!isRecord(obj)) throw new HttpError(400, 'BadRequest', "couldn't get version/kind; json parse error: not an object");
  return obj;
}

export function send(res: http.ServerResponse, code: number, body: unknown, text = false): void {
  const payload = text ? String(body) : JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': text ? 'text/plain; charset=utf-8' : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(res.req.method === 'HEAD' ? undefined : payload);
}
