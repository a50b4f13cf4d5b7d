import { createHash } from 'node:crypto';

/**
 * The layout of FileDocumentStore's files: one file per document, a sequence of records
 * `[u32 BE length][f64 BE seq][length bytes of update]`. Appends only ever add whole
 * records at the end; a crash mid-append leaves a torn last record, which `readRecords`
 * reports so the store can cut it off.
 */
export const RECORD_HEADER_BYTES = 12;

export interface LogRecord {
  seq: number;
  update: Uint8Array;
}

export function encodeRecord(seq: number, update: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + update.byteLength);
  record.writeUInt32BE(update.byteLength, 0);
  record.writeDoubleBE(seq, 4);
  record.set(update, RECORD_HEADER_BYTES);
  return record;
}

/** The whole records of a file, and how many bytes they fill (less than the file after a torn append). */
export function readRecords(bytes: Uint8Array): { records: LogRecord[]; validBytes: number } {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset + RECORD_HEADER_BYTES <= view.byteLength) {
    const length = view.readUInt32BE(offset);
    const seq = view.readDoubleBE(offset + 4);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > view.byteLength || !Number.isSafeInteger(seq) || seq <= (records.at(-1)?.seq ?? 0)) break;
    // A copy, so the records do not pin the file's whole buffer.
    records.push({ seq, update: Uint8Array.prototype.slice.call(view, offset + RECORD_HEADER_BYTES, end) });
    offset = end;
  }
  return { records, validBytes: offset };
}

/**
 * A file name for any document name: the name's UTF-8 bytes in hex (no separators, dots or
 * case to trip a file system), or a SHA-256 of them when that would be too long.
 */
export function documentFileName(document: string): string {
  const hex = Buffer.from(document, 'utf8').toString('hex');
  if (hex.length <= 200) return `d-${hex}.ylog`;
  return `h-${createHash('sha256').update(document, 'utf8').digest('hex')}.ylog`;
}
