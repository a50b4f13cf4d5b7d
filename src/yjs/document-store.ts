/**
 * Where a document's updates are kept between restarts, and shared between the nodes of a
 * cluster. A store keeps a log of Yjs updates per document, each at a sequence number
 * (`seq`, increasing, never reused); compaction replaces the updates up to some seq by one
 * merged update stored at that seq. Because applying an update twice is harmless in Yjs,
 * a reader whose cursor falls inside a compacted range just gets the merged update again.
 */
export interface DocumentStore {
  /**
   * The updates stored after `after` (a `cursor` from an earlier load or append; all when
   * undefined), oldest first, and the cursor to read on from.
   */
  load(document: string, after?: number): Promise<StoredUpdates>;
  /** Append one update (validated by the caller). Resolves once it is durable in the store. */
  append(document: string, update: Uint8Array): Promise<AppendResult>;
  /**
   * Merge every update stored so far into one. Updates appended meanwhile (by this or
   * another node) are kept after the merged one, never lost.
   */
  compact(document: string): Promise<void>;
  /** Release what the store holds (files, connections it opened itself). */
  close(): Promise<void>;
}

/** What `load` found. */
export interface StoredUpdates {
  /** The updates, oldest first (possibly one merged update covering some the reader had: harmless). */
  updates: Uint8Array[];
  /** The seq of the last update returned (or the `after` given, when none): pass it to the next load. */
  cursor: number;
}

/** Where `append` put the update. */
export interface AppendResult {
  /** The update's seq. */
  seq: number;
  /** Updates stored since the last compaction, this one included: the host compacts past `compactAfter`. */
  uncompacted: number;
}
