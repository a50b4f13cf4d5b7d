/**
 * Every TypeScript and JavaScript block of README.md, docs/API.md and docs/NOTIFICATIONS.md compiles as written,
 * under strict TypeScript, as a reader would paste it into a fresh project:
 *
 * - `switchboard`, `switchboard/client`, `switchboard/redis`, `switchboard/protocol` and `switchboard/http-api` are
 *   this package's sources (the entries its `exports` name); other packages come from
 *   node_modules (`ws`, `ioredis`, `zod`, ...).
 * - The project's package.json says `"type": "commonjs"` (what `npm init` writes), so a
 *   block that names its file in a first-line comment (`// server.js — ...`) is checked
 *   under that name: a `.js` file there is CommonJS, and `import` in it fails, as Node
 *   would refuse it. Other blocks are ES modules (`.mts`, `.mjs`): the package is ESM
 *   only. Blocks of one document share a folder, so `import type { X } from './events.js'`
 *   finds the block that says `// events.ts`.
 * - A block that is deliberately not a program (a signature) carries
 *   `<!-- not-compiled: reason -->` on the line before its fence.
 *
 * A failure names the document and line of each error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', 'docs/API.md', 'docs/NOTIFICATIONS.md', 'docs/AI-STREAMING.md', 'docs/SOCKET-IO.md', 'docs/OPERATIONS.md'];
/** Where the blocks pretend to be: inside the repository, so node_modules is found, but never written. */
const PROJECT = join(ROOT, '.doc-blocks');
/** The reader's package.json, as `npm init` writes it. */
const PROJECT_PACKAGE_JSON = JSON.stringify({ name: 'reader-app', private: true, type: 'commonjs' });

const LANGUAGES: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };
const NOT_COMPILED = /^<!--\s*not-compiled:\s*(\S.*?)\s*-->$/;
/** A first-line comment naming the block's file: `// events.ts, shared by ...`, `// server.mjs — ...`. */
const FILE_NAME = /^\/\/\s*([\w.-]+\.(?:ts|mts|cts|js|mjs|cjs))\b/;

interface CodeBlock {
  doc: string;
  /** Line of the block's first code line in the document (1-based). */
  line: number;
  lang: 'ts' | 'js';
  code: string;
  /** The reason given in a `not-compiled` marker. */
  notCompiled?: string;
  /** The file name the block gives itself in its first line. */
  fileName?: string;
}

/** The ts/js fenced blocks of a Markdown text, with the marker before each, if any. */
function extractBlocks(doc: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i] as string);
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    let end = i + 1;
    while (end < lines.length && !(lines[end] as string).trimStart().startsWith(fence)) end++;
    const lang = LANGUAGES[info.toLowerCase()];
    if (lang) {
      const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
      let before = i - 1;
      while (before >= 0 && (lines[before] as string).trim() === '') before--;
      const marker = before >= 0 ? NOT_COMPILED.exec((lines[before] as string).trim()) : null;
      const block: CodeBlock = { doc, line: i + 2, lang, code: body.join('\n') };
      if (marker?.[1]) block.notCompiled = marker[1];
      const named = FILE_NAME.exec(body[0] ?? '');
      if (named?.[1]) block.fileName = named[1];
      blocks.push(block);
    }
    i = end;
  }
  return blocks;
}

/** Where a block is checked: its own name, or an ES module named after its line. */
function virtualPath(block: CodeBlock): string {
  const folder = join(PROJECT, block.doc.replace(/[^\w]+/g, '-'));
  return join(folder, block.fileName ?? `line-${block.line}.${block.lang === 'ts' ? 'mts' : 'mjs'}`);
}

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  types: ['node'],
  allowJs: true,
  checkJs: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  baseUrl: ROOT,
  paths: {
    switchboard: ['src/server/index.ts'],
    'switchboard/client': ['src/client/index.ts'],
    'switchboard/redis': ['src/cluster/redis/index.ts'],
    'switchboard/protocol': ['src/protocol/index.ts'],
    'switchboard/http-api': ['src/http-api/index.ts'],
    'switchboard/token-streams': ['src/token-streams/index.ts'],
    'switchboard/token-streams/client': ['src/token-streams/client/index.ts'],
    'switchboard/metrics': ['src/metrics/index.ts'],
    'switchboard/admin': ['src/admin/index.ts'],
  },
};

interface BlockError {
  /** `doc:line`: where in the document. */
  where: string;
  message: string;
}

/** Type-check the blocks together (one program) and return every error, placed in its document. */
function checkBlocks(blocks: readonly CodeBlock[]): BlockError[] {
  const files = new Map<string, CodeBlock>();
  const errors: BlockError[] = [];
  for (const block of blocks) {
    if (block.notCompiled !== undefined) continue;
    const path = virtualPath(block);
    const earlier = files.get(path);
    if (earlier) {
      errors.push({ where: `${block.doc}:${block.line}`, message: `names its file ${block.fileName}, as the block at line ${earlier.line} does` });
      continue;
    }
    files.set(path, block);
  }
  const packageJson = join(PROJECT, 'package.json');
  const host = ts.createCompilerHost(OPTIONS, true);
  const underProject = (path: string): boolean => path.startsWith(PROJECT);
  const { fileExists, readFile, getSourceFile, directoryExists } = host;
  host.fileExists = (path) => files.has(path) || path === packageJson || (!underProject(path) && fileExists.call(host, path));
  host.readFile = (path) => (path === packageJson ? PROJECT_PACKAGE_JSON : files.has(path) ? (files.get(path) as CodeBlock).code : underProject(path) ? undefined : readFile.call(host, path));
  host.directoryExists = (path) => underProject(path) ? [...files.keys(), packageJson].some((f) => f.startsWith(`${path}/`) || dirname(f) === path) || path === PROJECT : (directoryExists?.call(host, path) ?? true);
  host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
    const block = files.get(path);
    if (block) return ts.createSourceFile(path, block.code, languageVersion, true);
    return getSourceFile.call(host, path, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options: OPTIONS, host });
  for (const [path, block] of files) {
    // TypeScript lets a CommonJS .js file use import (it could be compiled to require); Node does not run it.
    const file = program.getSourceFile(path);
    if (!file || block.lang !== 'js' || file.impliedNodeFormat !== ts.ModuleKind.CommonJS) continue;
    const esm = file.statements.find((s) => ts.isImportDeclaration(s) || ts.isExportDeclaration(s) || ts.isExportAssignment(s));
    if (esm) {
      const line = block.line + file.getLineAndCharacterOfPosition(esm.getStart(file)).line;
      errors.push({ where: `${block.doc}:${line}`, message: `${block.fileName} is CommonJS in a project without "type": "module" (npm init writes "type": "commonjs"): Node refuses import there. Name it .mjs, or say to set "type": "module".` });
    }
  }
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
    const block = diagnostic.file ? files.get(diagnostic.file.fileName) : undefined;
    if (!diagnostic.file || diagnostic.start === undefined) {
      errors.push({ where: 'compiler', message: `TS${diagnostic.code} ${message}` });
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    // An error inside the package's own sources is not the document's: report where it is.
    const where = block ? `${block.doc}:${block.line + line}` : `${diagnostic.file.fileName.replace(ROOT, '')}:${line + 1}`;
    errors.push({ where, message: `TS${diagnostic.code} ${message}` });
  }
  const position = (e: BlockError): [string, number] => [e.where.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(e.where)?.[1] ?? 0)];
  return errors.sort((a, b) => {
    const [docA, lineA] = position(a);
    const [docB, lineB] = position(b);
    return docA === docB ? lineA - lineB : docA < docB ? -1 : 1;
  });
}

function blocksOf(doc: string): CodeBlock[] {
  return extractBlocks(doc, readFileSync(join(ROOT, doc), 'utf8'));
}

describe('code blocks of README.md and docs/API.md', () => {
  const blocks = DOCS.flatMap(blocksOf);

  test('compile as written under strict TypeScript', () => {
    assert.ok(blocks.length > 20, `found only ${blocks.length} blocks: is the extraction broken?`);
    const errors = checkBlocks(blocks);
    assert.deepEqual(
      errors.map((e) => `${e.where}: ${e.message}`),
      [],
      'fix the document at each line named (a block that is deliberately not code gets <!-- not-compiled: reason --> before it)',
    );
  });

  test('the blocks left out are few, each with its reason', () => {
    const skipped = blocks.filter((b) => b.notCompiled !== undefined);
    assert.ok(skipped.length <= 4, `${skipped.length} blocks are not compiled: ${skipped.map((b) => `${b.doc}:${b.line}`).join(', ')}`);
  });
});

describe('the code block checker', () => {
  test('finds ts and js blocks with their lines, markers and file names; skips other languages', () => {
    const md = [
      '# Doc', // 1
      '```ts', // 2
      "const a: number = 'x';", // 3
      '```', // 4
      '<!-- not-compiled: a signature -->', // 5
      '', // 6
      '```ts', // 7
      'f(x: number): void', // 8
      '```', // 9
      '```sh', // 10
      'npm test', // 11
      '```', // 12
      '- a list item:', // 13
      '  ```js', // 14
      '  // server.js — run it', // 15
      "  import x from 'y';", // 16
      '  ```', // 17
    ].join('\n');
    const blocks = extractBlocks('X.md', md);
    assert.deepEqual(
      blocks.map((b) => ({ line: b.line, lang: b.lang, notCompiled: b.notCompiled, fileName: b.fileName })),
      [
        { line: 3, lang: 'ts', notCompiled: undefined, fileName: undefined },
        { line: 8, lang: 'ts', notCompiled: 'a signature', fileName: undefined },
        { line: 15, lang: 'js', notCompiled: undefined, fileName: 'server.js' },
      ],
    );
    assert.equal(blocks[2]?.code, "// server.js — run it\nimport x from 'y';");
  });

  test('reports errors at the document line; a .js file using import in a CommonJS project is refused, a .mjs one is not', () => {
    const blocks = extractBlocks(
      'X.md',
      [
        '```ts', // 1
        "import { Switchboard } from 'switchboard';", // 2
        'const sb = new Switchboard(0);', // 3
        "sb.on('connection', (socket) => socket.join(42));", // 4
        '```', // 5
        '```js', // 6
        '// server.js', // 7
        "import { Switchboard } from 'switchboard';", // 8
        'new Switchboard(0);', // 9
        '```', // 10
        '```js', // 11
        '// server.mjs', // 12
        "import { Switchboard } from 'switchboard';", // 13
        'await new Switchboard(0).ready();', // 14
        '```', // 15
        '```ts', // 16
        "import { connect } from '/switchboard/client.js';", // 17
        '```', // 18
      ].join('\n'),
    );
    const where = checkBlocks(blocks).map((e) => e.where);
    assert.ok(where.includes('X.md:4'), `a number is not a room name: ${where}`);
    assert.ok(where.includes('X.md:8'), `server.js is CommonJS here: ${where}`);
    assert.ok(!where.some((w) => w === 'X.md:13' || w === 'X.md:14'), `server.mjs is an ES module: ${where}`);
    assert.ok(where.includes('X.md:17'), `a URL path is no module for TypeScript: ${where}`);
  });
});
