// Scenario 2: failover. Two workers share 4 shards; one is killed with
// SIGKILL mid-stream. The survivor owns every shard within failover_time +
// one renewal interval; every record is processed at least once, in order per
// shard; the only duplicates are records the dead worker had been given but
// had not checkpointed.
'use strict';
const L = require('./lib.js');

const FAILOVER = 3000, RENEW = FAILOVER / 3;

L.run('core.failover', async () => {
  const stream = L.uniq('core-fo'), app = L.uniq('core-fo-app');
  await L.createStream(stream, 4);
  const args = ['--max-records', '100', '--slow-ms', '40', '--failover-ms', String(FAILOVER)];
  const a = L.startDriver({ stream, app, id: 'wA', args });
  const b = L.startDriver({ stream, app, id: 'wB', args });
  const sampler = L.sampleOwners(app, 200);
  await L.waitSplit(app, [a, b], { wA: 2, wB: 2 });
  L.log('leases split 2/2');

  const records = [];
  for (let i = 0; i < 8000; i++) records.push({ data: `f-${i}`, pk: `pk-${i % 331}` });
  await L.putRecords(stream, records);
  // mid-stream: A has processed some of its records, far from all
  await L.waitFor('wA mid-stream', 30000, () => L.recs(a.events()).length >= 600, 20);
  const killedAt = L.monoMs();
  a.kill('SIGKILL');
  await a.exitP;
  const doneA = L.recs(a.events()).length;
  L.log(`wA killed after ${doneA} records`);
  L.check(doneA < 3500, `wA was not mid-stream (${doneA} records)`);

  // the survivor owns all 4 within failover + one renewal interval
  await L.waitFor('wB owns all 4 shards', FAILOVER + RENEW + 5000, async () =>
    L.ownerCounts(await L.leases(app)).wB === 4, 25);
  const tookMs = L.monoMs() - killedAt;
  // The bound: the survivor sees the last renewal at its next scan (one
  // interval, = the renewal interval), takes the lease failover ms later (its
  // expiry scan is scheduled 50 ms past that); plus the scan's and the take's
  // round trips, which a loaded 2-core machine stretches: SLACK.
  const SLACK = 400;
  L.log(`failover: wB owned all 4 shards ${tookMs} ms after the SIGKILL (failover ${FAILOVER} + renewal ${RENEW} = ${FAILOVER + RENEW} ms)`);
  L.check(tookMs <= FAILOVER + RENEW + SLACK, `failover took ${tookMs} ms > failover ${FAILOVER} + renewal ${RENEW} + ${SLACK}`);
  const evs = () => [...a.events(), ...b.events()];
  await L.waitFor('every record processed', 60000, () => L.tally(records, evs()).missing.length === 0, 250);
  const inits = b.events().filter((e) => e.ev === 'init' && e.t > killedAt);
  L.check(inits.length === 2, `wB initialized ${inits.length} shards after the kill, not wA's 2`);

  const samples = await sampler.stop();
  b.kill('SIGTERM');
  const eb = await b.wait(15000);
  L.check(eb.code === 0, `wB exit ${JSON.stringify(eb)}`);

  const all = evs();
  const t = L.tally(records, all);
  L.check(t.missing.length === 0, `missing: ${L.sample(t.missing)}`);
  L.check(t.extra.length === 0, `unexpected: ${L.sample(t.extra)}`);
  L.check(L.orderViolations(all) === 0, 'records out of order within a shard');
  // duplicates only from A's uncheckpointed batches
  const ae = a.events();
  const cpd = new Set(ae.filter((e) => e.ev === 'cp_ok').map((e) => e.b));
  const uncheckpointed = new Set(L.recs(ae).filter((e) => !cpd.has(e.b)).map((e) => e.data));
  const badDups = t.dups.filter((d) => !uncheckpointed.has(d));
  L.check(badDups.length === 0, `duplicates A had checkpointed: ${L.sample(badDups)}`);
  const aBatches = new Set(L.recs(ae).filter((e) => !cpd.has(e.b)).map((e) => e.b));
  L.check(aBatches.size <= 2, `wA had ${aBatches.size} uncheckpointed batches (one per shard at most)`);
  // B resumed each of A's shards right after A's last checkpoint: the last one
  // A logged, or the one of its last batch (the write may have landed just
  // before the SIGKILL, unlogged)
  const after = (s, seq) => records.filter((r) => r.shard === s && L.cmpSeq(r.seq, seq) > 0)
    .sort((x, y) => L.cmpSeq(x.seq, y.seq))[0];
  for (const s of new Set(L.recs(ae).map((e) => e.shard))) {
    const cps = ae.filter((e) => e.ev === 'cp_ok' && e.shard === s);
    const lastCpBatch = cps.length ? cps[cps.length - 1].b : null;
    const aRecs = L.recs(ae).filter((e) => e.shard === s);
    const cpRecs = aRecs.filter((e) => e.b === lastCpBatch);
    const starts = [];
    if (cpRecs.length) starts.push(after(s, cpRecs[cpRecs.length - 1].seq));
    starts.push(after(s, aRecs[aRecs.length - 1].seq));
    const bFirst = L.recs(b.events()).find((e) => e.shard === s);
    if (bFirst) {
      L.check(starts.some((w) => w && w.seq === bFirst.seq),
        `${s}: wB began at ${bFirst.seq}, not right after one of wA's last checkpoints (${starts.map((w) => w && w.seq)})`);
    }
  }
  L.log(`duplicates: ${t.dups.length} (all from wA's ${aBatches.size} uncheckpointed batch(es) of ${uncheckpointed.size} records)`);
  L.log(`lease owners over time: ${L.ownerHistory(samples)}`);
});
