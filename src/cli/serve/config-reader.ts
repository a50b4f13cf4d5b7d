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

function shown(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** `value` as an object whose keys are all in `known`; an unknown key is refused by name, with the nearest known one. */
export function readObject(key: string, value: unknown, known: readonly string[]): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(key, `"${key}" must be an object, got ${shown(value)}`);
  for (const name of Object.keys(value)) {
    if (known.includes(name)) continue;
    const full = key === '' ? name : `${key}.${name}`;
    const near = nearestName(name, known);
    const hint = near !== undefined ? `did you mean "${key === '' ? near : `${key}.${near}`}"?` : `the keys${key === '' ? '' : ` of "${key}"`} are ${known.join(', ')}`;
    throw new ConfigError(full, `unknown key "${full}" (${hint})`);
  }
  return value as JsonObject;
}

export function readString(key: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(key, `"${key}" must be a non-empty string, got ${shown(value)}`);
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
export function readStringList(key: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw new ConfigError(key, `"${key}" must be a list of non-empty strings, got ${shown(value)}`);
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
