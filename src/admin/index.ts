/**
 * switchboard/admin: a live admin dashboard, opt-in and protected by a token, served by
 * the server and fed over Switchboard itself. Uses the server's public API only.
 */
export { AdminDashboard, adminDashboard } from './admin-dashboard.js';
export { MIN_TOKEN_LENGTH, type AdminDashboardOptions } from './options.js';
export type { AdminSnapshot, AdminNode, AdminSession } from './admin-snapshot.js';
export type { NodeRates } from './node-rates.js';
export type { AdminServer, AdminNamespace, AdminBroadcast, AdminSocket } from './server-ports.js';
export type { RecentRefusal, RoomStats, RouteHandler, ServerStats, SocketInfo, StatsOptions, ClusterStats } from '../server/index.js';
