import { serveSwitchboard } from './switchboard-app.js';

/** Switchboard as shipped (see switchboard-app.ts for the limits turned off for the load generator). */
await serveSwitchboard();
