export * from './constants.js';
export * from './frames.js';
export * from './codec.js';
export * from './error-codes.js';
export * from './close-codes.js';
export * from './errors.js';
export * from './pending-replies.js';
export * from './event-map.js';
