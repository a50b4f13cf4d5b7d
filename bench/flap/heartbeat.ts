/**
 * The heartbeat both systems run with in the flap benchmark: FLAP_HEARTBEAT_MS (default
 * 2500) between pings, as much again before a silent peer is dropped. Half of the harsh
 * profile's outages blackhole the connection, which only a heartbeat notices; with the
 * shipped 25 s + 20 s a run of seconds would mostly measure clients waiting to notice.
 * Socket.IO's pingInterval/pingTimeout and Switchboard's heartbeat get the same values.
 */
export function flapHeartbeat(env: NodeJS.ProcessEnv = process.env): { interval: number; timeout: number } {
  const ms = Number(env.FLAP_HEARTBEAT_MS ?? 2500);
  if (!(ms > 0)) throw new RangeError(`FLAP_HEARTBEAT_MS must be a positive number, got ${env.FLAP_HEARTBEAT_MS}`);
  return { interval: ms, timeout: ms };
}
