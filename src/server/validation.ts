import { RESERVED_EVENTS } from '../protocol/constants.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { EventData, EventMap, EventNames, EventReply } from '../protocol/event-map.js';
import type { ErrorPayload, PayloadIssue } from '../protocol/frames.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/** Schemas for some of a namespace's client events, by event name. */
export type EventSchemas<CE extends EventMap> = { readonly [E in EventNames<CE>]?: StandardSchemaV1 };

/**
 * What `schemas()` accepts for `S`: only events of a typed map, and for each a schema
 * that accepts the data the map declares (a client typed by the same map must not send
 * what the schema can never take). With the untyped `AnyEvents` any name and schema go.
 */
export type CheckedSchemas<CE extends EventMap, S> = {
  [E in keyof S]: E extends EventNames<CE>
    ? string extends keyof CE
      ? S[E]
      : S[E] extends StandardSchemaV1
        ? [EventData<CE, E>] extends [StandardSchemaV1.InferInput<S[E]>]
          ? S[E]
          : StandardSchemaV1<EventData<CE, E>, unknown>
        : StandardSchemaV1
    : never;
};

/**
 * The client event map once `S` is declared: a validated event's handlers get the
 * schema's output (transforms and defaults applied); its reply type is unchanged.
 */
export type ValidatedEvents<CE extends EventMap, S> = WithoutEvents<CE, keyof S> & {
  [E in Extract<keyof S, string>]: S[E] extends StandardSchemaV1
    ? (data: StandardSchemaV1.InferOutput<S[E]>) => E extends keyof CE ? EventReply<CE, E> : unknown
    : never;
};

/**
 * `Omit` that keeps the named events of an untyped map: `Omit` maps over `keyof`, which
 * for a map with an index signature is just `string`, losing events validated earlier.
 */
export type WithoutEvents<CE, K> = { [E in keyof CE as E extends K ? never : E]: CE[E] };

/** A validation's outcome: the data handlers get, or the error the client gets. */
export type Validation = { ok: true; value: unknown } | { ok: false; error: ErrorPayload; thrown?: unknown };

/** Issues listed in the message; `details.issues` carries up to MAX_DETAILED. */
const MAX_IN_MESSAGE = 3;
const MAX_DETAILED = 10;
/** A hostile payload must not make the server send back more than it received. */
const MAX_TEXT = 200;
const MAX_PATH_KEYS = 32;

/** Check what an app passed to `schemas()`: a Standard Schema per ordinary event name. */
export function assertEventSchema(event: string, schema: unknown): asserts schema is StandardSchemaV1 {
  if (RESERVED_EVENTS.has(event)) throw new TypeError(`"${event}" is a reserved event name and never carries client data`);
  const props = (schema as Partial<StandardSchemaV1> | null | undefined)?.['~standard'];
  if (props?.version !== 1 || typeof props.validate !== 'function') {
    throw new TypeError(`the schema for "${event}" is not a Standard Schema v1 (no "~standard.validate"): use zod, valibot, arktype or another implementation`);
  }
}

/**
 * Validate an event's data. Synchronous when the schema is; never rejects and never
 * throws: a schema that fails is an `internal_error` carrying what it threw.
 */
export function validateEvent(schema: StandardSchemaV1, event: string, data: unknown): Validation | Promise<Validation> {
  let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
  try {
    result = schema['~standard'].validate(data);
  } catch (err) {
    return schemaFailed(event, err);
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      (settled) => outcome(event, settled),
      (err: unknown) => schemaFailed(event, err),
    );
  }
  return outcome(event, result);
}

function outcome(event: string, result: StandardSchemaV1.Result<unknown>): Validation {
  try {
    return readResult(event, result);
  } catch (err) {
    // A result that breaks the spec (a path that is not an array, say) is the schema's fault.
    return schemaFailed(event, err);
  }
}

function readResult(event: string, result: StandardSchemaV1.Result<unknown>): Validation {
  if (typeof result !== 'object' || result === null) return schemaFailed(event, new TypeError(`the schema returned ${String(result)}, not a result`));
  if (result.issues !== undefined) {
    if (!Array.isArray(result.issues)) return schemaFailed(event, new TypeError('the schema returned issues that are not an array'));
    return { ok: false, error: invalidData(event, result.issues) };
  }
  return { ok: true, value: result.value };
}

function schemaFailed(event: string, thrown: unknown): Validation {
  return {
    ok: false,
    error: { code: ErrorCode.InternalError, message: `validating "${event}" data failed; details are in the server log` },
    thrown,
  };
}

/** `bad_request` naming the paths: `invalid "e" data: items[2].name: Required` and `details.issues`. */
export function invalidData(event: string, issues: readonly StandardSchemaV1.Issue[]): ErrorPayload {
  const detailed: PayloadIssue[] = [];
  for (let i = 0; i < issues.length && i < MAX_DETAILED; i++) {
    const issue = issues[i] as StandardSchemaV1.Issue;
    detailed.push({ path: shortPath(Array.isArray(issue.path) ? issue.path : []), message: clip(typeof issue.message === 'string' ? issue.message : 'invalid') });
  }
  const listed = detailed.slice(0, MAX_IN_MESSAGE).map((issue) => {
    const where = formatPath(issue.path);
    // Some libraries (arktype) already start their messages with the path.
    return issue.message.startsWith(`${where} `) ? issue.message : `${where}: ${issue.message}`;
  });
  const more = issues.length - listed.length;
  const summary = listed.length === 0 ? '' : `: ${listed.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`;
  return { code: ErrorCode.BadRequest, message: `invalid "${event}" data${summary}`, details: { issues: detailed } };
}

/** `items[2].name`, `["a b"].c`, `(root)` for the data itself. */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return clip(out);
}

/** Deeply nested data must not make a path longer than the data that caused it is worth. */
function shortPath(path: readonly (PropertyKey | StandardSchemaV1.PathSegment)[]): (string | number)[] {
  // A plain loop, not slice/map: libraries hand over Array subclasses (arktype's
  // ReadonlyPath) whose constructors do not survive Array species creation.
  const keys: (string | number)[] = [];
  for (let i = 0; i < path.length && i < MAX_PATH_KEYS; i++) keys.push(pathKey(path[i] as PropertyKey | StandardSchemaV1.PathSegment));
  if (path.length > MAX_PATH_KEYS) keys.push('…');
  return keys;
}

function pathKey(segment: PropertyKey | StandardSchemaV1.PathSegment): string | number {
  const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
  if (typeof key === 'number' && Number.isFinite(key)) return key;
  return clip(String(key));
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
