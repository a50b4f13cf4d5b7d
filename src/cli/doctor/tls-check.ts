/**
 * The TLS step (wss:// only): the certificate chain, the name, the expiry. It connects
 * without verifying so it can say *what* is wrong, then judges the way a client would.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { StepName, fail, pass, skip, warn, type StepResult } from './step-result.js';
import type { Target } from './target.js';

/** Under this many days before expiry a certificate is a warning: renewals that failed silently show here first. */
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const UNKNOWN_ISSUER = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

/** Why the certificate would be refused by a client, and the fix; undefined when it would not. */
interface Problem {
  found: string;
  fix: string;
}

export function checkTls(target: Target, timeoutMs: number, insecure: boolean): Promise<StepResult> {
  if (!target.secure) return Promise.resolve(skip(StepName.Tls, `${target.url.protocol}// has no TLS`));
  return new Promise((resolve) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      ...(isIP(target.host) ? {} : { servername: target.host }),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    const done = (result: StepResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(fail(StepName.Tls, `no TLS handshake within ${timeoutMs} ms`, 'the port accepts connections but does not answer TLS: check that it is the TLS port')), timeoutMs);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const problem = judge(target, cert, socket.authorizationError === undefined ? undefined : String(socket.authorizationError));
      const summary = describe(cert);
      if (!problem) {
        const daysLeft = Math.floor((Date.parse(cert.valid_to) - Date.now()) / DAY_MS);
        if (daysLeft < EXPIRY_WARNING_DAYS) {
          done(warn(StepName.Tls, `${summary}: expires in ${daysLeft} day(s), on ${cert.valid_to}`, 'renew the certificate (check that automatic renewal runs)'));
        } else {
          done(pass(StepName.Tls, `${socket.getProtocol() ?? 'TLS'}, ${summary}, valid for ${target.host} until ${cert.valid_to}`));
        }
        return;
      }
      if (insecure) done(warn(StepName.Tls, `${problem.found} — going on without verifying (--insecure)`, problem.fix));
      else done(fail(StepName.Tls, problem.found, `${problem.fix} (--insecure goes on with the other steps)`));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const text = `${error.code ?? ''} ${error.message}`;
      if (/wrong version number|packet length too long|unknown protocol|http request/i.test(text)) {
        done(fail(StepName.Tls, `the port does not speak TLS (${error.code ?? error.message})`, `use ws:// for this port, or point wss:// at the TLS port`));
      } else {
        done(fail(StepName.Tls, `TLS handshake failed: ${error.message}`, 'check the server\'s TLS configuration (protocols, ciphers, certificate)'));
      }
    });
  });
}

/** Whether the port completes a TLS handshake: a ws:// URL that got no HTTP answer may point at a TLS port. */
export function speaksTls(target: Target, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, rejectUnauthorized: false, ...(isIP(target.host) ? {} : { servername: target.host }) });
    const done = (yes: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function judge(target: Target, cert: PeerCertificate, authorizationError: string | undefined): Problem | undefined {
  const now = Date.now();
  if (Date.parse(cert.valid_to) < now || authorizationError === 'CERT_HAS_EXPIRED') {
    return { found: `the certificate expired on ${cert.valid_to}`, fix: 'renew the certificate and reload the server or proxy' };
  }
  if (Date.parse(cert.valid_from) > now || authorizationError === 'CERT_NOT_YET_VALID') {
    return { found: `the certificate is not valid before ${cert.valid_from}`, fix: 'check the clocks of the server and of this machine' };
  }
  if (authorizationError && SELF_SIGNED.has(authorizationError)) {
    return { found: `self-signed certificate (${authorizationError}, issuer ${issuer(cert)}): clients refuse it`, fix: 'use a certificate from a CA clients trust (e.g. Let\'s Encrypt); for a test server give clients its CA (NODE_EXTRA_CA_CERTS)' };
  }
  if (authorizationError && UNKNOWN_ISSUER.has(authorizationError)) {
    return { found: `certificate issued by an unknown CA or without its intermediate (${authorizationError}, issuer ${issuer(cert)})`, fix: 'serve the full chain (nginx: ssl_certificate with fullchain.pem), or use a CA clients trust' };
  }
  if (authorizationError) {
    return { found: `the certificate is not trusted (${authorizationError})`, fix: 'use a certificate from a CA clients trust' };
  }
  const mismatch = checkServerIdentity(target.host, cert);
  if (mismatch) {
    return { found: `the certificate is for ${names(cert)}, not ${target.host}`, fix: `use a certificate whose subjectAltName covers ${target.host}, or connect with the name it covers` };
  }
  return undefined;
}

function describe(cert: PeerCertificate): string {
  return `certificate for ${names(cert)} issued by ${issuer(cert)}`;
}

function names(cert: PeerCertificate): string {
  return cert.subjectaltname?.replace(/DNS:|IP Address:/g, '') ?? first(cert.subject?.CN) ?? '(no name)';
}

function issuer(cert: PeerCertificate): string {
  return first(cert.issuer?.O) ?? first(cert.issuer?.CN) ?? '(unknown)';
}

/** Certificate fields may repeat (several O= or CN=): the first one names it well enough. */
function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
