/**
 * Keeps docs/AI-STREAMING.md in step with switchboard/token-streams: the error table lists
 * exactly TokenStreamErrorCode, the option tables exactly the options of the producer, the
 * reader and acceptTokenStreamCancels with their defaults, and the wire tables every event of
 * TokenStreamEvent and every request of TokenStreamRequest.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_BACKLOG, DEFAULT_KEEP } from '../../src/token-streams/client/token-stream-reader.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../src/token-streams/token-stream.js';
import { CANCELLED_BY_READER } from '../../src/token-streams/cancels.js';
import { REMEMBERED_ENDED } from '../../src/token-streams/stream-registry.js';
import { TokenStreamErrorCode, TokenStreamEvent, TokenStreamRequest } from '../../src/token-streams/wire.js';

const doc = readFileSync(new URL('../../docs/AI-STREAMING.md', import.meta.url), 'utf8');

/** The rows `| \`name\` | second cell |` of the first table under `heading`, up to the next heading. */
function rows(heading: string, startsWith = '| Option |'): Map<string, string> {
  const start = doc.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `AI-STREAMING.md has a section "${heading}"`);
  const rest = doc.slice(start + heading.length + 2);
  const end = rest.search(/\n#{1,6} /);
  const section = end === -1 ? rest : rest.slice(0, end);
  const table = section.slice(section.indexOf(startsWith));
  const found = new Map<string, string>();
  for (const line of table.split('\n')) {
    if (!line.startsWith('|')) {
      if (found.size > 0) break;
      continue;
    }
    const m = /^\| `([^`]+)` \| ([^|]*) \|/.exec(line);
    if (m) found.set(m[1] as string, (m[2] as string).trim());
  }
  return found;
}

/** The property names of an exported interface in a source file. */
function optionsOf(file: string, name: string): string[] {
  const source = readFileSync(new URL(`../../src/token-streams/${file}`, import.meta.url), 'utf8');
  const from = source.indexOf(`export interface ${name}`);
  const body = source.slice(from, source.indexOf('\n}\n', from));
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1] as string);
}

test('the error table lists exactly TokenStreamErrorCode', () => {
  assert.deepEqual([...rows('## Error codes', '| Code |').keys()].sort(), Object.values(TokenStreamErrorCode).sort());
});

test('the producer’s option table lists exactly TokenStreamOptions, with the defaults of the source', () => {
  const table = rows('## Server: streaming a message');
  assert.deepEqual([...table.keys()].sort(), optionsOf('token-stream.ts', 'TokenStreamOptions').sort());
  assert.equal(table.get('idleTimeout'), `\`${DEFAULT_IDLE_TIMEOUT_MS}\``);
});

test('the reader’s option table lists exactly TokenStreamReaderOptions, with the defaults of the source', () => {
  const table = rows('## Client: reading messages');
  assert.deepEqual([...table.keys()].sort(), optionsOf('client/token-stream-reader.ts', 'TokenStreamReaderOptions').sort());
  assert.equal(table.get('backlog'), `\`${DEFAULT_BACKLOG}\``);
  assert.equal(table.get('keep'), `\`${DEFAULT_KEEP}\``);
});

test('the wire table names every event', () => {
  assert.deepEqual([...rows('## Wire events', '| Event |').keys()].sort(), Object.values(TokenStreamEvent).sort());
});

test('the cancel section: its option table lists exactly TokenStreamCancelOptions, the numbers and the message are the source’s, the request table names every request', () => {
  assert.deepEqual([...rows('## Stopping an answer').keys()].sort(), optionsOf('cancels.ts', 'TokenStreamCancelOptions').sort());
  const section = doc.slice(doc.indexOf('\n## Stopping an answer\n'), doc.indexOf('\n## Wire events\n'));
  assert.ok(section.includes(`the last ${REMEMBERED_ENDED} streams that ended`));
  assert.ok(section.includes(`the message \`${CANCELLED_BY_READER}\``));
  assert.deepEqual([...rows('## Wire events', '| Request |').keys()].sort(), Object.values(TokenStreamRequest).sort());
});
