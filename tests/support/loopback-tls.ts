/** A self-signed certificate for a test server on loopback: valid for localhost and 127.0.0.1, and its own CA. */
import { generate } from 'selfsigned';

export async function loopbackCertificate(commonName: string): Promise<{ cert: string; private: string }> {
  return generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
}
