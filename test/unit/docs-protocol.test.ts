/**
 * Keeps facts of docs/PROTOCOL.md that are data in the code in step with it:
 * - the "Reserved event names" section lists exactly RESERVED_EVENTS;
 * - the `history` frame table gives the default and largest `limit` of constants.ts;
 * - the "Frames" table lists, per direction, exactly the frame types the codec decodes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CLIENT_FRAME_TYPES, SERVER_FRAME_TYPES } from '../../src/protocol/codec.js';
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, RESERVED_EVENTS } from '../../src/protocol/constants.js';

const protocolMd = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');

/** The text under the heading `title` (any level), up to the next heading of any level. */
function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^#{1,6}\s/.test(line) && line.replace(/^#{1,6}\s+/, '').trim() === title);
  if (start === -1) throw new Error(`no "${title}" heading`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^#{1,6}\s/.test(line));
  return (end === -1 ? rest : rest.slice(0, end)).join('\n');
}

/** The names in backticks of the first paragraph that is a comma-separated list of them. */
function reservedNames(text: string): string[] {
  const list = text.split('\n\n').find((paragraph) => /^`[^`]+`(,\s*`[^`]+`)*\.?$/.test(paragraph.trim().replace(/\s+/g, ' ')));
  if (!list) throw new Error('no list of names in backticks');
  return [...list.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
}

describe('docs/PROTOCOL.md', () => {
  test('"Reserved event names" lists exactly RESERVED_EVENTS', () => {
    const documented = reservedNames(section(protocolMd, 'Reserved event names'));
    assert.deepEqual([...documented].sort(), [...RESERVED_EVENTS].sort());
  });

  test('the "Frames" table lists exactly the frame types the codec decodes, in each direction', () => {
    const rows = section(protocolMd, 'Frames')
      .split('\n')
      .map((line) => /^\| `([a-z]+)` \| ([^|]+) \|/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ type: m[1] as string, direction: (m[2] as string).trim() }));
    const documented = (from: 'client' | 'server'): string[] =>
      [...new Set(rows.filter((r) => r.direction === 'both' || r.direction.startsWith(from)).map((r) => r.type))].sort();
    assert.deepEqual(documented('client'), [...CLIENT_FRAME_TYPES].sort(), 'client → server');
    assert.deepEqual(documented('server'), [...SERVER_FRAME_TYPES].sort(), 'server → client');
  });

  test('the history frame table gives the limits of constants.ts', () => {
    const row = section(protocolMd, '`history` (client → server, request)')
      .split('\n')
      .find((line) => line.startsWith('| `limit` |'));
    assert.ok(row, 'the history table has a `limit` row');
    assert.match(row, new RegExp(`\\b1 to ${MAX_HISTORY_LIMIT}\\b`));
    assert.match(row, new RegExp(`Default ${DEFAULT_HISTORY_LIMIT}\\b`));
  });
});

describe('the protocol doc parsers', () => {
  test('read the list of the right section, and refuse a section without one', () => {
    const md = '## Reserved event names\n\nProse with `code`.\n\n`a`, `b`,\n`c`.\n\n## Next\n\n`d`, `e`.';
    assert.deepEqual(reservedNames(section(md, 'Reserved event names')), ['a', 'b', 'c']);
    assert.throws(() => reservedNames(section('## Reserved event names\n\nno list\n', 'Reserved event names')), /no list/);
    assert.throws(() => section(md, 'Missing'), /no "Missing" heading/);
  });
});
