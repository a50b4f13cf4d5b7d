/**
 * Keeps docs/COLLABORATION.md in step with switchboard/yjs: the error table lists exactly
 * YjsErrorCode, the option table exactly the options of DocumentHostOptions, and the wire
 * section names every event of YjsEvent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { YjsErrorCode, YjsEvent } from '../../src/yjs/messages.js';

const doc = readFileSync(new URL('../../docs/COLLABORATION.md', import.meta.url), 'utf8');

/** The first column of the table under `heading`, without backticks. */
function firstColumn(heading: string): string[] {
  const start = doc.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `COLLABORATION.md has a section "${heading}"`);
  const rest = doc.slice(start + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n#{1,6} /) === -1 ? undefined : rest.search(/\n#{1,6} /));
  return section
    .split('\n')
    .filter((line) => /^\| `[^`]+` \|/.test(line))
    .map((line) => (line.match(/^\| `([^`]+)` \|/) as RegExpMatchArray)[1] as string);
}

test('the error table lists exactly the Yjs reply codes', () => {
  assert.deepEqual(firstColumn('## Error codes').sort(), Object.values(YjsErrorCode).sort());
});

test('the option table lists exactly the options of DocumentHostOptions', () => {
  const source = readFileSync(new URL('../../src/yjs/document-host.ts', import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('export interface DocumentHostOptions'), source.indexOf('\n}\n', source.indexOf('export interface DocumentHostOptions')));
  const options = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1] as string);
  assert.ok(options.length >= 5);
  assert.deepEqual(firstColumn('## Server').sort(), options.sort());
});

test('the wire section names every event', () => {
  for (const event of Object.values(YjsEvent)) assert.ok(doc.includes(`\`${event}\``), `COLLABORATION.md mentions ${event}`);
});
