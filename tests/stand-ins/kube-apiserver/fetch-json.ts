/** The small HTTP(S) client the JWT authenticators use for discovery and the JWKS, trusting only the configured CA when one is given. */
import * as http from 'node:http';
import * as https from 'node:https';
import { MAX_BODY } from './http.js';
import { q } from './messages.js';

export function fetchJson(url: string, caPem: string | undefined, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`parse ${q(url)}: invalid URL`));
      return;
    }
    const mod = u.protocol === 'http:' ? http : https;
    const req = mod.get(
      u,
      { ...(u.protocol === 'https:' && caPem ? { ca: caPem } : {}), headers: { accept: 'application/json' }, timeout: timeoutMs, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error('response too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`${res.statusCode} ${res.statusMessage ?? ''}: ${body.slice(0, 200)}`));
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(new Error(`failed to decode provider response: got Content-Type = ${res.headers['content-type'] ?? ''}: ${(e as Error).message}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Get ${q(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    req.on('error', (e) => reject(new Error(`Get ${q(url)}: ${e.message}`)));
  });
}
