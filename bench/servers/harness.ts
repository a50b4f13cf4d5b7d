import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';

/** What the runner needs of each server under test. */
export interface BenchServer {
  /** Publish one message to every member of `room`: the server's own broadcast path. */
  publish(room: string, data: TickData): void;
  /** Open WebSocket connections. */
  connections(): number;
}

/** The data of a fan-out message: sequence number, send stamp (µs, monotonic clock) and padding. */
export interface TickData {
  s: number;
  t: number;
  p: string;
}

/** Padding that makes the data of a message about 100 bytes of JSON, as in the measurements. */
export const PADDING = 'x'.repeat(64);

/** Commands from the runner (IPC), each answered with the same id. */
export type Command =
  | { id: number; cmd: 'fanout'; room: string; perTurn: number; durationMs: number }
  | { id: number; cmd: 'memory' }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'gc-reset' }
  | { id: number; cmd: 'gc-stats' };

/** Garbage-collection pauses since the last `gc-reset`: a cause of latency tails to look for. */
export interface GcStats {
  count: number;
  totalMs: number;
  maxMs: number;
}

/**
 * CLOCK_MONOTONIC in µs: one clock for every process on the machine, so the load
 * generator can subtract a stamp taken here.
 */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** An HTTP server on 127.0.0.1 and a free port, for the WebSocket library to attach to. */
export function httpServer(): Server {
  return createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
}

export function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/**
 * Serve the runner's commands over IPC and announce the port. A fan-out publishes
 * `perTurn` messages per event-loop turn (one setImmediate callback), as fast as the
 * loop turns, until `durationMs` has passed.
 */
export function serve(server: BenchServer, port: number): void {
  const gc: GcStats = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  const reply = (id: number, result: Record<string, unknown>): void => {
    process.send?.({ id, ...result });
  };
  process.on('message', (msg: Command) => {
    switch (msg.cmd) {
      case 'fanout': {
        const { room, perTurn } = msg;
        const end = performance.now() + msg.durationMs;
        let seq = 0;
        const turn = (): void => {
          for (let k = 0; k < perTurn; k++) server.publish(room, { s: seq++, t: monotonicUs(), p: PADDING });
          if (performance.now() < end) setImmediate(turn);
          else reply(msg.id, { published: seq });
        };
        setImmediate(turn);
        break;
      }
      case 'memory':
        void settledMemory().then((m) => reply(msg.id, m));
        break;
      case 'stats':
        reply(msg.id, { connections: server.connections() });
        break;
      case 'gc-reset':
        Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0 });
        reply(msg.id, {});
        break;
      case 'gc-stats':
        reply(msg.id, { ...gc });
        break;
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', port });
}

/** Memory after full collections (the process runs with --expose-gc), weak references and finalizers given a turn to run. */
async function settledMemory(): Promise<Record<string, number>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start the server with --expose-gc');
  for (let k = 0; k < 3; k++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers };
}
