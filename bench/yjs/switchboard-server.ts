import { DocumentHost } from '../../src/yjs/index.js';
import { serveSwitchboard } from '../servers/switchboard-app.js';

/**
 * Switchboard with the Yjs DocumentHost (switchboard/yjs) on every room named `doc:…`, the
 * documents in memory (the default MemoryDocumentStore). The server is the bench's
 * Switchboard (../servers/switchboard-app.ts): the limits that would refuse 50 editors
 * from one IP at a high rate are off, everything else as shipped. BENCH_YJS_COMPACT_AFTER
 * sets the host's `compactAfter` (the variant `switchboard-nocompact` in systems.ts).
 */
const compactAfter = process.env.BENCH_YJS_COMPACT_AFTER ? Number(process.env.BENCH_YJS_COMPACT_AFTER) : undefined;
await serveSwitchboard({}, undefined, (sb) => {
  new DocumentHost(sb, { documents: /^doc:/, ...(compactAfter === undefined ? {} : { compactAfter }) });
});
