/**
 * `switchboard connect URL`: a protocol-aware client for any Switchboard server, like
 * wscat but speaking the protocol: interactive, `--json` lines for scripts, or `-x` one-shots.
 */
import type { Command } from '../command.js';
import { EXIT_USAGE } from '../command.js';
import { ACTION_NAMES, COMMAND_USAGE } from './actions.js';
import { UsageError } from '../usage.js';
import { parseConnectArgs } from './connect-options.js';
import { ConnectSession } from './connect-session.js';
import { runExecute } from './execute.js';
import { runInteractive } from './interactive.js';
import { runJsonLines } from './json-mode.js';

const HELP = `Usage: switchboard connect URL [options]

Connects to a Switchboard server with the client SDK and lets you join rooms, emit,
send requests, read history and presence, and watch every event that arrives, on
every transport (a request from the server is shown and answered with null).
URL is the WebSocket endpoint (ws://host:3000/ws); http(s):// means ws(s)://, and a URL
without a path gets /ws.

Options:
  --auth JSON            the handshake's auth payload, e.g. '{"token":"abc"}'
  -n, --namespace /NS    the namespace to connect (default /)
  -t, --transport LIST   websocket, sse, polling (comma-separated or repeated; default all, in that order)
  --origin ORIGIN        the Origin header of the WebSocket upgrade
  -H, --header 'N: V'    an extra header of the WebSocket upgrade (repeatable)
  -k, --insecure         accept a TLS certificate that does not verify (WebSocket only)
  --json                 read JSON commands from stdin, write JSON lines to stdout
  -x, --execute CMD      run this command once connected, then exit (repeatable, in order)
  --timeout DURATION     request/join/history timeout, and how long -x waits to connect (default 10s)
  --no-reconnect         stop after the first lost connection instead of reconnecting

Commands (interactive and -x):
${ACTION_NAMES.map((name) => `  ${COMMAND_USAGE[name]}`).join('\n')}

Examples:
  switchboard connect ws://localhost:3000/ws --auth '{"name":"ada"}'
  switchboard connect ws://localhost:3000/ws -x 'join lobby' -x 'request say {"text":"hi"}'
  echo '{"cmd":"request","event":"ping","id":1}' | switchboard connect ws://localhost:3000/ws --json
`;

export const connectCommand: Command = {
  name: 'connect',
  summary: 'talk to a server: join, emit, request, history, presence (interactive or --json)',
  help: HELP,
  async run(args, io) {
    let invocation;
    try {
      invocation = parseConnectArgs(args);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr.write(`switchboard connect: ${error.message}\n(switchboard connect --help for the options)\n`);
      return EXIT_USAGE;
    }
    const { settings, json, execute, timeout } = invocation;
    const makeSession = (report: ConstructorParameters<typeof ConnectSession>[1]): ConnectSession => new ConnectSession(settings, report);
    try {
      if (execute.length > 0) return await runExecute(makeSession, execute, json, io, timeout);
      if (json) return await runJsonLines(makeSession, io, timeout);
      return await runInteractive(makeSession, io, timeout);
    } catch (error) {
      // The SDK refuses options it cannot use (a namespace too long, no usable transport) with these.
      if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
      io.stderr.write(`switchboard connect: ${error.message}\n`);
      return EXIT_USAGE;
    }
  },
};
