/**
 * `switchboard/yjs/client`: the document provider, which connects a Y.Doc and an Awareness to
 * a document of a `DocumentHost` over a Switchboard client. Browser-safe: no `node:` imports.
 * yjs and y-protocols are optional peer dependencies of switchboard; install them to use it.
 */
export { DocumentProvider } from './document-provider.js';
export type { DocumentProviderOptions } from './document-provider.js';
export type { DocumentProviderEvents, DocumentStatus } from './provider-events.js';
export { YjsErrorCode } from '../messages.js';
