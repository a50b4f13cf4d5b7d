/**
 * The timers as they were when the tests loaded, before any test mocks them (node:test's
 * `mock.timers` replaces the globals). For the bounds of waits in helpers: a test that
 * runs the client on a mocked clock must still fail, not hang, when what it waits for
 * never comes.
 */
export const realSetTimeout = globalThis.setTimeout;
export const realClearTimeout = globalThis.clearTimeout;
