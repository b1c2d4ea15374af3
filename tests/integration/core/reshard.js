// Scenario 3: resharding under load. Two workers consume a 3-shard stream
// while a producer keeps putting records; shard 0 is split, shards 1 and 2 are
// merged. kinesalite returns no ChildShards, so the consumers find the
// children through ListShards (shard_sync). Every record is processed; for
// every partition key, its records are processed in the order they were put
// (so a parent's records before its children's); the parents end at SHARD_END
// and their children name them.
'use strict';
const L = require('./lib.js');

const PKS = 60;

L.run('core.reshard', async () => {
  const stream = L.uniq('core-rs'), app = L.uniq('core-rs-app');
  await L.createStream(stream, 3);
  const args = ['--max-records', '200', '--failover-ms', '3000'];
  const a = L.startDriver({ stream, app, id: 'wA', args });
  const b = L.startDriver({ stream, app, id: 'wB', args });

  // the producer: per partition key a counter, data "<pk>#<n>"
  const records = [];
  const next = new Array(PKS).fill(0);
  let producing = true;
  const producer = (async () => {
    while (producing) {
      const chunk = [];
      for (let k = 0; k < 200; k++) {
        const p = (records.length + k) % PKS;
        chunk.push({ data: `k${p}#${next[p]++}`, pk: `k${p}` });
      }
      for (let tries = 0; ; tries++) {
        try { await L.putRecords(stream, chunk); break; } catch (e) {
          if (tries > 50) throw e;
          await L.sleep(50);          // the stream is UPDATING for a moment
        }
      }
      records.push(...chunk);
      await L.sleep(100);
    }
  })();

  await L.waitFor('records flowing', 20000, () => L.recs([...a.events(), ...b.events()]).length >= 500, 50);
  const shards0 = await L.listShards(stream);
  const [s0, s1, s2] = shards0;
  const lo = BigInt(s0.HashKeyRange.StartingHashKey), hi = BigInt(s0.HashKeyRange.EndingHashKey);
  await L.kinesis.send(new L.K.SplitShardCommand({ StreamName: stream, ShardToSplit: s0.ShardId,
    NewStartingHashKey: String(lo + (hi - lo) / 2n) }));
  await L.waitActive(stream);
  L.log(`split ${s0.ShardId}`);
  await L.sleep(1000);
  await L.kinesis.send(new L.K.MergeShardsCommand({ StreamName: stream, ShardToMerge: s1.ShardId,
    AdjacentShardToMerge: s2.ShardId }));
  await L.waitActive(stream);
  L.log(`merged ${s1.ShardId} + ${s2.ShardId}`);
  await L.sleep(1500);
  producing = false;
  await producer;
  L.log(`${records.length} records put`);

  const shards = await L.listShards(stream);
  const kids = shards.filter((s) => !shards0.some((o) => o.ShardId === s.ShardId));
  L.check(kids.length === 3, `children: ${kids.map((s) => s.ShardId)}`);
  const evs = () => [...a.events(), ...b.events()];
  await L.waitFor('every record processed', 60000, () => L.tally(records, evs()).missing.length === 0, 250);
  // the parents finished: SHARD_END written
  await L.waitFor('parents at SHARD_END', 15000, async () => {
    const ls = await L.leases(app);
    return [s0, s1, s2].every((s) => !ls[s.ShardId] || ls[s.ShardId].checkpoint === 'SHARD_END');
  });
  const ls = await L.leases(app);
  a.kill('SIGTERM');
  b.kill('SIGTERM');
  const [ea, eb] = await Promise.all([a.wait(15000), b.wait(15000)]);
  L.check(ea.code === 0 && eb.code === 0, `exits ${JSON.stringify([ea, eb])}`);

  const all = evs();
  const t = L.tally(records, all);
  L.check(t.missing.length === 0, `missing: ${L.sample(t.missing)}`);
  L.check(t.extra.length === 0, `unexpected: ${L.sample(t.extra)}`);
  L.check(L.orderViolations(all) === 0, 'records out of order within a shard');
  // per partition key: first processing in put order (parents before children)
  const firstT = new Map(), shardOf = new Map();
  for (const e of L.recs(all)) if (!firstT.has(e.data)) { firstT.set(e.data, e.t); shardOf.set(e.data, e.shard); }
  let bad = 0, crossings = 0;
  for (let p = 0; p < PKS; p++) {
    for (let n = 1; n < next[p]; n++) {
      const prev = `k${p}#${n - 1}`, cur = `k${p}#${n}`;
      if (shardOf.get(prev) !== shardOf.get(cur)) crossings++;
      if (firstT.get(cur) < firstT.get(prev)) {
        if (bad++ < 5) console.error(`order: ${cur} (${shardOf.get(cur)}) processed before ${prev} (${shardOf.get(prev)})`);
      }
    }
  }
  L.check(bad === 0, `${bad} records of a partition key processed before an earlier one`);
  L.check(crossings >= PKS, `only ${crossings} parent->child crossings seen`);
  // the lease table: parents at SHARD_END (or cleaned up), children naming their parents
  for (const k of kids) {
    const want = [k.ParentShardId, k.AdjacentParentShardId].filter(Boolean).sort().join();
    const row = ls[k.ShardId];
    L.check(row && [...(row.parentShardId || [])].sort().join() === want,
      `${k.ShardId}: parentShardId ${row && row.parentShardId}, want ${want}`);
  }
  for (const s of [s0, s1, s2]) {
    const row = ls[s.ShardId];
    if (row) L.check(row.checkpoint === 'SHARD_END' && row.childShardIds && row.childShardIds.length >= 1,
      `${s.ShardId}: ${JSON.stringify(row)}`);
  }
  const term = all.filter((e) => e.ev === 'shutdown' && e.reason === 'TERMINATE').map((e) => e.shard);
  L.check([s0, s1, s2].every((s) => term.includes(s.ShardId)), `TERMINATE shutdowns: ${term}`);
  L.log(`${records.length} records, ${t.dups.length} duplicates, ${crossings} parent->child crossings, order kept`);
});
