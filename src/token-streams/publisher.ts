/**
 * What a token stream publishes through: anything with `to(room).publish(event, data)` —
 * a `Switchboard`, a `Namespace`, or the redis `Emitter` and `EmitterNamespace` — so that a
 * worker process that serves no clients can stream too. The room must be durable there.
 */
export interface TokenStreamPublisher {
  /** A broadcast to one room. */
  to(room: string): {
    /** Append a publication to the durable room's stream and deliver it; resolves once appended. */
    // biome-ignore lint/suspicious/noExplicitAny: the app's event map types its events' data; the stream's events are its own
    publish(event: string, data: any): Promise<unknown>;
  };
}
