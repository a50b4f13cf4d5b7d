import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key and a self-signed certificate, PEM-encoded. */
export interface SelfSigned {
  key: string;
  cert: string;
}

export interface SelfSignedOptions {
  /** The names the certificate is for: the first is its CN, all are in its subjectAltName. Default: localhost and 127.0.0.1. */
  names?: readonly string[];
  /** Exact validity dates (e.g. in the past, for an expired certificate). Default: from now, for 1 day. */
  validity?: { from: Date; to: Date };
}

/**
 * Make a fresh self-signed certificate with the `openssl` CLI, so no key is ever
 * committed. Fails with a clear message when openssl is not installed.
 */
export function selfSignedCertificate(options: SelfSignedOptions = {}): SelfSigned {
  const names = options.names ?? ['localhost', '127.0.0.1'];
  const subject = ['-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`];
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    if (options.validity) {
      // openssl 3.0's `req -x509` only counts days from now; `openssl ca -selfsign` takes exact dates.
      const requestFile = join(dir, 'request.csr');
      openssl(['req', '-new', ...newKey, '-keyout', keyFile, '-out', requestFile, ...subject]);
      writeFileSync(join(dir, 'index.txt'), '');
      writeFileSync(join(dir, 'serial'), '01\n');
      writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG.replaceAll('DIR', dir));
      openssl([
        'ca', '-batch', '-notext', '-config', join(dir, 'ca.cnf'), '-selfsign', '-keyfile', keyFile, '-in', requestFile, '-out', certFile,
        '-startdate', opensslDate(options.validity.from), '-enddate', opensslDate(options.validity.to),
      ]);
    } else {
      openssl(['req', '-x509', ...newKey, '-keyout', keyFile, '-out', certFile, '-days', '1', ...subject]);
    }
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The least `openssl ca` needs: a database, a serial, and the request's extensions (the subjectAltName) copied. */
const CA_CONFIG = `[ca]
default_ca = dated
[dated]
database = DIR/index.txt
new_certs_dir = DIR
serial = DIR/serial
default_md = sha256
policy = any_name
copy_extensions = copy
unique_subject = no
[any_name]
commonName = supplied
`;

/** YYYYMMDDHHMMSSZ, the form `openssl ca -startdate/-enddate` takes. */
function opensslDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? 'The TLS tests need the openssl CLI to make a self-signed certificate, and it is not on PATH: install openssl (e.g. apt-get install openssl).'
        : `openssl could not make a self-signed certificate: ${String((cause as { stderr?: Buffer }).stderr ?? cause)}`,
      { cause },
    );
  }
}
