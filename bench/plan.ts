import type { ServerName } from './load/dialects.js';
import type { ConnectRatePlan } from './scenarios/connect-rate.js';
import type { FanoutPlan } from './scenarios/fanout.js';
import type { MemoryPlan } from './scenarios/memory.js';
import type { RequestAckPlan } from './scenarios/request-ack.js';

/** `switchboard-socketio`: socket.io clients (the same Engine.IO/Socket.IO packets) on Switchboard's Socket.IO front door. */
export const SERVERS: readonly ServerName[] = ['switchboard', 'ws-naive', 'ws-coalesced', 'socket.io', 'switchboard-socketio'];
/** Servers run only when named with --servers= (variants that explain a difference). */
export const EXTRA_SERVERS: readonly ServerName[] = ['switchboard-noresume'];

export type ScenarioName = 'fanout' | 'memory' | 'request-ack' | 'connect-rate';
export const SCENARIOS: readonly ScenarioName[] = ['fanout', 'memory', 'request-ack', 'connect-rate'];

export interface Plan {
  mode: 'quick' | 'full';
  fanout: FanoutPlan;
  memory: MemoryPlan;
  requestAck: RequestAckPlan;
  connectRate: ConnectRatePlan;
}

/** The whole bench: about 18 minutes on an idle 2-core machine (more while it waits for other work to finish). */
export const FULL: Plan = {
  mode: 'full',
  fanout: { subscribers: [100, 1000, 2000, 5000], perTurn: [1, 8], runs: 5, warmupMs: 500, measureMs: 3000, probes: 10 },
  memory: { connections: 10_000, runs: 3 },
  requestAck: { connections: 100, rates: [1000, 5000], runs: 5, warmupMs: 500, measureMs: 5000 },
  connectRate: { connections: 5000, concurrency: 200, runs: 5 },
};

/**
 * `--quick`, under two minutes on an idle machine: a smoke run of every scenario with
 * the room size and rate of the targets, 3 short runs each, but idle memory from
 * one run per server. Not for the record: windows this short are noisy.
 */
export const QUICK: Plan = {
  mode: 'quick',
  fanout: { subscribers: [1000], perTurn: [1, 8], runs: 3, warmupMs: 300, measureMs: 600, probes: 10 },
  memory: { connections: 10_000, runs: 1 },
  requestAck: { connections: 100, rates: [5000], runs: 3, warmupMs: 300, measureMs: 1000 },
  connectRate: { connections: 2000, concurrency: 200, runs: 3 },
};
