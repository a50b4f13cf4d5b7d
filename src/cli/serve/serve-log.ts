/**
 * The log of `switchboard serve`: the server's Logger shape (src/server/logger.ts), written
 * as JSON lines to stdout (`log.format: "json"`, for a log collector) or as plain lines
 * (`"text"`, for a person; warnings and errors to stderr). Fields go through as given: the
 * callers never put a token among them.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../../server/logger.js';
import type { LogLevel } from './serve-config.js';

const RANK: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

export class ServeLog implements Logger {
  constructor(
    private readonly out: { stdout: Writable; stderr: Writable },
    private readonly format: 'text' | 'json',
    private readonly level: LogLevel,
    private readonly now: () => number = Date.now,
  ) {}

  error(fields: Record<string, unknown>, message?: string): void {
    this.write('error', fields, message);
  }

  warn(fields: Record<string, unknown>, message?: string): void {
    this.write('warn', fields, message);
  }

  info(fields: Record<string, unknown>, message?: string): void {
    this.write('info', fields, message);
  }

  debug(fields: Record<string, unknown>, message?: string): void {
    this.write('debug', fields, message);
  }

  private write(level: LogLevel, fields: Record<string, unknown>, message = ''): void {
    if (RANK[level] > RANK[this.level]) return;
    if (this.format === 'json') {
      this.out.stdout.write(`${JSON.stringify({ level, time: new Date(this.now()).toISOString(), msg: message, ...plainFields(fields) })}\n`);
      return;
    }
    const extra = Object.entries(plainFields(fields))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const line = `switchboard serve: ${level === 'info' ? '' : `${level}: `}${message}${extra ? ` (${extra})` : ''}\n`;
    (RANK[level] <= RANK.warn ? this.out.stderr : this.out.stdout).write(line);
  }
}

/** Errors as their name, code and message: JSON.stringify would print `{}`. */
function plainFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message, ...((value as { code?: unknown }).code !== undefined && { code: (value as { code?: unknown }).code }) } : value;
  }
  return out;
}
