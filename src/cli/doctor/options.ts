/** The doctor's command line: `switchboard doctor URL [options]`, parsed with node:util parseArgs. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAuthJson, parseDuration as duration, UsageError } from '../usage.js';


export interface DoctorOptions {
  url: string;
  json: boolean;
  timeoutMs: number;
  sseWaitMs: number;
  idleMs?: number;
  origin?: string;
  /** The hello's auth payload (`--auth JSON`). */
  auth?: unknown;
  path?: string;
  insecure: boolean;
  /** PEM text of `--ca FILE`: CA certificates trusted besides Node's own. */
  ca?: string;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_SSE_WAIT_MS = 3000;

export function parseDoctorArgs(args: string[]): DoctorOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        'sse-wait': { type: 'string' },
        idle: { type: 'string' },
        origin: { type: 'string' },
        auth: { type: 'string' },
        path: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        ca: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give the URL to check, e.g. switchboard doctor wss://chat.example.com/ws' : `one URL only (got ${positionals.length}: ${positionals.join(' ')})`);
  const origin = values.origin;
  if (origin !== undefined && !/^https?:\/\/[^/]+$/.test(origin)) throw new UsageError(`--origin is a page's origin such as https://app.example.com (scheme and host, no path); got "${origin}"`);
  const auth = values.auth === undefined ? undefined : parseAuthJson('--auth', values.auth);
  return {
    url: positionals[0] as string,
    json: values.json ?? false,
    timeoutMs: values.timeout === undefined ? DEFAULT_TIMEOUT_MS : duration('--timeout', values.timeout),
    sseWaitMs: values['sse-wait'] === undefined ? DEFAULT_SSE_WAIT_MS : duration('--sse-wait', values['sse-wait']),
    ...(values.idle === undefined ? {} : { idleMs: duration('--idle', values.idle) }),
    ...(origin === undefined ? {} : { origin }),
    ...(auth === undefined ? {} : { auth }),
    ...(values.path === undefined ? {} : { path: values.path }),
    insecure: values.insecure ?? false,
    ...(values.ca === undefined ? {} : { ca: readCaFile(values.ca) }),
  };
}

/** The `--ca` bundle's text; a file that cannot be read or holds no PEM certificate is bad usage. */
function readCaFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--ca ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${file}: no PEM certificate in it (-----BEGIN CERTIFICATE-----); give the CA's certificate, as curl's --cacert takes it`);
  return text;
}

