export * from './constants.js';
export * from './frames.js';
export * from './codec.js';
export * from './error-codes.js';
export { CloseCode, shouldReconnectAfter } from './close-codes.js';
export { CLOSE_CODES, closeCodeInfo, type CloseCodeInfo } from './close-code-table.js';
export * from './errors.js';
export * from './pending-replies.js';
export * from './event-map.js';
