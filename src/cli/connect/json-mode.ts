/**
 * The `--json` front end for scripts: one JSON command per input line, one JSON object per
 * output line (a ConnectOutput). Commands run as they are read; their replies come when
 * the server answers and carry the command's `id`. Ends at `quit` or the end of input,
 * after the replies still pending.
 */
import { createInterface } from 'node:readline';
import type { CliIo } from '../command.js';
import { CommandError, parseJsonCommand } from './actions.js';
import type { ConnectSession } from './connect-session.js';
import type { ConnectOutput } from './outputs.js';

export async function runJsonLines(makeSession: (report: (output: ConnectOutput) => void) => ConnectSession, io: CliIo, settleMs: number): Promise<number> {
  const write = (output: ConnectOutput): void => void io.stdout.write(`${JSON.stringify(output)}\n`);
  const session = makeSession(write);
  const rl = createInterface({ input: io.stdin, terminal: false });
  let quitId: { id?: string | number } | undefined;
  const aborted = new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));

  const reading = (async () => {
    for await (const line of rl) {
      if (line.trim() === '') continue;
      try {
        const { action, id } = parseJsonCommand(line);
        if (action.cmd === 'quit') {
          quitId = id === undefined ? {} : { id };
          break;
        }
        void session.run(action, id);
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        write({ type: 'error', ...(error.id !== undefined && { id: error.id }), code: error.code, message: error.message });
      }
    }
  })();
  await Promise.race([reading, aborted]);
  rl.close();
  if (!io.signal.aborted) {
    // Emits buffered while the connection is still being made go out once it is up.
    await whileConnecting(session, settleMs, io.signal);
    await Promise.race([session.drain(), aborted]);
  }
  if (quitId) write({ type: 'reply', cmd: 'quit', ...quitId });
  const failed = session.client.state === 'disconnected';
  session.close();
  return failed ? 1 : 0;
}

/** Resolve once the client is connected or stopped, or after `ms`. */
export function whileConnecting(session: ConnectSession, ms: number, signal: AbortSignal): Promise<void> {
  if (session.client.state !== 'connecting') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      session.client.off('state', onState);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const onState = (): void => {
      if (session.client.state !== 'connecting') done();
    };
    const timer = setTimeout(done, ms);
    session.client.on('state', onState);
    signal.addEventListener('abort', done);
  });
}
