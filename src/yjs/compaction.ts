import * as Y from 'yjs';

/**
 * One update holding everything in `updates`. Applied to a scratch document rather than
 * `Y.mergeUpdates`: the document garbage-collects deleted content, so a compacted log stays
 * the size of the text, not of every keystroke ever deleted.
 */
export function mergeStoredUpdates(updates: readonly Uint8Array[]): Uint8Array {
  if (updates.length === 1) return updates[0] as Uint8Array;
  const doc = new Y.Doc();
  try {
    doc.transact(() => {
      for (const update of updates) Y.applyUpdate(doc, update);
    });
    // Includes structs still waiting for a missing dependency: they are not dropped.
    return Y.encodeStateAsUpdate(doc);
  } finally {
    doc.destroy();
  }
}
