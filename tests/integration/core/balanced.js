// Scenario 1: a 4-shard stream, 20,000 records, 2 workers. Every record is
// processed exactly once, in sequence order per shard; the leases split 2/2
// and stay so; each lease's checkpoint ends at its shard's last sequence number.
'use strict';
const L = require('./lib.js');

L.run('core.balanced', async () => {
  const stream = L.uniq('core-bal'), app = L.uniq('core-bal-app');
  await L.createStream(stream, 4);
  const args = ['--max-records', '500', '--failover-ms', '3000'];
  const a = L.startDriver({ stream, app, id: 'wA', args });
  const b = L.startDriver({ stream, app, id: 'wB', args });
  const sampler = L.sampleOwners(app);

  // 1. the split settles at 2/2 before any record is put
  await L.waitSplit(app, [a, b], { wA: 2, wB: 2 });
  const settledAt = sampler.samples.length;
  L.log('leases split 2/2');

  // 2. 20,000 records, then every one of them processed
  const records = [];
  for (let i = 0; i < 20000; i++) records.push({ data: `r-${i}`, pk: `pk-${i % 997}` });
  await L.putRecords(stream, records);
  L.log('20000 records put');
  const all = () => [...a.events(), ...b.events()];
  await L.waitFor('all 20000 records processed', 60000, () => L.recs(all()).length >= 20000, 250);

  // 3. checkpoints reach the last sequence number of every shard
  const lastSeq = {};
  for (const r of records) if (!lastSeq[r.shard] || L.cmpSeq(r.seq, lastSeq[r.shard]) > 0) lastSeq[r.shard] = r.seq;
  let ls;
  try {
    await L.waitFor('checkpoints at the last sequence numbers', 10000, async () => {
      ls = await L.leases(app);
      return Object.keys(lastSeq).every((s) => ls[s] && ls[s].checkpoint === lastSeq[s]);
    });
  } catch (e) { /* reported below */ }
  for (const s of Object.keys(lastSeq).sort())
    L.check(ls[s] && ls[s].checkpoint === lastSeq[s], `${s}: checkpoint ${ls[s] && ls[s].checkpoint}, last record ${lastSeq[s]}`);
  L.check(Object.keys(lastSeq).length === 4, `records went to ${Object.keys(lastSeq).length} shards, not 4`);

  const samples = await sampler.stop();
  a.kill('SIGTERM');
  b.kill('SIGTERM');
  const [ea, eb] = await Promise.all([a.wait(15000), b.wait(15000)]);
  L.check(ea.code === 0 && eb.code === 0, `clean exits: ${JSON.stringify([ea, eb])}`);

  // 4. exactly once, in order, each shard by one worker only, 2/2 throughout
  const evs = all();
  const t = L.tally(records, evs);
  L.check(t.missing.length === 0, `missing records: ${L.sample(t.missing)}`);
  L.check(t.dups.length === 0, `duplicate records: ${L.sample(t.dups)}`);
  L.check(t.extra.length === 0, `unexpected records: ${L.sample(t.extra)}`);
  L.check(L.orderViolations(evs) === 0, 'records out of sequence order within a shard');
  const byShard = {};
  for (const e of L.recs(evs)) (byShard[e.shard] = byShard[e.shard] || new Set()).add(e.w);
  for (const [s, ws] of Object.entries(byShard)) L.check(ws.size === 1, `${s} processed by ${[...ws]}`);
  const after = samples.slice(settledAt);
  const unstable = after.filter((s) => !(s.counts.wA === 2 && s.counts.wB === 2));
  L.check(after.length > 10 && unstable.length === 0,
    `lease split changed after settling: ${unstable.slice(0, 3).map((s) => JSON.stringify(s)).join(' ')}`);
  const recsA = L.recs(a.events()).length, recsB = L.recs(b.events()).length;
  L.log(`lease owners over time: ${L.ownerHistory(samples)}`);
  L.log(`records: wA ${recsA}, wB ${recsB}; ${after.length} samples after settling, all 2/2: ${unstable.length === 0}`);
  const held = (evs2) => evs2.filter((e) => e.ev === 'held').map((e) => e.n);
  L.log(`consumers held over time (every 250 ms): wA ${[...new Set(held(a.events()))]}, wB ${[...new Set(held(b.events()))]}`);
});
