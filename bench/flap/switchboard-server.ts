import { servePaced } from '../cluster/paced.js';
import { serveSwitchboard } from '../servers/switchboard-app.js';
import { flapHeartbeat } from './heartbeat.js';

/**
 * Switchboard for the flap benchmark: the bench servers' setup (session resume on, its TTL
 * 120 s, per-IP limits off) with the benchmark's heartbeat; with FLAP_DURABLE=1 every room
 * is durable (default history bounds).
 */
await serveSwitchboard({ heartbeat: flapHeartbeat() }, servePaced, (sb) => {
  if (process.env.FLAP_DURABLE === '1') sb.durable(/.*/);
});
