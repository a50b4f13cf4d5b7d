/**
 * The interactive front end: a readline prompt that shows the connection state, keeps a
 * history of the commands typed (up arrow), completes command names (tab), and prints
 * what arrives above the line being typed.
 */
import { clearLine, createInterface, cursorTo } from 'node:readline';
import type { CliIo } from '../command.js';
import { ACTION_NAMES, CommandError, parseCommandLine } from './actions.js';
import type { ConnectSession } from './connect-session.js';
import { whileConnecting } from './json-mode.js';
import type { ConnectOutput } from './outputs.js';
import { renderText } from './text-output.js';

const HISTORY_SIZE = 500;

/** Run the prompt until `quit`, end of input (Ctrl-D), Ctrl-C or the io's signal. */
export function runInteractive(makeSession: (report: (output: ConnectOutput) => void) => ConnectSession, io: CliIo, settleMs: number): Promise<number> {
  const terminal = Boolean(io.stdin.isTTY && io.stdout.isTTY);
  let ended = false;
  // Made first: a client option the SDK refuses throws before any prompt exists. Its events
  // arrive asynchronously, once `rl` below is set.
  const session = makeSession((output) => {
    if (output.type === 'state') rl.setPrompt(promptFor(output.state, session.settings.namespace));
    print(renderText(output));
  });
  const rl = createInterface({
    input: io.stdin,
    output: io.stdout,
    terminal,
    historySize: HISTORY_SIZE,
    completer: (line: string): [string[], string] => {
      if (/\s/.test(line)) return [[], line];
      const hits = ACTION_NAMES.filter((name) => name.startsWith(line.toLowerCase()));
      return [hits.length > 0 ? hits.map((h) => `${h} `) : [], line];
    },
  });

  // Output that arrives while the user types goes above their line, which is then redrawn.
  const print = (text: string): void => {
    if (terminal) {
      clearLine(io.stdout, 0);
      cursorTo(io.stdout, 0);
    }
    io.stdout.write(`${text}\n`);
    if (terminal && !ended) rl.prompt(true);
  };
  rl.setPrompt(promptFor(session.client.state, session.settings.namespace));
  print(`Connecting to ${session.settings.url}. Type help for the commands, quit to leave.`);

  return new Promise<number>((resolve) => {
    const finish = (): void => {
      if (ended) return;
      ended = true;
      io.signal.removeEventListener('abort', finish);
      session.close();
      rl.close();
      resolve(0);
    };
    io.signal.addEventListener('abort', finish);
    rl.on('SIGINT', finish);
    // Piped input: its end is not a Ctrl-D; let the commands it carried get their replies first.
    rl.on('close', () => {
      if (terminal || ended) return finish();
      void whileConnecting(session, settleMs, io.signal)
        .then(() => session.drain())
        .then(finish);
    });
    rl.on('line', (line) => {
      try {
        const action = parseCommandLine(line);
        if (action?.cmd === 'quit') return finish();
        if (action) void session.run(action);
        else if (terminal) rl.prompt();
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        print(`! ${error.message}`);
      }
    });
  });
}

function promptFor(state: string, namespace: string | undefined): string {
  return `${state}${namespace && namespace !== '/' ? ` ${namespace}` : ''}> `;
}
