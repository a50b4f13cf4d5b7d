import { Agent, request } from 'node:http';
import { monotonicUs } from '../stats.js';

/** What one scenario publishes: single publishes (`batch` 1, POST /publish) or batches of `batch` (POST /batch). */
export interface PublishPlan {
  port: number;
  path: string;
  key: string;
  room: string;
  batch: number;
  /** Requests in flight at once, each on its own keep-alive connection. */
  concurrency: number;
}

/** Publications answered 200 and requests answered, with the time of each answer, for counting within a window. */
export interface PublishTally {
  /** [answered at µs, publications it carried that were accepted, request latency µs] per request. */
  answers: number[];
  /** Answers that were not a 200 (or a batch item that was not). */
  failures: number;
  /** The first failure's body, to say what went wrong. */
  firstFailure?: string;
}

/** Padding that makes a publication's data about 100 bytes of JSON, as the other fan-out benches. */
const PADDING = 'x'.repeat(64);

/**
 * A backend publishing over HTTP: `concurrency` closed loops, each sending its next request
 * as soon as the previous one is answered, over keep-alive connections, until `stop()`.
 * Each publication's data carries `t`, the send time (CLOCK_MONOTONIC µs), so a client can
 * tell how long it took from the request to its delivery.
 */
export class HttpPublisher {
  private readonly agent: Agent;
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;
  readonly tally: PublishTally = { answers: [], failures: 0 };

  constructor(private readonly plan: PublishPlan) {
    this.agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.plan.concurrency }, () => this.loop());
  }

  /** Stop sending; resolves with the number of publications accepted in all, once every request in flight is answered. */
  async stop(): Promise<number> {
    this.running = false;
    await Promise.all(this.loops);
    return this.tally.answers.reduce((sum, _x, i) => (i % 3 === 1 ? sum + (this.tally.answers[i] as number) : sum), 0);
  }

  close(): void {
    this.agent.destroy();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const t = monotonicUs();
      const body = this.body(t);
      const answer = await this.post(body);
      const done = monotonicUs();
      let accepted = 0;
      if (answer.status === 200) {
        if (this.plan.batch === 1) accepted = 1;
        else {
          for (const r of (JSON.parse(answer.body) as { results: { status: number }[] }).results) {
            if (r.status === 200) accepted++;
            else this.fail(JSON.stringify(r));
          }
        }
      } else {
        this.fail(answer.body);
      }
      this.tally.answers.push(done, accepted, done - t);
    }
  }

  private fail(body: string): void {
    this.tally.failures++;
    this.tally.firstFailure ??= body;
  }

  private body(t: number): string {
    const one = (): string => `{"room":"${this.plan.room}","event":"tick","data":{"s":${this.seq++},"t":${t},"p":"${PADDING}"}}`;
    if (this.plan.batch === 1) return one();
    const items: string[] = [];
    for (let i = 0; i < this.plan.batch; i++) items.push(one());
    return `{"publications":[${items.join(',')}]}`;
  }

  private post(body: string): Promise<{ status: number; body: string }> {
    const route = this.plan.batch === 1 ? '/publish' : '/batch';
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.plan.port,
          path: this.plan.path + route,
          method: 'POST',
          agent: this.agent,
          headers: { authorization: `Bearer ${this.plan.key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
