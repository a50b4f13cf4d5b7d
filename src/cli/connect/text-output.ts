/**
 * The interactive mode's rendering of a ConnectOutput: one readable line (or a few, for
 * lists), with the time of what arrived from the server.
 */
import { formatPosition } from './actions.js';
import type { ConnectOutput } from './outputs.js';

/** Payloads longer than this are cut in the terminal (the --json mode never cuts). */
const MAX_PAYLOAD_CHARS = 2000;

export function renderText(output: ConnectOutput): string {
  switch (output.type) {
    case 'event': {
      const where = output.room !== undefined ? ` [${output.room}${output.position ? ` @${formatPosition(output.position)}` : ''}]` : '';
      return `${clock(output.time)} < ${output.event}${where} ${payload(output.data)}`;
    }
    case 'state': {
      const details = [output.reason, output.closeCode !== undefined ? `close ${output.closeCode}` : '', output.error ? `${output.error.code}: ${output.error.message}` : ''].filter(Boolean).join(', ');
      const session = output.state === 'connected' ? ` session ${output.id ?? '?'} via ${output.transport ?? '?'}${output.resumed ? ' (resumed)' : ''}` : '';
      return `${clock(output.time)} * ${output.state} (${details})${session}`;
    }
    case 'reconnecting':
      return `${clock(output.time)} * reconnecting in ${output.delay} ms (attempt ${output.attempt}, ${output.reason})`;
    case 'presence':
      return `${clock(output.time)} * ${output.user} ${output.kind === 'join' ? 'came into' : 'left'} ${output.room}${output.info !== null ? ` ${payload(output.info)}` : ''}`;
    case 'recovery':
      return `${clock(output.time)} * rejoined ${output.room} at ${formatPosition(output.position)}: ${output.recovered ? 'recovered every missed publication' : 'NOT recovered (the gap is no longer in history)'}`;
    case 'error': {
      const latency = output.ms !== undefined ? ` (${output.ms} ms)` : '';
      return `! ${output.cmd ? `${output.cmd}: ` : ''}${output.code}: ${output.message}${latency}`;
    }
    case 'reply':
      return renderReply(output);
  }
}

function renderReply(output: Extract<ConnectOutput, { type: 'reply' }>): string {
  const latency = output.ms !== undefined ? ` (${output.ms} ms)` : '';
  const data = output.data as Record<string, unknown> & unknown[];
  switch (output.cmd) {
    case 'help':
      return ['Commands:', ...(data as string[]).map((line) => `  ${line}`)].join('\n');
    case 'emit':
      return data.sent ? '= sent' : '= buffered (not connected: sent after the next connect)';
    case 'rooms':
      return data.length === 0 ? '= no rooms' : `= ${data.join(', ')}`;
    case 'presence':
      return data.length === 0 ? `= nobody${latency}` : `= ${(data as Array<{ user: string; info: unknown }>).map((m) => (m.info === null ? m.user : `${m.user} ${payload(m.info)}`)).join(', ')}${latency}`;
    case 'history': {
      const reply = output.data as { publications: Array<{ event: string; data?: unknown; position: { epoch: string; offset: number } }>; position: { epoch: string; offset: number } };
      const lines = reply.publications.map((p) => `  @${formatPosition(p.position)} ${p.event} ${payload(p.data)}`);
      return [`= ${reply.publications.length} publication(s), room at @${formatPosition(reply.position)}${latency}`, ...lines].join('\n');
    }
    case 'join': {
      const reply = output.data as { room: string; durable?: boolean; position?: { epoch: string; offset: number }; recovered?: boolean };
      const durable = reply.durable && reply.position ? ` (durable, at @${formatPosition(reply.position)}${reply.recovered !== undefined ? `, recovered: ${reply.recovered}` : ''})` : '';
      return `= joined ${reply.room}${durable}${latency}`;
    }
    case 'leave':
      return `= left ${(output.data as { room: string }).room}${latency}`;
    case 'status':
      return Object.entries(data).map(([key, value]) => `  ${key}: ${Array.isArray(value) ? value.join(', ') || '-' : String(value)}`).join('\n');
    case 'reconnect':
      return '= reconnecting';
    default:
      return `= ${payload(output.data)}${latency}`;
  }
}

function payload(data: unknown): string {
  if (data === undefined) return '(no data)';
  const text = JSON.stringify(data) ?? String(data);
  return text.length > MAX_PAYLOAD_CHARS ? `${text.slice(0, MAX_PAYLOAD_CHARS)}… (${text.length} chars)` : text;
}

/** Local wall-clock time with milliseconds: what a person compares with their logs. */
function clock(iso: string): string {
  const d = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
