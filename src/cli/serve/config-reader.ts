/**
 * Typed reads of one value of the `serve` configuration, each refusing a bad value with a
 * ConfigError that names the key: the config comes from a file, the environment and flags
 * that a person typed, so every refusal must say which key and what was expected.
 */
import { nearestName } from '../../protocol/option-names.js';

/** A bad configuration value (or an unknown key): `key` is its dotted path, as the file spells it. */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * A key whose value is a credential (a JWT secret, API keys, the admin token, a Redis URL
 * with its password): a refusal describes the value without its text, since config errors
 * end up in terminals, CI logs and bug reports.
 */
export interface ReadOptions {
  secret?: boolean;
}

function shown(value: unknown, options: ReadOptions = {}): string {
  if (options.secret) return described(value);
  return JSON.stringify(value) ?? String(value);
}

/** A value's kind and size, never its text: booleans and null only, which cannot be secrets, are shown. */
function described(value: unknown): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return `a string of ${value.length} characters (not shown: a secret)`;
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'} (not shown: a secret)`;
  if (typeof value === 'object') return 'an object (not shown: a secret)';
  return `a ${typeof value} (not shown: a secret)`;
}

/**
 * `url` with its credentials replaced by `***`: the user and password before the last `@`
 * (a password may hold an unencoded `@`), and the whole query (`?password=`). For a URL
 * that does not parse too, so a malformed one can still be named in an error.
 */
export function redactedUrl(url: string): string {
  let out = url;
  const query = out.indexOf('?');
  if (query !== -1) out = `${out.slice(0, query)}?***`;
  const at = out.lastIndexOf('@');
  if (at === -1) return out;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(out)?.[0] ?? '';
  return `${scheme}***@${out.slice(at + 1)}`;
}

/** `value` as an object whose keys are all in `known`; an unknown key is refused by name, with the nearest known one. */
export function readObject(key: string, value: unknown, known: readonly string[], options?: ReadOptions): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(key, `"${key}" must be an object, got ${shown(value, options)}`);
  for (const name of Object.keys(value)) {
    if (known.includes(name)) continue;
    const full = key === '' ? name : `${key}.${name}`;
    const near = nearestName(name, known);
    const hint = near !== undefined ? `did you mean "${key === '' ? near : `${key}.${near}`}"?` : `the keys${key === '' ? '' : ` of "${key}"`} are ${known.join(', ')}`;
    throw new ConfigError(full, `unknown key "${full}" (${hint})`);
  }
  return value as JsonObject;
}

export function readString(key: string, value: unknown, options?: ReadOptions): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(key, `"${key}" must be a non-empty string, got ${shown(value, options)}`);
  return value;
}

export function readBoolean(key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(key, `"${key}" must be true or false, got ${shown(value)}`);
  return value;
}

/** An integer in [min, max]. */
export function readInteger(key: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
    throw new ConfigError(key, `"${key}" must be ${range}, got ${shown(value)}`);
  }
  return value;
}

/** A list of non-empty strings (a single string is taken as a list of one). */
export function readStringList(key: string, value: unknown, options?: ReadOptions): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw new ConfigError(key, `"${key}" must be a list of non-empty strings, got ${shown(value, options)}`);
  }
  return list as string[];
}

/** One of `choices`. */
export function readChoice<T extends string>(key: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ConfigError(key, `"${key}" must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${shown(value)}`);
  }
  return value as T;
}
