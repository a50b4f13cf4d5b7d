import { monotonicUs, PADDING, type BenchServer } from '../servers/harness.js';

/** The command a cluster node answers besides harness.ts's: publish at a fixed rate. */
interface PacedCommand {
  id: number;
  cmd: 'paced';
  room: string;
  /** Messages per second. */
  rate: number;
  durationMs: number;
}

/** How often the pacer wakes up: messages that fell due meanwhile go out together, each stamped when sent. */
const TICK_MS = 2;

/**
 * Answer `paced` commands: publish `rate` messages a second for `durationMs`, then reply
 * with the count. A rate every setup sustains gives latencies that compare queueing-free
 * paths, which the as-fast-as-possible `fanout` command of harness.ts cannot: there the
 * backlog between publisher and slowest node grows for as long as the run lasts.
 */
export function servePaced(server: BenchServer): void {
  process.on('message', (msg: PacedCommand | { cmd?: string }) => {
    if (msg.cmd !== 'paced') return;
    const { id, room, rate, durationMs } = msg as PacedCommand;
    const start = performance.now();
    let seq = 0;
    const tick = (): void => {
      const elapsed = performance.now() - start;
      const due = Math.min(Math.floor((elapsed * rate) / 1000) + 1, Math.ceil((durationMs * rate) / 1000));
      while (seq < due) server.publish(room, { s: seq++, t: monotonicUs(), p: PADDING });
      if (elapsed < durationMs) setTimeout(tick, TICK_MS);
      else process.send?.({ id, published: seq });
    };
    tick();
  });
}
