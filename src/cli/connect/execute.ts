/**
 * `switchboard connect URL -x 'cmd' [-x 'cmd' ...]`: wait for the connection, run the
 * commands one after the other (each waits for its reply), print everything, exit.
 * Exits 1 when the connection could not be made or a command failed.
 */
import type { CliIo } from '../command.js';
import { EXIT_FAILED, EXIT_OK } from '../command.js';
import { CommandError, parseCommandLine } from './actions.js';
import type { ConnectSession } from './connect-session.js';
import { whileConnecting } from './json-mode.js';
import type { ConnectOutput } from './outputs.js';
import { renderText } from './text-output.js';

export async function runExecute(
  makeSession: (report: (output: ConnectOutput) => void) => ConnectSession,
  lines: string[],
  json: boolean,
  io: CliIo,
  timeoutMs: number,
): Promise<number> {
  // Parse everything first: a typo in the third command should not leave two done.
  const actions = [];
  for (const line of lines) {
    try {
      const action = parseCommandLine(line);
      if (action) actions.push(action);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      io.stderr.write(`switchboard connect: -x '${line}': ${error.message}\n`);
      return 2;
    }
  }
  let failed = false;
  const session = makeSession((output) => {
    if (output.type === 'error' && output.cmd) failed = true;
    io.stdout.write(`${json ? JSON.stringify(output) : renderText(output)}\n`);
  });
  try {
    await whileConnecting(session, timeoutMs, io.signal);
    if (!session.client.connected) {
      io.stderr.write(`switchboard connect: not connected to ${session.settings.url} after ${timeoutMs} ms (state ${session.client.state})\n`);
      return EXIT_FAILED;
    }
    for (const action of actions) {
      if (io.signal.aborted || action.cmd === 'quit') break;
      await session.run(action);
    }
    return failed ? EXIT_FAILED : EXIT_OK;
  } finally {
    session.close();
  }
}
