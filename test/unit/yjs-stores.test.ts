/**
 * One conformance suite for every DocumentStore (memory, file, SQLite, Redis): appends read
 * back in order by cursor, compaction to one update that holds the same document, restart
 * (a new store on the same file or keys), then what only some stores must do: a torn file
 * append, safe file names, and on Redis an append by another node during a compaction.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import * as Y from 'yjs';
import { FileDocumentStore, MemoryDocumentStore, type DocumentStore } from '../../src/yjs/index.js';
import { SqliteDocumentStore } from '../../src/yjs/sqlite-store.js';
import { RedisDocumentStore } from '../../src/yjs/redis-store.js';
import { documentFileName, readRecords } from '../../src/yjs/update-log-file.js';
import { connectRedis, dropKeys, testPrefix } from '../helpers/redis.js';

/** A document edited `n` times; returns the updates each edit made. */
function edits(n: number, text = 'x'): { updates: Uint8Array[]; doc: Y.Doc } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  for (let i = 0; i < n; i++) doc.getText('t').insert(i, `${text}`);
  return { updates, doc };
}

function textOf(updates: readonly Uint8Array[]): string {
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return doc.getText('t').toString();
}

interface Backend {
  name: string;
  /** A store; `reopen` gives a new instance over the same data (a restart). */
  open(): Promise<DocumentStore>;
  /** Whether another store instance may append at the same time (shared stores). */
  shared: boolean;
}

const dirs: string[] = [];
let redis: Redis;
const prefixes: string[] = [];

const backends: Backend[] = [];
{
  let memory: MemoryDocumentStore | undefined;
  // The memory store's "restart" is the same instance: it only survives within the process.
  backends.push({ name: 'memory', shared: false, open: async () => (memory ??= new MemoryDocumentStore()) });
  let dir: string | undefined;
  backends.push({
    name: 'file',
    shared: false,
    open: async () => {
      if (!dir) dirs.push((dir = await mkdtemp(join(tmpdir(), 'yjs-file-store-'))));
      return new FileDocumentStore(join(dir, 'docs'));
    },
  });
  let sqliteDir: string | undefined;
  backends.push({
    name: 'sqlite',
    shared: true,
    open: async () => {
      if (!sqliteDir) dirs.push((sqliteDir = await mkdtemp(join(tmpdir(), 'yjs-sqlite-store-'))));
      return new SqliteDocumentStore(join(sqliteDir, 'docs.db'));
    },
  });
  let prefix: string | undefined;
  backends.push({
    name: 'redis',
    shared: true,
    open: async () => {
      if (!prefix) prefixes.push((prefix = testPrefix('yjs-store')));
      return new RedisDocumentStore(redis, { prefix });
    },
  });
}

before(async () => {
  redis = await connectRedis();
});
after(async () => {
  for (const prefix of prefixes) await dropKeys(redis, prefix);
  redis.disconnect();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

let docCount = 0;
const freshName = (): string => `doc:conformance/${++docCount} ünï "quoted" ../..`;

for (const backend of backends) {
  describe(`DocumentStore conformance: ${backend.name}`, () => {
    test('appends come back in order, and a cursor reads only what came after it', async () => {
      const store = await backend.open();
      const name = freshName();
      assert.deepEqual(await store.load(name), { updates: [], cursor: 0 });
      const { updates } = edits(5);
      const seqs: number[] = [];
      for (const update of updates.slice(0, 3)) seqs.push((await store.append(name, update)).seq);
      assert.ok(seqs[0] as number < (seqs[1] as number) && (seqs[1] as number) < (seqs[2] as number), `seqs increase: ${seqs}`);
      const first = await store.load(name);
      assert.equal(first.updates.length, 3);
      assert.deepEqual(first.updates.map((u) => Buffer.from(u).toString('hex')), updates.slice(0, 3).map((u) => Buffer.from(u).toString('hex')));
      assert.equal(first.cursor, seqs[2]);
      for (const update of updates.slice(3)) await store.append(name, update);
      const rest = await store.load(name, first.cursor);
      assert.equal(rest.updates.length, 2);
      assert.equal(textOf([...first.updates, ...rest.updates]), 'xxxxx');
      assert.deepEqual((await store.load(name, rest.cursor)).updates, []);
      // Another document is untouched.
      assert.deepEqual((await store.load(freshName())).updates, []);
    });

    test('append counts the updates since the last compaction; compaction leaves one update with the same document', async () => {
      const store = await backend.open();
      const name = freshName();
      const { updates } = edits(20);
      let last = { seq: 0, uncompacted: 0 };
      for (const update of updates) last = await store.append(name, update);
      assert.equal(last.uncompacted, 20);
      const before = await store.load(name);
      await store.compact(name);
      const compacted = await store.load(name);
      assert.equal(compacted.updates.length, 1, 'one merged update');
      assert.equal(textOf(compacted.updates), 'x'.repeat(20));
      const next = await store.append(name, edits(1, 'y').updates[0] as Uint8Array);
      assert.equal(next.uncompacted, 1, 'the count starts again after compaction');
      assert.ok(next.seq > last.seq, 'seqs are never reused after compaction');
      // A reader whose cursor was inside the compacted range gets the merged update again: harmless in Yjs.
      const fromMiddle = await store.load(name, (before.cursor as number) - 5);
      assert.equal(textOf(fromMiddle.updates).length, 21);
      const fromEnd = await store.load(name, before.cursor);
      assert.equal(fromEnd.updates.length, 1, 'a reader at the end reads only the new update');
    });

    test('the history stays bounded: text typed and deleted does not pile up across compactions', async () => {
      const store = await backend.open();
      const name = freshName();
      const doc = new Y.Doc();
      const pending: Uint8Array[] = [];
      doc.on('update', (u: Uint8Array) => pending.push(u));
      const text = doc.getText('t');
      const sentence = 'some words that are typed one key at a time and then deleted. ';
      let appended = 0;
      const raw: Uint8Array[] = [];
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 10; i++) for (const char of sentence) text.insert(text.length, char);
        text.delete(0, text.length);
        text.insert(0, `round ${round}`);
        for (const u of pending.splice(0)) {
          appended += u.byteLength;
          raw.push(u);
          await store.append(name, u);
        }
        await store.compact(name);
      }
      const stored = await store.load(name);
      assert.equal(textOf(stored.updates), 'round 4');
      const size = stored.updates.reduce((n, u) => n + u.byteLength, 0);
      // 3,150 characters typed and deleted: the compacted log keeps their ids, not their text.
      assert.ok(size < sentence.length * 10, `compacted ${size} bytes of ${appended} appended`);
      assert.ok(size < Y.mergeUpdates(raw).byteLength / 10, 'smaller than merging without garbage collection');
    });

    test('a new store instance over the same data reads the document back (restart)', async () => {
      const name = freshName();
      const first = await backend.open();
      for (const update of edits(7).updates) await first.append(name, update);
      await first.compact(name);
      for (const update of edits(3, 'z').updates) await first.append(name, update);
      if (backend.name !== 'memory') await first.close();
      const second = await backend.open();
      const loaded = await second.load(name);
      const text = textOf(loaded.updates);
      assert.equal(text.length, 10);
      assert.equal([...text].filter((c) => c === 'z').length, 3);
      const appended = await second.append(name, edits(1, 'w').updates[0] as Uint8Array);
      assert.ok(appended.seq > loaded.cursor);
      if (backend.name !== 'memory') await second.close();
    });
  });
}

describe('FileDocumentStore files', () => {
  test('a torn last record (a crash mid-append) is cut off, and appends go on after the whole ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'yjs-torn-'));
    dirs.push(dir);
    const name = 'doc:torn';
    const store = new FileDocumentStore(dir);
    const { updates } = edits(3);
    for (const update of updates) await store.append(name, update);
    await store.close();
    const path = join(dir, documentFileName(name));
    const whole = await readFile(path);
    await appendFile(path, Buffer.from([0, 0, 1, 0, 0x40, 0x08, 0, 0, 0, 0, 0, 0, 1, 2, 3]));
    const reopened = new FileDocumentStore(dir);
    const loaded = await reopened.load(name);
    assert.equal(textOf(loaded.updates), 'xxx');
    assert.equal((await readFile(path)).byteLength, whole.byteLength, 'the torn tail was cut off');
    await reopened.append(name, edits(1, 'y').updates[0] as Uint8Array);
    const again = await new FileDocumentStore(dir).load(name);
    assert.equal(textOf(again.updates).length, 4);
  });

  test('any document name maps to one safe file name in the directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'yjs-names-'));
    dirs.push(dir);
    const store = new FileDocumentStore(dir);
    const names = ['../../etc/passwd', 'a/b\\c:d*e?f"g<h>i|j', 'CASE', 'case', '', '.', 'ünïcødé 日本語 🚀', 'x'.repeat(5000), '\0nul'];
    for (const [i, name] of names.entries()) await store.append(name, edits(i + 1).updates.at(-1) as Uint8Array);
    const files = await readdir(dir);
    assert.equal(files.length, names.length, 'one file per name, none outside the directory');
    for (const file of files) assert.match(file, /^[dh]-[0-9a-f]*\.ylog$/);
    for (const name of names) assert.equal((await new FileDocumentStore(dir).load(name)).updates.length, 1, name);
  });

  test('compaction replaces the file in one rename and leaves no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'yjs-compact-'));
    dirs.push(dir);
    const store = new FileDocumentStore(dir);
    for (const update of edits(30).updates) await store.append('doc:c', update);
    await store.compact('doc:c');
    assert.deepEqual(await readdir(dir), [documentFileName('doc:c')]);
    const { records } = readRecords(await readFile(join(dir, documentFileName('doc:c'))));
    assert.equal(records.length, 1);
    assert.equal(records[0]?.seq, 30);
  });

  test('garbage in a file is read as far as it holds whole records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'yjs-garbage-'));
    dirs.push(dir);
    await writeFile(join(dir, documentFileName('doc:g')), Buffer.from('not a log file at all'));
    const store = new FileDocumentStore(dir);
    assert.deepEqual((await store.load('doc:g')).updates, []);
  });
});

describe('RedisDocumentStore across nodes', () => {
  test('an update another node appends while this one compacts is kept', async () => {
    const prefix = testPrefix('yjs-concurrent');
    prefixes.push(prefix);
    const nodeA = new RedisDocumentStore(redis, { prefix });
    const nodeB = new RedisDocumentStore(redis, { prefix });
    const name = 'doc:shared';
    for (const update of edits(50).updates) await nodeA.append(name, update);
    // Node B appends while A's compaction is between its read and its swap: many times, racing.
    const late = edits(40, 'b').updates;
    const appends = (async () => {
      for (const update of late) await nodeB.append(name, update);
    })();
    const compactions = (async () => {
      for (let i = 0; i < 10; i++) await nodeA.compact(name);
    })();
    await Promise.all([appends, compactions]);
    const text = textOf((await nodeB.load(name)).updates);
    assert.equal(text.length, 90, 'every update of both nodes is in the document');
    await nodeA.compact(name);
    const final = await nodeA.load(name);
    assert.equal(final.updates.length, 1);
    assert.equal(textOf(final.updates).length, 90);
  });

  test('two nodes compacting at once: one wins, nothing is lost', async () => {
    const prefix = testPrefix('yjs-two-compactions');
    prefixes.push(prefix);
    const nodeA = new RedisDocumentStore(redis, { prefix });
    const nodeB = new RedisDocumentStore(redis, { prefix });
    for (const update of edits(30).updates) await nodeA.append('doc:two', update);
    await Promise.all([nodeA.compact('doc:two'), nodeB.compact('doc:two'), nodeB.append('doc:two', edits(1, 'q').updates[0] as Uint8Array)]);
    assert.equal(textOf((await nodeA.load('doc:two')).updates).length, 31);
  });
});
