/**
 * The logger the server writes to (option `logger`): pino's shape, so a pino logger (or
 * one of its children) is passed as is, and anything with these four methods works. Each
 * call passes an object of fields first, then a message. Tokens are never among the fields.
 */
export interface Logger {
  error(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  debug(fields: Record<string, unknown>, message?: string): void;
}
