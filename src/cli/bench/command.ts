/**
 * `switchboard bench URL`: load a running server with N connections in one room and
 * measure connect times, fan-out deliveries per second and end-to-end latency.
 */
import type { Command } from '../command.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../command.js';
import { UsageError } from '../usage.js';
import { parseBenchArgs } from './bench-options.js';
import { progressLine, summaryTable } from './bench-report.js';
import { runBench } from './bench-run.js';

const HELP = `Usage: switchboard bench URL [options]

Opens connections to a running server, joins them to a room, publishes to the room and
measures what every connection receives. Progress goes to stderr, the summary to stdout.
URL is the WebSocket endpoint (ws://host:3000/ws); http(s):// means ws(s)://, and a URL
without a path gets /ws.

Options:
  -c, --connections N    connections to open (default 100)
  -r, --rate R/s         new connections per second during the ramp (default 200/s)
  --room NAME            the room to join and publish to (default bench)
  --join-event EVENT     join by sending the request EVENT with {"room":NAME} instead of a protocol join
  --auth JSON            the handshake's auth payload of every connection
  -n, --namespace /NS    the namespace (default /)
  --api URL              publish through the HTTP API: POST URL/publish (e.g. http://localhost:3000/api/switchboard)
  --api-key KEY          the API key for --api (sent as Authorization: Bearer KEY); without it,
                         SWITCHBOARD_API_KEY from the environment (which ps does not show)
  --emit EVENT           or: the first connection sends the request EVENT, which the server broadcasts to the room
  -e, --event NAME       the event the connections count (default bench)
  -m, --messages R/s     publications per second (default 10/s)
  -d, --duration D       how long to publish, after the ramp (default 10s)
  --timeout D            how long a connection may take to connect, to join, and an --api publish
                         to be answered (default 10s)
  --json                 the summary as one JSON object

Without --api or --emit the bench only opens the connections and holds them for the duration.

Examples:
  switchboard bench ws://localhost:3000/ws -c 1000 --api http://localhost:3000/api/switchboard   # key in SWITCHBOARD_API_KEY
  switchboard bench ws://localhost:3000/ws -c 200 --auth '{"name":"bench"}' --join-event joinRoom --emit sendMessage --event message
`;

export const benchCommand: Command = {
  name: 'bench',
  summary: 'load a server: connections, fan-out deliveries/s and latency, with a summary table',
  help: HELP,
  async run(args, io) {
    let settings;
    try {
      settings = parseBenchArgs(args, io.env);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr.write(`switchboard bench: ${error.message}\n(switchboard bench --help for the options)\n`);
      return EXIT_USAGE;
    }
    const terminal = (io.stderr as { isTTY?: boolean }).isTTY === true;
    let shown = false;
    let result;
    try {
      result = await runBench(settings, io.signal, (snapshot) => {
        // On a terminal the line is rewritten in place; in a log, one line per tick.
        io.stderr.write(terminal ? `\r\x1b[K${progressLine(snapshot)}` : `${progressLine(snapshot)}\n`);
        shown = true;
      });
    } catch (error) {
      if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
      io.stderr.write(`switchboard bench: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (terminal && shown) io.stderr.write('\n');
    io.stdout.write(settings.json ? `${JSON.stringify(result)}\n` : summaryTable(result));
    const failed = result.connections.opened === 0 || result.connections.failed > 0 || result.messages.failed > 0;
    return failed ? EXIT_FAILED : EXIT_OK;
  },
};
