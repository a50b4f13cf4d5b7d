/**
 * The editing workload, the same for every system: each editor inserts a short run of
 * characters at the end of the shared Y.Text, and the characters carry the moment of the
 * edit, so that any editor that receives the edit can tell how long it took to arrive.
 *
 * The moment is CLOCK_MONOTONIC in µs (`process.hrtime`, which libuv reads from
 * clock_gettime(CLOCK_MONOTONIC) on Linux): one clock for every process on the machine,
 * not set by NTP steps, as the other benches here use (../servers/harness.ts). run.ts
 * checks that the load processes read the same clock as the runner before it trusts it.
 */
import * as Y from 'yjs';

/** The document every editor edits; a document room for Switchboard's host (its `documents` option is /^doc:/). */
export const DOCUMENT = 'doc:bench';
/** The shared text's name in the Y.Doc. */
export const TEXT = 'text';

export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** What one edit inserts: the stamp in base 36 and a terminator (8 characters once the machine has been up 36 minutes). */
export function editText(stampUs: number): string {
  return `${stampUs.toString(36)};`;
}

/**
 * The stamps in a run of inserted text. A remote transaction normally holds one edit,
 * but a provider may merge several updates into one (after a resync, say): all count.
 */
export function stampsIn(inserted: string, out: number[]): void {
  let start = 0;
  for (let end = inserted.indexOf(';'); end !== -1; end = inserted.indexOf(';', start)) {
    const stamp = parseInt(inserted.slice(start, end), 36);
    if (Number.isFinite(stamp)) out.push(stamp);
    start = end + 1;
  }
}

/**
 * The characters a remote transaction inserted, read from the document's struct store:
 * for every client whose clock advanced, its items from the clock before the transaction
 * to the one after (found from the end of the client's list, where new items are). Not
 * the text event's delta, which walks the whole text on every event: at a few thousand
 * characters that walk, not Yjs, would be what the load processes measure.
 */
export function insertedBy(transaction: Y.Transaction, doc: Y.Doc): string {
  let inserted = '';
  for (const [client, after] of transaction.afterState) {
    const before = transaction.beforeState.get(client) ?? 0;
    if (after <= before) continue;
    const structs = doc.store.clients.get(client) ?? [];
    let i = structs.length - 1;
    while (i > 0 && (structs[i] as Y.Item | Y.GC).id.clock > before) i--;
    const parts: string[] = [];
    for (; i < structs.length; i++) {
      const struct = structs[i];
      if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentString)) continue;
      const { clock } = struct.id;
      if (clock + struct.length <= before || clock >= after) continue;
      parts.push(struct.content.str.slice(Math.max(0, before - clock), after - clock));
    }
    inserted += parts.join('');
  }
  return inserted;
}
