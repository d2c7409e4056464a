/**
 * A token issuer for tests that need ID tokens without a browser: the smallest OpenID provider the
 * kube-apiserver stand-in accepts (discovery and JWKS over https on loopback) plus a signer, so a test can
 * mint any token it likes (expired, wrong audience, other groups) and hand it to kubectl or the agent.
 * It is not Pocket ID: for a real sign-in, with a login page, refresh tokens and the device flow, use
 * tests/stand-ins/pocket-id.ts.
 */
import * as fs from 'node:fs/promises';
import * as https from 'node:https';
import * as path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { loopbackCertificate } from './loopback-tls.js';

export interface TokenIssuer {
  /** https://127.0.0.1:PORT, exactly what discovery says. */
  issuer: string;
  caPem: string;
  caFile: string;
  sign(claims: JWTPayload): Promise<string>;
  /** Claims a Pocket ID ID token would carry, valid for 5 minutes. */
  claims(extra?: JWTPayload): JWTPayload;
  close(): Promise<void>;
}

/** Starts the issuer on a free loopback port, writing its CA certificate into `dir`; tokens are for `clientId`. */
export async function startTokenIssuer(dir: string, clientId: string): Promise<TokenIssuer> {
  const tls = await loopbackCertificate('127.0.0.1');
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
  const caFile = path.join(dir, 'token-issuer-ca.pem');
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

/** The names the Talos tests know it by. */
export const startTinyIssuer = startTokenIssuer;
export type TinyIssuer = TokenIssuer;
