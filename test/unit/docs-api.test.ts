/**
 * Keeps docs/API.md in step with the code:
 * - the "Connection reasons" table lists exactly Object.values(ConnectionReason);
 * - the "Disconnect reasons" table lists exactly Object.values(DisconnectReason);
 * - the "Server options" and "Client options" tables list every option of
 *   SwitchboardOptions and ClientOptions (read from the interface bodies in the source,
 *   nested option objects included), no option that does not exist, and the defaults
 *   the code resolves.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { ConnectionReason } from '../../src/client/connection-state.js';
import { resolveOptions as resolveClientOptions } from '../../src/client/options.js';
import type { WebSocketConstructor } from '../../src/client/websocket-like.js';
import { resolveOptions as resolveServerOptions } from '../../src/server/options.js';
import { DisconnectReason } from '../../src/server/socket.js';

function readRepoFile(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
}

// ---- markdown ----------------------------------------------------------------------------

/** The lines under the heading whose text is `title` (any level), up to the next heading. Code fences are skipped over. */
function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  let inFence = false;
  let start = -1;
  const out: string[] = [];
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s/.test(line);
    if (start === -1) {
      if (heading && line.replace(/^#{1,6}\s+/, '').trim() === title) start = 0;
      continue;
    }
    if (heading) break;
    out.push(line);
  }
  if (start === -1) throw new Error(`docs/API.md has no "${title}" heading`);
  return out.join('\n');
}

interface Table {
  header: string[];
  rows: string[][];
}

/** Cells of a table row; `\|` inside a cell is not a separator. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The first table in `text`. */
function firstTable(text: string, what: string): Table {
  const lines = text.split('\n');
  const begin = lines.findIndex((line) => line.trim().startsWith('|'));
  if (begin === -1) throw new Error(`${what}: no table`);
  const block: string[] = [];
  for (const line of lines.slice(begin)) {
    if (!line.trim().startsWith('|')) break;
    block.push(line);
  }
  const [header, separator, ...rows] = block.map(cells);
  if (!header || !separator || !separator.every((cell) => /^:?-+:?$/.test(cell))) throw new Error(`${what}: the table has no header and |---| row`);
  return { header, rows };
}

/** The name in backticks that starts each row. Rows that do not start with one are an error, not skipped. */
function firstColumnNames(table: Table, what: string): string[] {
  return table.rows.map((row) => {
    const m = /^`([^`]+)`$/.exec(row[0] ?? '');
    if (!m?.[1]) throw new Error(`${what}: row does not start with a name in backticks: | ${row.join(' | ')} |`);
    return m[1];
  });
}

function reasonsInDoc(markdown: string, title: string): string[] {
  return firstColumnNames(firstTable(section(markdown, title), `"${title}"`), `"${title}"`);
}

/** Entries in one list and not the other, and entries listed twice. */
function compare(documented: readonly string[], source: readonly string[]): { missing: string[]; extra: string[]; duplicated: string[] } {
  const doc = new Set(documented);
  const src = new Set(source);
  return {
    missing: [...src].filter((x) => !doc.has(x)),
    extra: [...doc].filter((x) => !src.has(x)),
    duplicated: documented.filter((x, i) => documented.indexOf(x) !== i),
  };
}

// ---- option names from the source ----------------------------------------------------------

interface OptionNames {
  /** Options a user sets: leaves, and objects that also accept a plain value (`reconnect: boolean | {…}`). */
  options: string[];
  /** Pure option objects (`heartbeat`, `bufferLimit`): their members are listed, the object itself may be. */
  containers: string[];
}

/** Interfaces declared at the top level of the given sources (path → text). */
function interfacesIn(sources: Record<string, string>): Map<string, ts.InterfaceDeclaration> {
  const found = new Map<string, ts.InterfaceDeclaration>();
  for (const [path, text] of Object.entries(sources)) {
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    file.forEachChild((node) => {
      if (ts.isInterfaceDeclaration(node)) found.set(node.name.text, node);
    });
  }
  return found;
}

const TRANSPARENT_WRAPPERS = new Set(['Partial', 'Readonly', 'Required']);

/**
 * The object types a property's type is made of: inline `{ … }` literals and interfaces
 * declared in the scanned sources, seen through unions and Partial<…>. `plain` is true when
 * the type also admits something else (the `boolean` of `boolean | ReconnectOptions`).
 */
function objectParts(type: ts.TypeNode | undefined, interfaces: Map<string, ts.InterfaceDeclaration>): { objects: ts.NodeArray<ts.TypeElement>[]; plain: boolean } {
  if (!type) return { objects: [], plain: true };
  if (ts.isParenthesizedTypeNode(type)) return objectParts(type.type, interfaces);
  if (ts.isTypeLiteralNode(type)) return { objects: [type.members], plain: false };
  if (type.kind === ts.SyntaxKind.UndefinedKeyword) return { objects: [], plain: false };
  if (ts.isUnionTypeNode(type)) {
    const parts = type.types.map((t) => objectParts(t, interfaces));
    return { objects: parts.flatMap((p) => p.objects), plain: parts.some((p) => p.plain) };
  }
  if (ts.isTypeReferenceNode(type)) {
    const name = type.typeName.getText();
    const [argument] = type.typeArguments ?? [];
    if (TRANSPARENT_WRAPPERS.has(name) && argument) return objectParts(argument, interfaces);
    const declaration = interfaces.get(name);
    if (declaration) return { objects: [declaration.members], plain: false };
  }
  return { objects: [], plain: true };
}

function optionNames(sources: Record<string, string>, interfaceName: string): OptionNames {
  const interfaces = interfacesIn(sources);
  const root = interfaces.get(interfaceName);
  if (!root) throw new Error(`interface ${interfaceName} not found in ${Object.keys(sources).join(', ')}`);
  const names: OptionNames = { options: [], containers: [] };
  const walk = (members: ts.NodeArray<ts.TypeElement>, prefix: string, depth: number): void => {
    if (depth > 5) throw new Error(`${interfaceName}: option objects nested too deep (a cycle?) at ${prefix}`);
    for (const member of members) {
      if (!ts.isPropertySignature(member) && !ts.isMethodSignature(member)) continue;
      const path = prefix + member.name.getText().replace(/^['"]|['"]$/g, '');
      const { objects, plain } = ts.isPropertySignature(member) ? objectParts(member.type, interfaces) : { objects: [], plain: true };
      if (objects.length === 0 || plain) names.options.push(path);
      else names.containers.push(path);
      for (const nested of objects) walk(nested, `${path}.`, depth + 1);
    }
  };
  walk(root.members, '', 0);
  return names;
}

// ---- options tables ----------------------------------------------------------------------

/** Primitive values of a resolved options object, by dotted path. */
function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value === null || value === undefined || typeof value === 'function') return out;
  if (typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) flatten(nested, prefix ? `${prefix}.${key}` : key, out);
    return out;
  }
  out.set(prefix, String(value));
  return out;
}

/**
 * Problems with the options table under `title`: options of the source missing from it,
 * rows naming options that do not exist, duplicates, and Default cells that do not show
 * the default the code resolves (as `value` in backticks).
 */
function optionsTableProblems(markdown: string, title: string, names: OptionNames, defaults: ReadonlyMap<string, string>): string[] {
  const table = firstTable(section(markdown, title), `"${title}"`);
  const documented = firstColumnNames(table, `"${title}"`);
  const problems: string[] = [];
  const known = new Set([...names.options, ...names.containers]);
  for (const option of names.options) if (!documented.includes(option)) problems.push(`option \`${option}\` is not in the table`);
  for (const option of documented) if (!known.has(option)) problems.push(`the table lists \`${option}\`, which is not an option`);
  for (const option of compare(documented, []).duplicated) problems.push(`\`${option}\` is listed twice`);
  const defaultColumn = table.header.findIndex((cell) => cell === 'Default');
  if (defaultColumn === -1) return [...problems, 'the table has no "Default" column'];
  table.rows.forEach((row, i) => {
    const option = documented[i] as string;
    const expected = defaults.get(option);
    if (expected === undefined) return;
    const cell = row[defaultColumn] ?? '';
    if (!cell.includes(`\`${expected}\``)) problems.push(`\`${option}\`: the code's default is ${expected}, the table says "${cell}"`);
  });
  return problems;
}

/** Members of an interface that are not mentioned in code spans of a section. */
function unmentioned(markdown: string, title: string, members: readonly string[]): string[] {
  const spans = [...section(markdown, title).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  return members.filter((name) => !spans.some((span) => new RegExp(`(^|[^\\w$])${name.replace(/[$.]/g, '\\$&')}([^\\w$]|$)`).test(span)));
}

// ---- the checks --------------------------------------------------------------------------

const SERVER_OPTION_SOURCES = ['src/server/options.ts'];
const CLIENT_OPTION_SOURCES = ['src/client/options.ts', 'src/client/emit-buffer.ts'];

function sourcesOf(paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(paths.map((path) => [path, readRepoFile(path)]));
}

class NoWebSocket {}

describe('docs/API.md', () => {
  const apiMd = readRepoFile('docs/API.md');

  test('the "Connection reasons" table lists exactly the values of ConnectionReason', () => {
    const documented = reasonsInDoc(apiMd, 'Connection reasons');
    assert.ok(documented.length > 0, 'the "Connection reasons" table has no rows');
    assert.deepEqual(compare(documented, Object.values(ConnectionReason)), { missing: [], extra: [], duplicated: [] });
  });

  test('the "Disconnect reasons" table lists exactly the values of DisconnectReason', () => {
    const documented = reasonsInDoc(apiMd, 'Disconnect reasons');
    assert.ok(documented.length > 0, 'the "Disconnect reasons" table has no rows');
    assert.deepEqual(compare(documented, Object.values(DisconnectReason)), { missing: [], extra: [], duplicated: [] });
  });

  test('the "Server options" table has every option of SwitchboardOptions, with the defaults of resolveOptions()', () => {
    const names = optionNames(sourcesOf(SERVER_OPTION_SOURCES), 'SwitchboardOptions');
    assert.ok(names.options.includes('heartbeat.interval'), `the interface parser missed nested options: ${names.options.join(', ')}`);
    const defaults = flatten(resolveServerOptions({}));
    assert.deepEqual(optionsTableProblems(apiMd, 'Server options', names, defaults), []);
  });

  test('the "Client options" table has every option of ClientOptions, with the defaults of resolveOptions()', () => {
    const names = optionNames(sourcesOf(CLIENT_OPTION_SOURCES), 'ClientOptions');
    assert.ok(names.options.includes('reconnect.delay'), `the interface parser missed nested options: ${names.options.join(', ')}`);
    const defaults = flatten(resolveClientOptions('ws://localhost/ws', { WebSocket: NoWebSocket as unknown as WebSocketConstructor }));
    defaults.delete('url');
    assert.deepEqual(optionsTableProblems(apiMd, 'Client options', names, defaults), []);
  });

  test('close(), of() and emitWithAck() options are described', () => {
    const closeOptions = optionNames(sourcesOf(['src/server/switchboard.ts']), 'CloseOptions').options;
    const namespaceOptions = optionNames(sourcesOf(['src/client/options.ts']), 'NamespaceOptions').options;
    const ackOptions = optionNames(sourcesOf(['src/client/client-events.ts']), 'AckOptions').options;
    assert.deepEqual(unmentioned(apiMd, 'Shutdown', closeOptions), []);
    assert.deepEqual(unmentioned(apiMd, 'The client handle', [...namespaceOptions, ...ackOptions]), []);
  });
});

// The checks above are only worth something if the parsers see what they should; these
// feed them small documents and sources with known mistakes.
describe('the API doc parsers', () => {
  const doc = (reasonRows: string, optionRows: string): string =>
    [
      '# API',
      '### Connection reasons',
      'Prose with a `reason` in it.',
      '',
      '| Reason | Meaning |',
      '|---|---|',
      reasonRows,
      '',
      '```ts',
      '# not a heading inside a fence',
      '```',
      '#### Later',
      '| `not_a_reason` | ignored: another section |',
      '|---|---|',
      '| `still_not` | x |',
      '### Server options',
      '| Option | Default | Meaning |',
      '|---|---|---|',
      optionRows,
    ].join('\n');

  test('reads the first column of the first table of the right section only', () => {
    const md = doc('| `transport_closed` | a \\| b |\n| `client_closed` | done |', '');
    assert.deepEqual(reasonsInDoc(md, 'Connection reasons'), ['transport_closed', 'client_closed']);
  });

  test('reports a reason missing from the doc, an extra one, and a duplicate', () => {
    const md = doc('| `transport_closed` | x |\n| `made_up` | x |\n| `made_up` | x |', '');
    assert.deepEqual(compare(reasonsInDoc(md, 'Connection reasons'), ['transport_closed', 'client_closed']), {
      missing: ['client_closed'],
      extra: ['made_up'],
      duplicated: ['made_up'],
    });
  });

  test('refuses rows and documents it cannot read instead of skipping them', () => {
    assert.throws(() => reasonsInDoc(doc('| transport_closed | no backticks |', ''), 'Connection reasons'), /backticks/);
    assert.throws(() => reasonsInDoc('# API\n\n| `a` |\n', 'Connection reasons'), /no "Connection reasons" heading/);
    assert.throws(() => reasonsInDoc('### Connection reasons\nno table here', 'Connection reasons'), /no table/);
  });

  const source = `
    export interface Opts {
      /** A leaf. */
      plain?: number;
      nested?: { x?: number; y?: string };
      toggle?: boolean | Tuning;
      limits?: Partial<Limits>;
      factory?: () => void;
    }
    export interface Tuning { delay?: number }
    interface Limits { count: number; bytes: number }
    type NotAnInterface = { ignored: 1 };
  `;

  test('reads option names from interface bodies, nested objects and referenced interfaces included', () => {
    assert.deepEqual(optionNames({ 'opts.ts': source }, 'Opts'), {
      options: ['plain', 'nested.x', 'nested.y', 'toggle', 'toggle.delay', 'limits.count', 'limits.bytes', 'factory'],
      containers: ['nested', 'limits'],
    });
    assert.throws(() => optionNames({ 'opts.ts': source }, 'Missing'), /interface Missing not found/);
  });

  test('reports an undocumented option, an unknown one, and a wrong default', () => {
    const names = optionNames({ 'opts.ts': source }, 'Opts');
    const rows = [
      '| `plain` | `5` | x |',
      '| `nested.x` | `1` | x |',
      '| `nested.y` | none | x |',
      '| `toggle` | `true` | x |',
      '| `toggle.delay` | `1000` | x |',
      '| `limits` | | the container may be listed |',
      '| `limits.count` | `100` | x |',
      '| `renamed` | `0` | x |',
    ].join('\n');
    const defaults = new Map([
      ['plain', '5'],
      ['nested.x', '2'],
      ['limits.count', '100'],
    ]);
    assert.deepEqual(optionsTableProblems(doc('', rows), 'Server options', names, defaults), [
      'option `limits.bytes` is not in the table',
      'option `factory` is not in the table',
      'the table lists `renamed`, which is not an option',
      '`nested.x`: the code\'s default is 2, the table says "`1`"',
    ]);
  });

  test('finds option names in code spans of a section', () => {
    const md = '### Shutdown\nCall `close({ deadline })`.\n### Next\n`timeout`';
    assert.deepEqual(unmentioned(md, 'Shutdown', ['deadline', 'timeout', 'dead']), ['timeout', 'dead']);
  });
});
