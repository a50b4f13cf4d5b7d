/**
 * Which certificates the doctor accepts on its connections. It trusts what a Node client
 * trusts — Node's built-in CAs — plus a private CA given with `--ca`, as NODE_EXTRA_CA_CERTS
 * adds one to a client's; with `--insecure` it accepts any certificate (the TLS step has
 * reported the problem by then).
 */
import { rootCertificates } from 'node:tls';

export interface Trust {
  insecure: boolean;
  /** PEM text of the `--ca` file: one or more CA certificates. */
  ca?: string;
}

/** The node:tls / node:https options that verify a server's certificate as `trust` says. */
export function verifyOptions(trust: Trust): { rejectUnauthorized: boolean; ca?: string[] } {
  return {
    rejectUnauthorized: !trust.insecure,
    // A `ca` option replaces Node's roots: keep them, so a public certificate still passes.
    ...(trust.ca === undefined ? {} : { ca: [...rootCertificates, trust.ca] }),
  };
}
