/**
 * The TLS step (wss:// only): the certificate chain, the name, the expiry. It connects
 * without verifying so it can say *what* is wrong, then judges the way a client would.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { StepName, fail, pass, skip, warn, type StepResult } from './step-result.js';
import type { Target } from './target.js';
import { verifyOptions, type Trust } from './trust.js';

/** Under this many days before expiry a certificate is a warning: renewals that failed silently show here first. */
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const UNKNOWN_ISSUER = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);
/** Node's verdicts on the dates and the name, which judge() reads from the certificate itself. */
const JUDGED_ELSEWHERE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** One reason a client would refuse the certificate, and its fix. */
interface Problem {
  found: string;
  fix: string;
}

export function checkTls(target: Target, timeoutMs: number, trust: Trust): Promise<StepResult> {
  if (!target.secure) return Promise.resolve(skip(StepName.Tls, `${target.url.protocol}// has no TLS`));
  return new Promise((resolve) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      ...(isIP(target.host) ? {} : { servername: target.host }),
      // Verify against the same CAs as the later steps, but finish the handshake either way.
      ...verifyOptions(trust),
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
      const problems = judge(target, cert, socket.authorized ? undefined : String(socket.authorizationError));
      if (problems.length === 0) {
        const msLeft = Date.parse(cert.valid_to) - Date.now();
        if (msLeft < EXPIRY_WARNING_DAYS * DAY_MS) {
          done(warn(StepName.Tls, `${describe(cert)}: expires within ${Math.ceil(msLeft / DAY_MS)} day(s), on ${cert.valid_to}`, 'renew the certificate (check that automatic renewal runs)'));
        } else {
          done(pass(StepName.Tls, `${socket.getProtocol() ?? 'TLS'}, ${describe(cert)}, valid for ${target.host} until ${cert.valid_to}`));
        }
        return;
      }
      const found = problems.map((p) => p.found).join('; ');
      const fix = problems.map((p) => p.fix).join('; ');
      if (trust.insecure) done(warn(StepName.Tls, `${found} — going on without verifying (--insecure)`, fix));
      else done(fail(StepName.Tls, found, `${fix} (--insecure goes on with the other steps)`));
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

/**
 * Every reason a client would refuse the certificate: its dates, its chain, its name. A
 * client stops at the first; the doctor says them all, so one run shows every fix.
 */
function judge(target: Target, cert: PeerCertificate, authorizationError: string | undefined): Problem[] {
  const problems: Problem[] = [];
  const now = Date.now();
  if (Date.parse(cert.valid_to) < now) {
    problems.push({ found: `the certificate expired on ${cert.valid_to}`, fix: 'renew the certificate and reload the server or proxy' });
  } else if (Date.parse(cert.valid_from) > now) {
    problems.push({ found: `the certificate is not valid before ${cert.valid_from}`, fix: 'check the clocks of the server and of this machine' });
  }
  const chain = chainProblem(cert, authorizationError);
  if (chain) problems.push(chain);
  if (checkServerIdentity(target.host, cert)) {
    problems.push({ found: `the certificate is for ${names(cert)}, not ${target.host}`, fix: `use a certificate whose subjectAltName covers ${target.host}, or connect with a name it covers` });
  }
  return problems;
}

/** What OpenSSL found wrong with the chain; the dates and the name are judged above, from the certificate itself. */
function chainProblem(cert: PeerCertificate, error: string | undefined): Problem | undefined {
  if (error === undefined || JUDGED_ELSEWHERE.has(error)) return undefined;
  if (SELF_SIGNED.has(error)) {
    return { found: `self-signed certificate (${error}, issuer ${issuer(cert)}): clients refuse it`, fix: 'use a certificate from a CA clients trust (e.g. Let\'s Encrypt); for a test server give clients its CA (NODE_EXTRA_CA_CERTS; the doctor: --ca)' };
  }
  if (UNKNOWN_ISSUER.has(error)) {
    return { found: `certificate issued by an unknown CA or without its intermediate (${error}, issuer ${issuer(cert)})`, fix: 'serve the full chain (nginx: ssl_certificate with fullchain.pem), or use a CA clients trust (a private CA: the doctor takes it with --ca)' };
  }
  return { found: `the certificate is not trusted (${error})`, fix: 'use a certificate from a CA clients trust' };
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
