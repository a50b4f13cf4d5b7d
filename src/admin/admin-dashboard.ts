import { ReplyError } from '../server/index.js';
import { AdminToken } from './admin-token.js';
import type { AdminSnapshot } from './admin-snapshot.js';
import { type AdminDashboardOptions, type ResolvedAdminOptions, resolveAdminOptions } from './options.js';
import { PageRoutes } from './page/page-routes.js';
import type { AdminNamespace, AdminServer, AdminSocket } from './server-ports.js';
import { disconnectSession } from './session-control.js';
import { STATS_EVENT, SnapshotSource } from './snapshot-source.js';

/**
 * The live admin dashboard mounted on a server (`adminDashboard(sb, { token })`): a page at
 * `path`, the admin namespace it connects to (the token is checked by that namespace's
 * middleware), snapshots pushed to it every `interval` while an admin watches on this node,
 * and this node's answer to the other nodes' dashboards.
 */
export class AdminDashboard {
  /** Where the page is served. */
  readonly path: string;
  /** The namespace the page connects to. */
  readonly namespace: string;
  readonly #server: AdminServer;
  readonly #options: ResolvedAdminOptions;
  readonly #admins: AdminNamespace;
  readonly #page: PageRoutes;
  readonly #source: SnapshotSource;
  readonly #answerStats = (): unknown => this.#source.localStats();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** A snapshot being taken: ticks that come meanwhile are skipped, not queued. */
  #taking: Promise<void> | undefined;
  #last: AdminSnapshot | undefined;
  #closed = false;

  constructor(server: AdminServer, options: AdminDashboardOptions) {
    if (!server || typeof server.of !== 'function' || typeof server.route !== 'function') throw new TypeError('adminDashboard(sb, options): sb must be a Switchboard');
    this.#server = server;
    this.#options = resolveAdminOptions(options, server.clientPaths?.path);
    this.path = this.#options.path;
    this.namespace = this.#options.namespace;
    this.#source = new SnapshotSource(server, this.#options);
    this.#page = new PageRoutes({ namespace: this.namespace, endpoint: this.#options.endpoint, clientUrl: this.#options.clientUrl ?? null, base: this.path });
    server.route(this.path, this.#page.handle);
    server.onServerEvent(STATS_EVENT, this.#answerStats);

    const token = new AdminToken(this.#options.token);
    this.#admins = server.of(this.namespace);
    // async: resolving admits, throwing refuses (the token check itself is synchronous).
    this.#admins.use(async (socket) => {
      if (this.#closed) throw new ReplyError('unauthorized', 'the admin dashboard is closed');
      if (!token.accepts(socket.handshake.auth)) throw new ReplyError('unauthorized', 'wrong or missing admin token');
    });
    this.#admins.on('connection', (socket) => this.#watch(socket));
  }

  /** Stop: no more snapshots, admins on this node disconnected, the page answers 404, the other nodes get no answer from this one. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    this.#page.close();
    this.#server.offServerEvent(STATS_EVENT, this.#answerStats);
    this.#admins.local.disconnectSockets(true).catch((err: unknown) => this.#server.reportError(err, { phase: 'adminDashboard.close' }));
  }

  #watch(socket: AdminSocket): void {
    socket.on('disconnectSession', async (request: unknown) => {
      const answer = await disconnectSession(this.#server, this.#options.namespaces, request);
      this.#tick(); // the list shows it gone without waiting for the next interval
      return answer;
    });
    socket.on('disconnect', () => {
      if (this.#admins.sockets.size === 0) this.#stop();
    });
    if (this.#last) socket.emit('snapshot', this.#last);
    if (this.#timer === undefined) {
      // Only while someone watches: an unwatched dashboard costs nothing.
      this.#timer = setInterval(() => this.#tick(), this.#options.interval);
      this.#timer.unref();
      this.#tick();
    }
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#last = undefined;
    this.#source.pause();
  }

  #tick(): void {
    if (this.#taking || this.#closed) return;
    this.#taking = this.#source
      .take()
      .then((snapshot) => {
        if (this.#timer === undefined) return; // everyone left while it was taken
        this.#last = snapshot;
        this.#admins.local.emit('snapshot', snapshot);
      })
      .catch((err: unknown) => this.#server.reportError(err, { phase: 'adminDashboard snapshot' }))
      .finally(() => {
        this.#taking = undefined;
      });
  }
}

/**
 * Mount the live admin dashboard on `sb`: the page at `path` (default `/admin`), protected by
 * `token` (required, at least 16 characters), live over the namespace `namespace` (default
 * `/admin`). See docs/OPERATIONS.md, "Admin dashboard".
 */
export function adminDashboard(sb: AdminServer, options: AdminDashboardOptions): AdminDashboard {
  return new AdminDashboard(sb, options);
}
