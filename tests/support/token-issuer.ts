/**
 * Test harness for electron/talos: a minimal OpenID issuer (discovery + JWKS over https, tokens signed with jose) so
 * the kube-apiserver stand-in can accept tokens without a browser sign-in, and kubeconfig writers.
 * Used only by the *.test.ts files next to it.
 */
import * as fs from 'node:fs/promises';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { generate } from 'selfsigned';
import { stringify } from 'yaml';

export interface TinyIssuer {
  /** https://127.0.0.1:PORT, exactly what discovery says. */
  issuer: string;
  caPem: string;
  caFile: string;
  sign(claims: JWTPayload): Promise<string>;
  /** Claims a Pocket ID ID token would carry, valid for 5 minutes. */
  claims(extra?: JWTPayload): JWTPayload;
  close(): Promise<void>;
}

export async function startTinyIssuer(dir: string, clientId: string): Promise<TinyIssuer> {
  const tls = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server = https.createServer({ key: tls.private, cert: tls.cert }, (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` }));
    } else if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  issuer = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const caFile = path.join(dir, 'tiny-issuer-ca.pem');
  await fs.writeFile(caFile, tls.cert);
  const iss = issuer;
  return {
    issuer: iss,
    caPem: tls.cert,
    caFile,
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' }).sign(privateKey),
    claims: (extra = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return { iss, aud: [clientId], sub: '6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40', iat: now, exp: now + 300, groups: ['kubernetes'], ...extra };
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A kubeconfig with one context whose user is `user` (e.g. { token } or { exec }). Returns the context name. */
export async function writeKubeconfig(file: string, opts: { server: string; caPem: string; name: string; user: Record<string, unknown> }): Promise<string> {
  const ctx = `oidc@${opts.name}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: opts.name, cluster: { server: opts.server, 'certificate-authority-data': Buffer.from(opts.caPem).toString('base64') } }],
    users: [{ name: ctx, user: opts.user }],
    contexts: [{ name: ctx, context: { cluster: opts.name, user: ctx, namespace: 'default' } }],
    'current-context': ctx,
  };
  await fs.writeFile(file, stringify(doc), { mode: 0o600 });
  return ctx;
}
