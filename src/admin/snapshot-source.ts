import type { ServerStats, SocketInfo } from '../server/index.js';
import { type AdminSnapshot, buildSnapshot } from './admin-snapshot.js';
import { NodeRateMeter } from './node-rates.js';
import type { ResolvedAdminOptions } from './options.js';
import type { AdminServer } from './server-ports.js';

/** The server event by which a node asks the others for their stats. */
export const STATS_EVENT = 'switchboard:admin:stats';

/**
 * Takes snapshots: this node's stats, every other node's (asked with serverSideEmitWithAck;
 * each node with the dashboard mounted answers with its own), and the sessions of the
 * listed namespaces on every node. A part that fails is left out and said in `problems`:
 * a node that does not answer must not blank the whole page.
 */
export class SnapshotSource {
  readonly #server: AdminServer;
  readonly #options: ResolvedAdminOptions;
  readonly #meter = new NodeRateMeter();
  readonly #now: () => number;

  constructor(server: AdminServer, options: ResolvedAdminOptions, now: () => number = Date.now) {
    this.#server = server;
    this.#options = options;
    this.#now = now;
  }

  /** This node's stats, as the other nodes' dashboards ask for them. */
  localStats(): ServerStats {
    return this.#server.stats({ rooms: this.#options.rooms });
  }

  async take(): Promise<AdminSnapshot> {
    const problems: string[] = [];
    const local = this.localStats();
    const [others, sockets] = await Promise.all([this.#otherNodes(problems), this.#sockets(problems)]);
    return buildSnapshot(
      { at: this.#now(), node: local.nodeId, stats: [local, ...others], sockets, maxSessions: this.#options.maxSessions, maxRooms: this.#options.rooms, problems },
      this.#meter,
    );
  }

  /** Nobody watches any more: the next rates start afresh instead of averaging over the pause. */
  pause(): void {
    this.#meter.clear();
  }

  async #otherNodes(problems: string[]): Promise<ServerStats[]> {
    let answers: unknown[];
    try {
      answers = await this.#server.serverSideEmitWithAck(STATS_EVENT, { rooms: this.#options.rooms });
    } catch (err) {
      problems.push(`the other nodes' numbers are missing: ${describe(err)}`);
      return [];
    }
    const stats = answers.filter(isStats);
    const silent = answers.length - stats.length;
    if (silent > 0) problems.push(`${silent} node(s) answered without stats: mount adminDashboard on every node`);
    return stats;
  }

  async #sockets(problems: string[]): Promise<SocketInfo[]> {
    const lists = await Promise.all(
      this.#options.namespaces.map((ns) =>
        this.#server
          .of(ns)
          .fetchSockets()
          .catch((err: unknown) => {
            problems.push(`sessions of ${ns} are missing: ${describe(err)}`);
            return [];
          }),
      ),
    );
    return lists.flat();
  }
}

function isStats(answer: unknown): answer is ServerStats {
  const stats = answer as ServerStats | null;
  return typeof stats === 'object' && stats !== null && typeof stats.nodeId === 'string' && typeof stats.frames === 'object' && Array.isArray(stats.recentRefusals);
}

function describe(err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return typeof code === 'string' ? `${code} (${String(message)})` : String(message ?? err);
}
