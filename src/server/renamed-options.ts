/**
 * Server options renamed to follow the naming convention (docs/API.md, "Options"): old name →
 * new name. Nothing is published under the old names, so there are no aliases; the
 * unknown-option check uses this table to say which option to use instead.
 */
export const RENAMED_OPTIONS: Readonly<Record<string, string>> = {
  maxRoomsPerConnection: 'maxRoomsPerSocket',
  rateLimit: 'frameRate',
};
