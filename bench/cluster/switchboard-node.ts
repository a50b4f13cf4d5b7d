import { RedisAdapter } from '../../src/cluster/redis/index.js';
import { serveSwitchboard } from '../servers/switchboard-app.js';
import { servePaced } from './paced.js';

/**
 * One Switchboard node of a bench cluster: with BENCH_REDIS_URL and BENCH_PREFIX on the
 * RedisAdapter, else the in-memory adapter (a cluster of one); otherwise the server of
 * ../servers/switchboard-app.ts, answering `paced` too.
 */
const redisUrl = process.env.BENCH_REDIS_URL;
await serveSwitchboard(redisUrl ? { adapter: new RedisAdapter(redisUrl, { prefix: process.env.BENCH_PREFIX ?? 'sbbench' }) } : {}, servePaced);
