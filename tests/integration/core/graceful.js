// Scenario 5: graceful shutdown. SIGTERM on one of two workers mid-stream:
// its processors are shut down with REQUESTED, its leases released (no
// leaseOwner left), it exits within the grace time, and the other worker
// picks the shards up at once (well before they could have expired), resuming
// from the checkpoints: nothing lost, nothing processed twice.
'use strict';
const L = require('./lib.js');

const FAILOVER = 6000, GRACE = 8000;

L.run('core.graceful', async () => {
  const stream = L.uniq('core-gr'), app = L.uniq('core-gr-app');
  await L.createStream(stream, 4);
  const args = ['--max-records', '100', '--slow-ms', '300', '--failover-ms', String(FAILOVER),
    '--grace-ms', String(GRACE)];
  const a = L.startDriver({ stream, app, id: 'wA', args });
  const b = L.startDriver({ stream, app, id: 'wB', args });
  await L.waitSplit(app, [a, b], { wA: 2, wB: 2 }, 40000, 2500);
  const aShards = Object.values(await L.leases(app)).filter((l) => l.leaseOwner === 'wA').map((l) => l.leaseKey).sort();
  L.log(`leases split 2/2; wA holds ${aShards}`);

  const records = [];
  for (let i = 0; i < 6000; i++) records.push({ data: `g-${i}`, pk: `pk-${i % 211}` });
  await L.putRecords(stream, records);
  await L.waitFor('wA mid-stream', 30000, () => L.recs(a.events()).length >= 400, 20);
  // SIGTERM while a batch is in the processor's hands (delivered, not yet checkpointed)
  const inFlight = await L.waitFor('a batch in flight on wA', 10000, () => {
    const e = a.events();
    const done = new Set(e.filter((x) => x.ev === 'cp_ok').map((x) => x.b));
    const open = e.filter((x) => x.ev === 'batch' && !done.has(x.b));
    return open.length ? open[open.length - 1] : null;
  }, 5);
  const termAt = L.monoMs();      // before the signal: the driver may log its reaction at once
  a.kill('SIGTERM');
  const ea = await a.wait(GRACE + 5000);
  const exitMs = ea.t - termAt;
  L.log(`wA exited ${exitMs} ms after SIGTERM, code ${ea.code}`);
  L.check(ea.code === 0, `wA exit ${JSON.stringify(ea)}`);
  L.check(exitMs < GRACE, `wA took ${exitMs} ms to stop (grace ${GRACE})`);
  const ae = a.events();
  const shut = ae.filter((e) => e.ev === 'shutdown' && e.t >= termAt);
  const cpIn = ae.find((e) => e.ev === 'cp_ok' && e.b === inFlight.b);
  const shutIn = shut.find((e) => e.shard === inFlight.shard);
  L.check(cpIn && shutIn && cpIn.t <= shutIn.t,
    `the batch in flight at SIGTERM (${inFlight.b} on ${inFlight.shard}) did not finish before shutdown`);
  L.check(shut.length === 2 && shut.every((e) => e.reason === 'REQUESTED'),
    `wA shutdowns: ${JSON.stringify(shut.map((e) => [e.shard, e.reason]))}`);
  L.check(ae.some((e) => e.ev === 'stopped' && e.clean === 1), 'wA reported a clean stop');
  let ls = await L.leases(app);
  const stillA = Object.values(ls).filter((l) => l.leaseOwner === 'wA');
  L.check(stillA.length === 0, `leases still owned by wA after it exited: ${stillA.map((l) => l.leaseKey)}`);

  await L.waitFor('wB owns all 4', FAILOVER, async () => L.ownerCounts(await L.leases(app)).wB === 4, 25);
  const pickMs = L.monoMs() - ea.t;
  L.log(`wB owned all 4 shards ${pickMs} ms after wA exited (expiry would take ${FAILOVER} ms)`);
  L.check(pickMs < FAILOVER / 2, `wB took ${pickMs} ms to pick the released shards up`);

  const evs = () => [...a.events(), ...b.events()];
  await L.waitFor('every record processed', 60000, () => L.tally(records, evs()).missing.length === 0, 250);
  b.kill('SIGTERM');
  const eb = await b.wait(GRACE + 5000);
  L.check(eb.code === 0, `wB exit ${JSON.stringify(eb)}`);
  const t = L.tally(records, evs());
  L.check(t.missing.length === 0, `missing: ${L.sample(t.missing)}`);
  L.check(t.dups.length === 0, `duplicates across a graceful handover: ${L.sample(t.dups)}`);
  L.check(L.orderViolations(evs()) === 0, 'records out of order within a shard');
  ls = await L.leases(app);
  const owned = Object.values(ls).filter((l) => l.leaseOwner);
  L.check(Object.keys(ls).length === 4 && owned.length === 0,
    `after both stopped, leases with an owner: ${owned.map((l) => `${l.leaseKey}=${l.leaseOwner}`)}`);
  for (const s of aShards) {
    const last = records.filter((r) => r.shard === s).sort((x, y) => L.cmpSeq(x.seq, y.seq)).pop();
    L.check(last && ls[s].checkpoint === last.seq, `${s}: checkpoint ${ls[s].checkpoint}, last ${last && last.seq}`);
  }
});
