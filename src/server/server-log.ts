import type { Logger } from './logger.js';

type Level = 'error' | 'warn' | 'info' | 'debug';
const LEVELS: readonly Level[] = ['error', 'warn', 'info', 'debug'];

/**
 * The server's side of the `logger` option: a pino-shaped logger is called as is, `console`
 * gets the message first and the fields after it (its methods print their arguments in
 * order, so `(fields, message)` would read backwards), and without a logger nothing is
 * written (`active` is false and callers skip building the fields).
 */
export class ServerLog {
  /** A logger was given. */
  readonly active: boolean;
  private readonly target: Logger | undefined;

  constructor(logger: Logger | undefined) {
    if (logger !== undefined) checkLogger(logger);
    this.active = logger !== undefined;
    this.target = logger === console ? consoleLogger : logger;
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.target?.error(fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.target?.warn(fields, message);
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.target?.info(fields, message);
  }

  debug(fields: Record<string, unknown>, message: string): void {
    this.target?.debug(fields, message);
  }
}

/** A logger without one of the four methods fails at construction, not at its first refusal. */
function checkLogger(logger: unknown): void {
  const missing = LEVELS.filter((level) => typeof (logger as Record<string, unknown> | null)?.[level] !== 'function');
  if (typeof logger !== 'object' || logger === null || missing.length > 0) {
    throw new TypeError(`Switchboard option logger must have the methods error, warn, info and debug (as pino and console do); missing: ${missing.join(', ')}`);
  }
}

/** `console`: `[switchboard] message { fields }`, on the stream console uses for the level. */
const consoleLogger: Logger = {
  error: (fields, message) => console.error(`[switchboard] ${message ?? ''}`, fields),
  warn: (fields, message) => console.warn(`[switchboard] ${message ?? ''}`, fields),
  info: (fields, message) => console.info(`[switchboard] ${message ?? ''}`, fields),
  debug: (fields, message) => console.debug(`[switchboard] ${message ?? ''}`, fields),
};
