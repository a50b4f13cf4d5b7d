/**
 * The walk: every step in the order a client meets them. A step that fails stops the
 * steps that need what it could not reach; they are reported as skipped, saying why, so
 * the first failure is the one to fix.
 */
import { checkIdle } from './idle-step.js';
import { checkDns, checkTcp } from './network.js';
import { checkHandshake } from './handshake-step.js';
import { checkOrigin } from './origin-step.js';
import { checkPolling } from './polling-step.js';
import { checkSse } from './sse-step.js';
import { StepName, StepStatus, skip, type StepResult } from './step-result.js';
import type { Target } from './target.js';
import { checkTls } from './tls-check.js';
import type { Trust } from './trust.js';
import { checkUpgrade } from './upgrade-step.js';

export interface WalkOptions extends Trust {
  /** Bound on each network wait, in ms. */
  timeoutMs: number;
  /** How long the first SSE event may take before the stream counts as held back, in ms. */
  sseWaitMs: number;
  /** Watch an idle connection this long (ms); undefined: the idle step is skipped. */
  idleMs?: number;
  origin?: string;
  /** The hello's auth payload, for servers whose middleware wants credentials. */
  auth?: unknown;
}

/** Run the steps after the url step; `report` is called with each result as soon as it is known. */
export async function walk(target: Target, options: WalkOptions, report: (result: StepResult) => void): Promise<void> {
  const { timeoutMs } = options;
  const trust: Trust = { insecure: options.insecure, ...(options.ca === undefined ? {} : { ca: options.ca }) };
  const blocked = (result: StepResult): boolean => {
    report(result);
    return result.status === StepStatus.Fail;
  };
  const skipRest = (steps: StepName[], why: string): void => {
    for (const step of steps) report(skip(step, why));
  };
  const afterConnect: StepName[] = [StepName.Upgrade, StepName.Handshake, StepName.Origin, StepName.Polling, StepName.Sse, StepName.Idle];
  if (blocked(await checkDns(target, timeoutMs))) return skipRest([StepName.Tcp, StepName.Tls, ...afterConnect], 'not run: the host name does not resolve');
  if (blocked(await checkTcp(target, timeoutMs))) return skipRest([StepName.Tls, ...afterConnect], 'not run: no TCP connection');
  if (blocked(await checkTls(target, timeoutMs, trust))) return skipRest(afterConnect, 'not run: TLS failed (--insecure goes on)');

  const upgrade = await checkUpgrade(target, { timeoutMs, trust });
  report(upgrade.result);
  if (upgrade.link) {
    const handshake = await checkHandshake(upgrade.link, timeoutMs, options.auth);
    report(handshake.result);
    report(await checkOrigin(target, options.origin, timeoutMs, trust, options.auth));
  } else {
    skipRest([StepName.Handshake, StepName.Origin], 'not run: no WebSocket');
  }
  // The fallback is what clients use when the WebSocket fails: check it either way, unless
  // it would only repeat the upgrade's failure (a wrong path: the fallback lives under it).
  if (upgrade.skipFallback) {
    skipRest([StepName.Polling, StepName.Sse], upgrade.skipFallback);
  } else {
    report(await checkPolling(target, timeoutMs, trust));
    report(await checkSse(target, options.sseWaitMs, trust));
  }
  if (upgrade.link) report(await checkIdle(target, options.idleMs, timeoutMs, trust, options.auth));
  else report(skip(StepName.Idle, 'not run: no WebSocket'));
}
