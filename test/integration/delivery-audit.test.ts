/**
 * Issue 13: the guarantees hold on the worst links. SDK clients on every transport sit
 * behind links that flap like a phone on a train (test/helpers/flap-profile.ts, seeded),
 * with one node and with three on Redis; numbered messages flow to an ordinary and a
 * durable room and clients make reliable publishes. What reached the handlers is checked
 * against what docs/GUARANTEES.md promises, one figure of one case per test, and printed
 * as a table.
 *
 * AUDIT_SCALE=4 runs four times as long (the default is about 15 s of traffic per
 * topology); FAULT_SEED=<n> replays a run's outages.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { TransportKind } from '../../src/client/node.js';
import { formatTable } from '../helpers/delivery-tally.js';
import { type AuditCase, type AuditPlan, figures, type Mechanism, runAudit } from '../helpers/flap-audit.js';
import { HARSH_PROFILE } from '../helpers/link-flap.js';
import { deriveSeed, faultSeed } from '../helpers/seeded-random.js';

const SCALE = Number(process.env.AUDIT_SCALE ?? 1);
if (!(SCALE > 0)) throw new RangeError(`AUDIT_SCALE must be a positive number, got ${process.env.AUDIT_SCALE}`);
const SEED = faultSeed();
const TRANSPORTS: TransportKind[] = ['websocket', 'sse', 'polling'];
const MECHANISMS: Mechanism[] = ['ordinary', 'durable', 'reliable'];
/** The server's default resume TTL: a client away for less must never see `recovered: false`. */
const RESUME_TTL_MS = 120_000;

function plan(nodes: number): AuditPlan {
  return {
    nodes,
    seed: deriveSeed(SEED, `nodes-${nodes}`),
    profile: HARSH_PROFILE,
    transports: TRANSPORTS,
    mechanisms: MECHANISMS,
    clientsPerCase: 6,
    trafficMs: Math.round(15_000 * SCALE),
    rate: 100,
    reliableRate: 5,
    settleMs: 20_000,
  };
}

type Figures = ReturnType<typeof figures>;

function audit(nodes: number): void {
  describe(`delivery audit on flapping links, ${nodes} node${nodes > 1 ? 's' : ''} (FAULT_SEED=${SEED})`, () => {
    let cases: AuditCase[] = [];
    const rows = new Map<string, Figures>();
    before(async () => {
      const started = Date.now();
      cases = await runAudit(plan(nodes));
      for (const c of cases) rows.set(c.name, figures(c));
      const table = formatTable([...rows.values()]);
      const extra = [...rows.values()]
        .filter((r) => Object.keys(r.rejections).length > 0 || r.unsettled > 0)
        .map((r) => `  ${r.case}: rejected ${JSON.stringify(r.rejections)}, unsettled ${r.unsettled}`);
      console.log(`\n${table}\n${extra.join('\n')}\n  (${Math.round((Date.now() - started) / 1000)} s; FAULT_SEED=${SEED}; lost/dup/reord counted at the handlers; silent: ordinary = lost by all-resumed clients, durable = outside any recovered:false gap, reliable = resolved but not run once)`);
    });

    for (const transport of TRANSPORTS) {
      for (const mechanism of MECHANISMS) {
        const name = `${nodes} node${nodes > 1 ? 's' : ''} · ${transport} · ${mechanism}`;
        const row = (): Figures => {
          const r = rows.get(name);
          assert.ok(r, `${name}: the case did not run`);
          return r;
        };
        const caseOf = (): AuditCase => cases.find((c) => c.name === name) as AuditCase;

        test(`${name}: the links flapped (reconnects > 0), or the audit proves nothing`, () => {
          assert.ok(row().reconnects > 0 && row().cuts > 0, `${name}: ${row().reconnects} reconnects, ${row().cuts} connections cut`);
        });
        test(`${name}: every client caught up before the audit counted`, () => {
          assert.equal(row().unsettled, 0, `${name}: ${row().unsettled} clients (or publishes) still waiting after the settle time`);
        });
        test(`${name}: duplicated = 0`, () => {
          assert.equal(row().duplicated, 0, `${name}: duplicated ${row().duplicated}`);
        });
        test(`${name}: reordered = 0`, () => {
          assert.equal(row().reordered, 0, `${name}: reordered ${row().reordered}`);
        });

        test(`${name}: every reconnect kept the session (new sessions = 0 for clients away less than the TTL)`, () => {
          // GUARANTEES.md, Session resume: a client back within the TTL gets its session back, on
          // any node (resumed, or restored by another node). A new session is what loses ordinary
          // events and sends durable rooms back to their history.
          const within = caseOf().clients.filter((a) => a.sessions.longestAwayMs < RESUME_TTL_MS);
          const fresh = within.reduce((s, a) => s + a.sessions.fresh, 0);
          const longest = Math.max(0, ...caseOf().clients.map((a) => a.sessions.longestAwayMs));
          assert.equal(fresh, 0, `${name}: ${fresh} new sessions of ${row().reconnects} reconnects (longest time away ${(longest / 1000).toFixed(1)} s; TTL ${RESUME_TTL_MS / 1000} s)`);
        });

        if (mechanism === 'ordinary') {
          test(`${name}: lost = 0 for clients whose sessions all resumed`, () => {
            const r = row();
            const allResumed = caseOf().clients.filter((a) => a.sessions.allResumed).length;
            assert.equal(r.silent, 0, `${name}: ${r.silent} messages lost by the ${allResumed} clients whose every reconnect resumed (all clients: lost ${r.lost} of ${r.expected}; ${r.fresh} new sessions, ${r.restored} restored)`);
          });
        }
        if (mechanism === 'durable') {
          test(`${name}: no silent loss (every missing number inside a recovered:false gap)`, () => {
            const r = row();
            const errors = caseOf().clients.flatMap((a) => a.errors);
            assert.equal(r.silent, 0, `${name}: ${r.silent} of ${r.lost} missing numbers are in no reported gap (SDK errors: ${JSON.stringify(errors.slice(0, 5))})`);
          });
          test(`${name}: recovered:false = 0 for clients away less than the TTL`, () => {
            const within = caseOf().clients.filter((a) => a.sessions.longestAwayMs < RESUME_TTL_MS);
            const gaps = within.reduce((s, a) => s + a.gaps.length, 0);
            const numbers = within.reduce((s, a) => s + a.gaps.reduce((t, g) => t + g.toOffset - g.fromOffset, 0), 0);
            assert.equal(gaps, 0, `${name}: ${gaps} recovered:false gaps (${numbers} publications) for ${within.length} clients never away ${RESUME_TTL_MS / 1000} s`);
          });
        }
        if (mechanism === 'reliable') {
          test(`${name}: every publish handled exactly once`, () => {
            const r = row();
            assert.deepEqual(
              { lost: r.lost, duplicated: r.duplicated, rejected: r.gaps, resolvedNotOnce: r.silent },
              { lost: 0, duplicated: 0, rejected: 0, resolvedNotOnce: 0 },
              `${name}: of ${r.expected} publishes, ${r.lost} never handled, ${r.duplicated} extra runs, rejected ${JSON.stringify(r.rejections)}`,
            );
          });
        }
      }
    }
  });
}

audit(1);
audit(3);
