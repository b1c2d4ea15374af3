// Scenario 6: Java KCL compatibility. A lease table written the way the Java
// KCL 2.x/3.x writes it (its attribute names and DynamoDB types, plus 3.x
// attributes luakcl does not know: checkpointOwner, throughputKBps), with a
// checkpoint in the middle of a shard owned by a dead Java worker, a SHARD_END
// parent and its two children (one checkpointed mid-shard with a pending
// checkpoint, one at TRIM_HORIZON). luakcl resumes from those checkpoints:
// nothing re-processed, nothing skipped, the finished parent untouched; the
// items keep every attribute in Java's types, the unknown ones untouched.
'use strict';
const L = require('./lib.js');

const S = (v) => ({ S: String(v) });
const N = (v) => ({ N: String(v) });
const SS = (v) => ({ SS: v });

L.run('core.javacompat', async () => {
  const stream = L.uniq('core-java'), app = L.uniq('core-java-app');
  await L.createStream(stream, 2);
  const before = [];
  for (let i = 0; i < 300; i++) before.push({ data: `j-${i}`, pk: `pk-${i}` });
  await L.putRecords(stream, before);
  let shards = await L.listShards(stream);
  const s0 = shards[0], s1 = shards[1];
  const lo = BigInt(s1.HashKeyRange.StartingHashKey), hi = BigInt(s1.HashKeyRange.EndingHashKey);
  await L.kinesis.send(new L.K.SplitShardCommand({ StreamName: stream, ShardToSplit: s1.ShardId,
    NewStartingHashKey: String(lo + (hi - lo) / 2n) }));
  await L.waitActive(stream);
  shards = await L.listShards(stream);
  const kids = shards.filter((s) => s.ParentShardId === s1.ShardId);
  L.check(kids.length === 2, `split made ${kids.length} children`);
  const [c2, c3] = kids;
  const after = [];
  for (let i = 300; i < 600; i++) after.push({ data: `j-${i}`, pk: `pk-${i}` });
  await L.putRecords(stream, after);
  const all = [...before, ...after];
  const inShard = (id) => all.filter((r) => r.shard === id).sort((x, y) => L.cmpSeq(x.seq, y.seq));
  const r0 = inShard(s0.ShardId), r2 = inShard(c2.ShardId), r3 = inShard(c3.ShardId);
  L.check(r0.length > 20 && r2.length > 20 && r3.length > 20, `records per shard: ${r0.length} ${r2.length} ${r3.length}`);
  const cp0 = r0[Math.floor(r0.length / 2)].seq, cp2 = r2[Math.floor(r2.length / 3)].seq;
  const pend2 = r2[Math.floor(r2.length / 2)].seq;

  // the table, as the Java KCL creates it, and its items
  await L.ddb.send(new L.D.CreateTableCommand({ TableName: app, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }] }));
  await L.waitFor('table ACTIVE', 15000, async () =>
    (await L.ddb.send(new L.D.DescribeTableCommand({ TableName: app }))).Table.TableStatus === 'ACTIVE');
  const range = (s) => ({ startingHashKey: S(s.HashKeyRange.StartingHashKey), endingHashKey: S(s.HashKeyRange.EndingHashKey) });
  const items = [
    { leaseKey: S(s0.ShardId), leaseOwner: S('java-host:dead-worker'), leaseCounter: N(17), checkpoint: S(cp0),
      checkpointSubSequenceNumber: N(0), ownerSwitchesSinceCheckpoint: N(3), ...range(s0),
      checkpointOwner: S('java-host:dead-worker'), throughputKBps: N('12.5') },
    { leaseKey: S(s1.ShardId), leaseCounter: N(40), checkpoint: S('SHARD_END'), checkpointSubSequenceNumber: N(0),
      ownerSwitchesSinceCheckpoint: N(0), childShardIds: SS([c2.ShardId, c3.ShardId]), ...range(s1) },
    { leaseKey: S(c2.ShardId), leaseCounter: N(5), checkpoint: S(cp2), checkpointSubSequenceNumber: N(0),
      ownerSwitchesSinceCheckpoint: N(1), parentShardId: SS([s1.ShardId]), pendingCheckpoint: S(pend2),
      pendingCheckpointSubSequenceNumber: N(0), ...range(c2) },
    { leaseKey: S(c3.ShardId), leaseCounter: N(0), checkpoint: S('TRIM_HORIZON'), checkpointSubSequenceNumber: N(0),
      ownerSwitchesSinceCheckpoint: N(0), parentShardId: SS([s1.ShardId]), ...range(c3), throughputKBps: N(0) },
  ];
  for (const Item of items) await L.ddb.send(new L.D.PutItemCommand({ TableName: app, Item }));

  const expected = [...r0.filter((r) => L.cmpSeq(r.seq, cp0) > 0), ...r2.filter((r) => L.cmpSeq(r.seq, cp2) > 0), ...r3];
  const a = L.startDriver({ stream, app, id: 'wJ', args: ['--max-records', '100', '--failover-ms', '3000'] });
  const lastOf = (rs) => rs[rs.length - 1].seq;
  const want = { [s0.ShardId]: lastOf(r0), [c2.ShardId]: lastOf(r2), [c3.ShardId]: lastOf(r3) };
  await L.waitFor('every expected record and checkpoint', 40000, async () => {
    if (L.tally(expected, a.events()).missing.length) return false;
    const ls = await L.leases(app);
    return Object.entries(want).every(([k, v]) => ls[k] && ls[k].checkpoint === v);
  }, 200);
  a.kill('SIGTERM');
  const ea = await a.wait(15000);
  L.check(ea.code === 0, `exit ${JSON.stringify(ea)}`);

  const e = a.events();
  const t = L.tally(expected, e);
  L.check(t.missing.length === 0, `skipped: ${L.sample(t.missing)}`);
  L.check(t.dups.length === 0, `processed twice: ${L.sample(t.dups)}`);
  L.check(t.extra.length === 0, `re-processed (before a checkpoint, or of the finished parent): ${L.sample(t.extra)}`);
  const inits = Object.fromEntries(e.filter((x) => x.ev === 'init').map((x) => [x.shard, x.cp]));
  L.check(inits[s0.ShardId] === cp0 && inits[c2.ShardId] === cp2 && inits[c3.ShardId] === 'TRIM_HORIZON' && !(s1.ShardId in inits),
    `initialize checkpoints: ${JSON.stringify(inits)}`);

  // the items afterwards: Java's names and types, unknown attributes untouched
  const raw = Object.fromEntries((await L.scanRaw(app)).map((it) => [it.leaseKey.S, it]));
  const types = { leaseKey: 'S', leaseOwner: 'S', leaseCounter: 'N', checkpoint: 'S', checkpointSubSequenceNumber: 'N',
    ownerSwitchesSinceCheckpoint: 'N', parentShardId: 'SS', childShardIds: 'SS', pendingCheckpoint: 'S',
    pendingCheckpointSubSequenceNumber: 'N', pendingCheckpointState: 'B', startingHashKey: 'S', endingHashKey: 'S',
    checkpointOwner: 'S', throughputKBps: 'N' };
  for (const [key, it] of Object.entries(raw)) {
    for (const [name, v] of Object.entries(it)) {
      L.check(name in types, `${key}: attribute ${name} written that the Java KCL does not know`);
      L.check(Object.keys(v)[0] === types[name], `${key}: ${name} has type ${Object.keys(v)[0]}, Java's is ${types[name]}`);
    }
    for (const name of ['leaseKey', 'leaseCounter', 'checkpoint', 'checkpointSubSequenceNumber', 'ownerSwitchesSinceCheckpoint'])
      L.check(name in it, `${key}: ${name} missing`);
    L.check(!('leaseOwner' in it), `${key}: still owned by ${it.leaseOwner && it.leaseOwner.S} after a graceful stop`);
  }
  const i0 = raw[s0.ShardId], i1 = raw[s1.ShardId], i2 = raw[c2.ShardId], i3 = raw[c3.ShardId];
  L.check(i0.checkpointOwner && i0.checkpointOwner.S === 'java-host:dead-worker', `checkpointOwner: ${JSON.stringify(i0.checkpointOwner)}`);
  L.check(i0.throughputKBps && i0.throughputKBps.N === '12.5', `throughputKBps: ${JSON.stringify(i0.throughputKBps)}`);
  L.check(i3.throughputKBps && i3.throughputKBps.N === '0', `throughputKBps of ${c3.ShardId}: ${JSON.stringify(i3.throughputKBps)}`);
  L.check(Number(i0.leaseCounter.N) > 17 && i0.ownerSwitchesSinceCheckpoint.N === '0', `${s0.ShardId}: ${JSON.stringify(i0)}`);
  L.check(!i2.pendingCheckpoint && !i2.pendingCheckpointSubSequenceNumber, `${c2.ShardId}: the pending checkpoint survived a checkpoint`);
  L.check(i2.parentShardId && i2.parentShardId.SS.join() === s1.ShardId, `${c2.ShardId}: parentShardId ${JSON.stringify(i2.parentShardId)}`);
  if (i1) {   // a finished parent may be cleaned up once its children started; if kept, untouched
    L.check(i1.leaseCounter.N === '40' && i1.checkpoint.S === 'SHARD_END' &&
            [...i1.childShardIds.SS].sort().join() === [c2.ShardId, c3.ShardId].sort().join(),
    `${s1.ShardId} changed: ${JSON.stringify(i1)}`);
  }
  L.log(`resumed ${expected.length} records from Java checkpoints; items: ${Object.keys(raw).length}`);
});
