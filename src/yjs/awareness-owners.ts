/**
 * Which connection (socket id) speaks for which Yjs clientIDs in one document's awareness,
 * so that a socket's states can be removed when it leaves. The last socket to send a
 * clientID's state owns it: a client that reconnects on a new session takes its states along.
 */
export class AwarenessOwners {
  readonly #ownerOf = new Map<number, string>();
  readonly #clientsOf = new Map<string, Set<number>>();

  claim(socketId: string, clientIDs: Iterable<number>): void {
    for (const clientID of clientIDs) {
      const previous = this.#ownerOf.get(clientID);
      if (previous === socketId) continue;
      if (previous !== undefined) this.#clientsOf.get(previous)?.delete(clientID);
      this.#ownerOf.set(clientID, socketId);
      let set = this.#clientsOf.get(socketId);
      if (!set) this.#clientsOf.set(socketId, (set = new Set()));
      set.add(clientID);
    }
  }

  /** The states are gone (removed by their client, or timed out). */
  forget(clientIDs: Iterable<number>): void {
    for (const clientID of clientIDs) {
      const owner = this.#ownerOf.get(clientID);
      if (owner === undefined) continue;
      this.#ownerOf.delete(clientID);
      const set = this.#clientsOf.get(owner);
      set?.delete(clientID);
      if (set?.size === 0) this.#clientsOf.delete(owner);
    }
  }

  /** Take every clientID `socketId` owns out of the record, and return them. */
  release(socketId: string): number[] {
    const set = this.#clientsOf.get(socketId);
    if (!set) return [];
    this.#clientsOf.delete(socketId);
    for (const clientID of set) this.#ownerOf.delete(clientID);
    return [...set];
  }

  get size(): number {
    return this.#ownerOf.size;
  }
}
