/**
 * Typed events. An event map names each event and its handler signature: the
 * parameter is the event's data, the return type is the reply to a request.
 *
 *   interface ClientEvents { chat(msg: { text: string }): { id: string } }
 *
 * The index signature uses `any` because TypeScript lets interfaces (which have no
 * implicit index signature) satisfy only an `any`-valued one; the helpers below
 * recover the precise types.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export interface EventMap { [event: string]: any }

/** Untyped default: any event name, any data, any reply. */
// biome-ignore lint/suspicious/noExplicitAny: the untyped escape hatch
export type AnyEvents = Record<string, (data?: any) => any>;

export type EventNames<M extends EventMap> = Extract<keyof M, string>;
// biome-ignore lint/suspicious/noExplicitAny: matches any handler shape
export type EventData<M extends EventMap, E extends keyof M> = M[E] extends (...args: infer A) => any ? A[0] : never;
// biome-ignore lint/suspicious/noExplicitAny: matches any handler shape
export type EventReply<M extends EventMap, E extends keyof M> = M[E] extends (...args: any[]) => infer R ? Awaited<R> : never;
