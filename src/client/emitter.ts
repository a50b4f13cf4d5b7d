/**
 * A minimal event emitter for the SDK's lifecycle and app events. Not node:events: the
 * client bundle must run in browsers. Listener exceptions are reported, never allowed to
 * unwind into the socket's message handler, where they would skip the other listeners
 * and corrupt the connection's bookkeeping.
 */
// Listeners are stored untyped; the public, typed signatures live on SwitchboardClient.
export type Listener = (...args: never[]) => unknown;

interface Registration {
  fn: Listener;
  once: boolean;
}

export class Emitter {
  private readonly registry = new Map<string, Registration[]>();
  /** Catch-all listeners (`onAny`). Replaced, never mutated: a dispatch in progress keeps the list it started with. */
  private anyListeners: readonly Listener[] = [];

  /** @param reportError receives what a listener threw, or what its returned promise rejected with. */
  constructor(private readonly reportError: (error: unknown) => void) {}

  on(event: string, fn: Listener, once = false): void {
    const list = this.registry.get(event);
    if (list) list.push({ fn, once });
    else this.registry.set(event, [{ fn, once }]);
  }

  /** Remove one listener (its first registration), or every listener of the event when `fn` is omitted. */
  off(event: string, fn?: Listener): void {
    if (!fn) {
      this.registry.delete(event);
      return;
    }
    const list = this.registry.get(event);
    if (!list) return;
    const index = list.findIndex((r) => r.fn === fn);
    if (index !== -1) list.splice(index, 1);
    if (list.length === 0) this.registry.delete(event);
  }

  onAny(fn: Listener): void {
    this.anyListeners = [...this.anyListeners, fn];
  }

  /** Remove one catch-all listener (its first registration), or all of them when `fn` is omitted. */
  offAny(fn?: Listener): void {
    const index = fn ? this.anyListeners.indexOf(fn) : -1;
    this.anyListeners = fn ? this.anyListeners.filter((_, i) => i !== index) : [];
  }

  /** Call every catch-all listener with the event's name, data and meta; one length check when there are none. */
  emitAny(event: string, data: unknown, meta: unknown): void {
    if (this.anyListeners.length === 0) return;
    for (const fn of this.anyListeners) this.call(fn, [event, data, meta]);
  }

  listenerCount(event: string): number {
    return this.registry.get(event)?.length ?? 0;
  }

  /** The listeners to run for one occurrence of the event, in order; `once` listeners are removed. */
  take(event: string): Listener[] {
    const list = this.registry.get(event);
    if (!list) return [];
    const fns = list.map((r) => r.fn);
    if (list.some((r) => r.once)) {
      const kept = list.filter((r) => !r.once);
      if (kept.length > 0) this.registry.set(event, kept);
      else this.registry.delete(event);
    }
    return fns;
  }

  /** Call every listener with `args`. Returns how many there were. */
  emit(event: string, ...args: unknown[]): number {
    const fns = this.take(event);
    for (const fn of fns) this.call(fn, args);
    return fns.length;
  }

  /** Call one listener, reporting a throw or a rejected promise instead of propagating it. */
  call(fn: Listener, args: readonly unknown[]): unknown {
    try {
      const result = (fn as (...a: readonly unknown[]) => unknown)(...args);
      if (isThenable(result)) result.then(undefined, this.reportError);
      return result;
    } catch (error) {
      this.reportError(error);
      return undefined;
    }
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
