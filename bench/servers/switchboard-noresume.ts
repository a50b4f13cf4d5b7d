import { serveSwitchboard } from './switchboard-app.js';

/**
 * Switchboard with `resume: false`: nothing is kept for a resume, so what session resume
 * costs (frames kept until acknowledged, the acks to read) shows as the difference from
 * switchboard.ts in one run. Not in the default set: name it in `--servers=`.
 */
await serveSwitchboard({ resume: false });
