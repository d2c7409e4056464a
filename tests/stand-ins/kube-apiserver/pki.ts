/**
 * The stand-in's certificates, like a Talos control plane's: a cluster CA (kept across restarts in the state
 * directory), the serving certificate, and an admin client certificate in system:masters.
 */
import { createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { generate } from 'selfsigned';

export interface Pki {
  caPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

export async function makePki(stateDir: string, host: string): Promise<Pki> {
  const caCertFile = path.join(stateDir, 'ca.crt');
  const caKeyFile = path.join(stateDir, 'ca.key');
  let caPem: string;
  let caKeyPem: string;
  const now = Date.now();
  const notBeforeDate = new Date(now - 5 * 60_000);
  if (fs.existsSync(caCertFile) && fs.existsSync(caKeyFile)) {
    caPem = fs.readFileSync(caCertFile, 'utf8');
    caKeyPem = fs.readFileSync(caKeyFile, 'utf8');
  } else {
    const ca = await generate([{ name: 'commonName', value: 'kubernetes' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate: new Date(now + 10 * 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    caPem = ca.cert;
    caKeyPem = ca.private;
  }
  const caKeyType = createPrivateKey(caKeyPem).asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  // Leaf certificates: signed by the CA, valid one year, for signatures and key exchange only.
  const leaf = { keyType: caKeyType, curve: 'P-256', algorithm: 'sha256', notBeforeDate, notAfterDate: new Date(now + 365 * 86_400_000), ca: { key: caKeyPem, cert: caPem } } as const;
  const leafUsage = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  ] as const;
  const altNames: Array<{ type: 2 | 7; value?: string; ip?: string }> = [
    { type: 2, value: 'localhost' },
    { type: 2, value: 'kubernetes' },
    { type: 2, value: 'kubernetes.default' },
    { type: 2, value: 'kubernetes.default.svc' },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ];
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1' && host !== '0.0.0.0' && host !== '::') {
    altNames.push(/^[\d.]+$|:/.test(host) ? { type: 7, ip: host } : { type: 2, value: host });
  }
  const serving = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    ...leaf,
    extensions: [
      ...leafUsage,
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  // As `talosctl kubeconfig`: O=system:masters, CN=admin, valid one year.
  const admin = await generate(
    [
      { name: 'organizationName', value: 'system:masters' },
      { name: 'commonName', value: 'admin' },
    ],
    {
      ...leaf,
      extensions: [...leafUsage, { name: 'extKeyUsage', clientAuth: true }],
    },
  );
  return { caPem, caKeyPem, serverCertPem: serving.cert, serverKeyPem: serving.private, adminCertPem: admin.cert, adminKeyPem: admin.private };
}

export interface PkiFiles {
  caFile: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCertFile: string;
  adminKeyFile: string;
}

/** Writes the PEM files into the state directory: certificates 0644, keys 0600. */
export async function writePki(stateDir: string, pki: Pki): Promise<PkiFiles> {
  const files = {
    caFile: path.join(stateDir, 'ca.crt'),
    caKey: path.join(stateDir, 'ca.key'),
    serverCert: path.join(stateDir, 'apiserver.crt'),
    serverKey: path.join(stateDir, 'apiserver.key'),
    adminCertFile: path.join(stateDir, 'admin.crt'),
    adminKeyFile: path.join(stateDir, 'admin.key'),
  };
  const writePem = async (file: string, data: string, secret: boolean): Promise<void> => {
    await fsp.writeFile(file, data, { mode: secret ? 0o600 : 0o644 });
    await fsp.chmod(file, secret ? 0o600 : 0o644);
  };
  await writePem(files.caFile, pki.caPem, false);
  await writePem(files.caKey, pki.caKeyPem, true);
  await writePem(files.serverCert, pki.serverCertPem, false);
  await writePem(files.serverKey, pki.serverKeyPem, true);
  await writePem(files.adminCertFile, pki.adminCertPem, false);
  await writePem(files.adminKeyFile, pki.adminKeyPem, true);
  return files;
}
