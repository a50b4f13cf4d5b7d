import { fileURLToPath } from 'node:url';
import type { FlapLink } from '../../test/helpers/link-flap.js';
import { type FlapClient, openSocketIo, openSwitchboard } from './clients.js';

/** A system under test: its server (a child process speaking the bench harness's IPC) and its client. */
export interface FlapSystem {
  name: SystemName;
  file: string;
  env: Record<string, string>;
  open(link: FlapLink, room: string): Promise<FlapClient>;
  /** Switchboard durable rooms report the gaps they cannot replay. */
  reportsGaps: boolean;
}

export const SYSTEM_NAMES = ['socket.io', 'socket.io-recovery', 'switchboard', 'switchboard-durable'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

const file = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

export const SYSTEMS: Record<SystemName, FlapSystem> = {
  'socket.io': { name: 'socket.io', file: file('socketio-server.ts'), env: {}, open: openSocketIo, reportsGaps: false },
  'socket.io-recovery': { name: 'socket.io-recovery', file: file('socketio-server.ts'), env: { FLAP_RECOVERY: '1' }, open: openSocketIo, reportsGaps: false },
  switchboard: { name: 'switchboard', file: file('switchboard-server.ts'), env: {}, open: openSwitchboard, reportsGaps: false },
  'switchboard-durable': { name: 'switchboard-durable', file: file('switchboard-server.ts'), env: { FLAP_DURABLE: '1' }, open: openSwitchboard, reportsGaps: true },
};
