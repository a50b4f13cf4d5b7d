/**
 * `switchboard doctor URL`: walks the path a real client takes to a Switchboard endpoint
 * and says, for each step, what it found and the fix (docs/OPERATIONS.md, "doctor").
 */
import type { Command } from '../command.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../command.js';
import { UsageError } from '../usage.js';
import { DEFAULT_SSE_WAIT_MS, DEFAULT_TIMEOUT_MS, parseDoctorArgs } from './options.js';
import { jsonReport, passed, stepLine, summaryLine } from './report.js';
import type { StepResult } from './step-result.js';
import { resolveTarget, TargetError } from './target.js';
import { walk } from './walk.js';

const HELP = `Usage: switchboard doctor URL [options]

Walks the path a real client takes to a Switchboard endpoint — URL, DNS, TCP, TLS, the
HTTP upgrade, the hello/welcome handshake, the page origin, the long-polling and SSE
fallbacks, and an idle connection — and says for each step what it found and the fix.

Options:
  --origin ORIGIN    check whether a browser page on ORIGIN is allowed (e.g. https://app.example.com)
  --auth JSON        the hello's auth payload, for a server whose middleware wants one (e.g. '{"token":"…"}')
  --idle DURATION    keep a connection idle this long and check it is not cut (e.g. 75s)
  --path PATH        the endpoint's path, replacing the URL's (default: the URL's, else /ws)
  --insecure         go on past a TLS certificate clients would refuse (still reported)
  --ca FILE          also trust the CA certificate(s) in this PEM file (a private CA), besides Node's
  --timeout DURATION bound on each network wait (default ${DEFAULT_TIMEOUT_MS / 1000}s)
  --sse-wait DURATION how soon the first SSE event must arrive (default ${DEFAULT_SSE_WAIT_MS / 1000}s)
  --json             print one JSON document { url, ok, steps } instead of lines

Durations: 75s, 500ms, 2m, or a number of seconds.
Exit status: 0 no step failed, 1 a step failed, 2 bad usage.

Examples:
  switchboard doctor wss://chat.example.com/ws
  switchboard doctor wss://chat.example.com/ws --origin https://chat.example.com --idle 75s
  switchboard doctor http://localhost:3000 --json
`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check the way from a client to a Switchboard URL, step by step, and say the fix',
  help: HELP,
  async run(args, io) {
    let options;
    let resolved;
    try {
      options = parseDoctorArgs(args);
      resolved = resolveTarget(options.url, options.path);
    } catch (error) {
      if (error instanceof UsageError || error instanceof TargetError) {
        io.stderr.write(`switchboard doctor: ${error.message}\n(switchboard doctor --help for the options)\n`);
        return EXIT_USAGE;
      }
      throw error;
    }
    const { target } = resolved;
    const results: StepResult[] = [];
    const report = (result: StepResult): void => {
      results.push(result);
      if (!options.json) io.stdout.write(stepLine(result));
    };
    if (!options.json) io.stdout.write(`switchboard doctor ${target.url.href}\n`);
    report(resolved.result);
    await walk(target, options, report);
    if (options.json) io.stdout.write(jsonReport(target.url.href, results));
    else io.stdout.write(summaryLine(results));
    return passed(results) ? EXIT_OK : EXIT_FAILED;
  },
};
