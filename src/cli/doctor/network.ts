/** The DNS and TCP steps: can the host's name be found, and does anything listen on the port. */
import { lookup } from 'node:dns/promises';
import { isIP, createConnection } from 'node:net';
import { StepName, fail, pass, type StepResult } from './step-result.js';
import type { Target } from './target.js';
import { withDeadline } from './deadline.js';

export async function checkDns(target: Target, timeoutMs: number): Promise<StepResult> {
  if (isIP(target.host)) return pass(StepName.Dns, `${target.host} is an IP address (no lookup)`);
  try {
    const addresses = await withDeadline(lookup(target.host, { all: true }), timeoutMs, 'no answer');
    return pass(StepName.Dns, `${target.host} → ${addresses.map((a) => a.address).join(', ')}`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (code === 'ENOTFOUND') {
      return fail(StepName.Dns, `no such host: ${target.host} (ENOTFOUND)`, 'check the host name for a typo, or add its DNS record');
    }
    return fail(StepName.Dns, `looking up ${target.host} failed (${code})`, 'check this machine\'s DNS resolver (/etc/resolv.conf) and network');
  }
}

export function checkTcp(target: Target, timeoutMs: number): Promise<StepResult> {
  const where = `${target.host}:${target.port}`;
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = createConnection({ host: target.host, port: target.port });
    const done = (result: StepResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done(fail(StepName.Tcp, `no answer from ${where} within ${timeoutMs} ms`, 'a firewall or security group drops the packets, or the host is down: open the port to clients')),
      timeoutMs,
    );
    socket.once('connect', () => done(pass(StepName.Tcp, `connected to ${socket.remoteAddress ?? target.host}:${target.port} in ${Date.now() - started} ms`)));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        const defaults = target.url.port === '' ? ` (no port in the URL: ${target.secure ? 'wss' : 'ws'}:// means ${target.port})` : '';
        done(fail(StepName.Tcp, `connection refused by ${where}: nothing listens on that port${defaults}`, 'start the server, or put the port it listens on in the URL'));
      } else {
        done(fail(StepName.Tcp, `cannot connect to ${where} (${error.code ?? error.message})`, 'check the route to the host: a firewall, VPN or wrong address'));
      }
    });
  });
}
