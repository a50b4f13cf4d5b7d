import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key and a self-signed certificate for `localhost` and 127.0.0.1, PEM-encoded. */
export interface SelfSigned {
  key: string;
  cert: string;
}

/**
 * Make a fresh self-signed certificate with the `openssl` CLI, so no key is ever
 * committed. Fails with a clear message when openssl is not installed.
 */
export function selfSignedCertificate(): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    try {
      execFileSync(
        'openssl',
        [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
          '-keyout', keyFile, '-out', certFile, '-days', '1',
          '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(
        missing
          ? 'The TLS tests need the openssl CLI to make a self-signed certificate, and it is not on PATH: install openssl (e.g. apt-get install openssl).'
          : `openssl could not make a self-signed certificate: ${String((cause as { stderr?: Buffer }).stderr ?? cause)}`,
        { cause },
      );
    }
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
