/**
 * Keeps docs/ERRORS.md and the close-code table of docs/PROTOCOL.md in step with
 * src/protocol/error-codes.ts and src/protocol/close-codes.ts (as fastify does for its
 * error table).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CLOSE_CODES } from '../../src/protocol/close-code-table.js';
import { shouldReconnectAfter } from '../../src/protocol/close-codes.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';

interface DocCloseCode {
  code: number;
  name: string;
  reconnect?: boolean;
}

function readDoc(name: string): string {
  return readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
}

/** The text under a level-2 heading, up to the next level-2 heading. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`);
  if (start === -1) throw new Error(`no "## ${heading}" section`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.startsWith('## '));
  return (end === -1 ? rest : rest.slice(0, end)).join('\n');
}

/** Cells of the table rows in `text`, without the header row and the `|---|` row. */
function tableRows(text: string): string[][] {
  const rows = text
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split('|')
        .map((cell) => cell.trim()),
    );
  return rows.filter((cells, i) => i > 0 && !cells.every((cell) => /^:?-+:?$/.test(cell)));
}

function parseErrorCodes(markdown: string): string[] {
  return tableRows(section(markdown, 'Error codes')).map((cells) => {
    const m = /^`([a-z][a-z0-9_]*)`$/.exec(cells[0] ?? '');
    if (!m?.[1]) throw new Error(`error code row does not start with a code in backticks: | ${cells.join(' | ')} |`);
    return m[1];
  });
}

function parseCloseCodes(markdown: string, withReconnect: boolean): DocCloseCode[] {
  return tableRows(section(markdown, 'Close codes')).map((cells) => {
    const [code, name, reconnect] = cells;
    const codeOk = /^\d{4}$/.test(code ?? '');
    const nameMatch = /^`([a-z][a-z0-9_]*)`$/.exec(name ?? '');
    if (!codeOk || !nameMatch?.[1]) throw new Error(`close code row is not "| 1234 | \`name\` | ...": | ${cells.join(' | ')} |`);
    const row: DocCloseCode = { code: Number(code), name: nameMatch[1] };
    if (withReconnect) {
      if (reconnect !== 'yes' && reconnect !== 'no') throw new Error(`close code ${code}: reconnect column must be "yes" or "no", got "${reconnect}"`);
      row.reconnect = reconnect === 'yes';
    }
    return row;
  });
}

/** Entries in one list and not the other, and entries listed twice. */
function compare<T>(documented: readonly T[], source: readonly T[]): { missing: T[]; extra: T[]; duplicated: T[] } {
  const doc = new Set(documented);
  const src = new Set(source);
  return {
    missing: [...src].filter((x) => !doc.has(x)),
    extra: [...doc].filter((x) => !src.has(x)),
    duplicated: documented.filter((x, i) => documented.indexOf(x) !== i),
  };
}

const sourceErrorCodes: string[] = Object.values(ErrorCode);
const closeKey = (c: DocCloseCode): string => `${c.code} ${c.name}${c.reconnect === undefined ? '' : c.reconnect ? ' reconnect' : ' no-reconnect'}`;

describe('docs/ERRORS.md', () => {
  const errorsMd = readDoc('ERRORS.md');

  test('lists exactly the error codes of ErrorCode', () => {
    const documented = parseErrorCodes(errorsMd);
    assert.ok(documented.length > 0, 'the "Error codes" table has no rows');
    assert.deepEqual(compare(documented, sourceErrorCodes), { missing: [], extra: [], duplicated: [] });
  });

  test('lists exactly the close codes of CLOSE_CODES, with the same names and reconnect flags', () => {
    const documented = parseCloseCodes(errorsMd, true).map(closeKey);
    const source = CLOSE_CODES.map((c) => closeKey({ code: c.code, name: c.name, reconnect: c.reconnect }));
    assert.ok(documented.length > 0, 'the "Close codes" table has no rows');
    assert.deepEqual(compare(documented, source), { missing: [], extra: [], duplicated: [] });
  });

  test('the codes its prose says the SDK reconnects after are codes it reconnects after', () => {
    const prose = /After any code not in\s+this table,([^.]*)the SDK\s+reconnects\./.exec(section(errorsMd, 'Close codes'));
    assert.ok(prose, 'the "Close codes" section says what the SDK does after a code not in the table');
    for (const [code] of (prose[1] ?? '').matchAll(/\b[1-4]\d{3}\b/g)) {
      assert.equal(shouldReconnectAfter(Number(code)), true, `ERRORS.md says the SDK reconnects after ${code}`);
    }
  });
});

describe('docs/PROTOCOL.md', () => {
  const protocolMd = readDoc('PROTOCOL.md');

  test('its close code table names only codes of CLOSE_CODES, with their names', () => {
    const documented = parseCloseCodes(protocolMd, false);
    assert.ok(documented.length > 0, 'the "Close codes" table has no rows');
    for (const { code, name } of documented) {
      const info = CLOSE_CODES.find((c) => c.code === code);
      assert.ok(info, `PROTOCOL.md lists close code ${code}, which is not in CLOSE_CODES`);
      assert.equal(name, info.name, `PROTOCOL.md names close code ${code} "${name}", CLOSE_CODES says "${info.name}"`);
    }
  });

  test('its close code table is complete', () => {
    const documented = parseCloseCodes(protocolMd, false).map(closeKey);
    const source = CLOSE_CODES.map((c) => closeKey({ code: c.code, name: c.name }));
    assert.deepEqual(compare(documented, source), { missing: [], extra: [], duplicated: [] });
  });
});

// The checks above are only worth something if the parser sees what it should; these
// feed it small documents with known mistakes.
describe('the doc table parser', () => {
  const doc = (errorRows: string, closeRows: string): string =>
    [
      '# Title',
      '## Error codes',
      'Some prose with a `code` in it.',
      '| Code | Appears as |',
      '|---|---|',
      errorRows,
      '## Close codes',
      '| Code | Name | SDK reconnects | Meaning |',
      '|---|---|---|---|',
      closeRows,
      '## After',
      '| `not_a_code` | ignored: outside the sections |',
    ].join('\n');

  test('reads codes from the first column of the right section only', () => {
    const md = doc('| `bad_request` | reply |\n| `no_handler` | reply |', '| 1000 | `normal` | no | done |\n| 4002 | `heartbeat_timeout` | yes | dead |');
    assert.deepEqual(parseErrorCodes(md), ['bad_request', 'no_handler']);
    assert.deepEqual(parseCloseCodes(md, true), [
      { code: 1000, name: 'normal', reconnect: false },
      { code: 4002, name: 'heartbeat_timeout', reconnect: true },
    ]);
  });

  test('reports a code missing from the doc, an extra one, and a duplicate', () => {
    const md = doc('| `bad_request` | reply |\n| `made_up` | reply |\n| `made_up` | reply |', '| 1000 | `normal` | no | done |');
    assert.deepEqual(compare(parseErrorCodes(md), ['bad_request', 'no_handler']), {
      missing: ['no_handler'],
      extra: ['made_up'],
      duplicated: ['made_up'],
    });
  });

  test('reports a wrong close code name or reconnect flag', () => {
    const md = doc('| `bad_request` | reply |', '| 1000 | `normal` | yes | done |\n| 1001 | `goodbye` | yes | bye |');
    const documented = parseCloseCodes(md, true).map(closeKey);
    const source = CLOSE_CODES.filter((c) => c.code === 1000 || c.code === 1001).map((c) => closeKey({ code: c.code, name: c.name, reconnect: c.reconnect }));
    const result = compare(documented, source);
    assert.deepEqual(result.missing, ['1000 normal no-reconnect', '1001 going_away reconnect']);
    assert.deepEqual(result.extra, ['1000 normal reconnect', '1001 goodbye reconnect']);
  });

  test('refuses rows it cannot read instead of skipping them', () => {
    assert.throws(() => parseErrorCodes(doc('| bad_request | no backticks |', '')), /backticks/);
    assert.throws(() => parseCloseCodes(doc('', '| 1000 | normal | no | x |'), false), /close code row/);
    assert.throws(() => parseCloseCodes(doc('', '| 1000 | `normal` | maybe | x |'), true), /"yes" or "no"/);
    assert.throws(() => parseErrorCodes('# no sections here'), /no "## Error codes" section/);
  });
});
