// Scenario 4: a lease stolen mid-batch. While the worker's processor holds a
// batch (a slow one), the test rewrites leaseOwner/leaseCounter in the lease
// table directly, as another worker taking the lease would, and keeps
// "renewing" it with conditional writes. The old owner's processor is shut
// down with ZOMBIE, its checkpoint at the end of the batch fails, and no write
// of the old owner lands (each of the thief's conditional renewals would fail
// if one had). When the thief releases the lease, the worker takes it back and
// resumes from the checkpoint the thief left: nothing is lost.
'use strict';
const L = require('./lib.js');

const FAILOVER = 3000;

L.run('core.stolen', async () => {
  const stream = L.uniq('core-st'), app = L.uniq('core-st-app');
  await L.createStream(stream, 1);
  const records = [];
  for (let i = 0; i < 600; i++) records.push({ data: `s-${i}`, pk: `pk-${i}` });
  await L.putRecords(stream, records);
  const a = L.startDriver({ stream, app, id: 'wA',
    args: ['--max-records', '200', '--slow-ms', '2500', '--failover-ms', String(FAILOVER)] });
  const shard = records[0].shard;

  // wait for the second batch to be in the processor's hands (the first was checkpointed)
  const batch = await L.waitFor('a second batch in flight', 30000, () => {
    const e = a.events();
    return e.some((x) => x.ev === 'cp_ok') && e.filter((x) => x.ev === 'batch')[1];
  }, 10);
  const before = (await L.leases(app))[shard];
  L.log(`batch ${batch.b} in flight; lease ${JSON.stringify(before)}`);
  L.check(before.leaseOwner === 'wA', `wA owns the lease before the steal (${before.leaseOwner})`);

  // steal it: owner and counter rewritten, as a take by another worker does
  let counter = before.leaseCounter + 100;
  const key = { leaseKey: { S: shard } };
  await L.ddb.send(new L.D.UpdateItemCommand({ TableName: app, Key: key,
    UpdateExpression: 'SET leaseOwner = :o, leaseCounter = :c',
    ExpressionAttributeValues: { ':o': { S: 'thief' }, ':c': { N: String(counter) } } }));
  const stolenAt = L.monoMs();
  // the thief renews (conditionally) until the old owner has given up
  const renew = async () => {
    await L.ddb.send(new L.D.UpdateItemCommand({ TableName: app, Key: key,
      UpdateExpression: 'SET leaseCounter = leaseCounter + :one',
      ConditionExpression: 'leaseCounter = :c AND leaseOwner = :o',
      ExpressionAttributeValues: { ':one': { N: '1' }, ':c': { N: String(counter) }, ':o': { S: 'thief' } } }));
    counter++;
  };
  let renewFailed = null;
  const zombie = await L.waitFor('shutdown ZOMBIE', 15000, async () => {
    try { await renew(); } catch (e) { renewFailed = renewFailed || e; }
    return a.events().find((x) => x.ev === 'shutdown');
  }, 400);
  // keep the lease a while longer: the old owner must not write it any more
  const until = Date.now() + FAILOVER + 1000;
  while (Date.now() < until) {
    try { await renew(); } catch (e) { renewFailed = renewFailed || e; }
    await L.sleep(400);
  }
  L.check(!renewFailed, () => `a write of the old owner landed (the thief's conditional renewal failed: ${renewFailed.message})`);
  const after = (await L.leases(app))[shard];
  L.check(after.leaseOwner === 'thief' && after.leaseCounter === counter && after.checkpoint === before.checkpoint,
    `the row changed under the thief: ${JSON.stringify(after)} (checkpoint was ${before.checkpoint})`);

  const e = a.events();
  L.check(zombie.reason === 'ZOMBIE', `shutdown reason ${zombie.reason}`);
  L.log(`ZOMBIE shutdown ${zombie.t - stolenAt} ms after the steal`);
  const cp = e.find((x) => (x.ev === 'cp_ok' || x.ev === 'cp_fail') && x.b === batch.b);
  L.check(cp && cp.ev === 'cp_fail', `the stolen batch's checkpoint: ${JSON.stringify(cp)}`);
  L.check(cp && cp.t <= zombie.t, 'the batch in flight finished before the ZOMBIE shutdown');
  L.check(e.filter((x) => x.ev === 'batch' && x.t > stolenAt).length === 0 ||
          e.filter((x) => x.ev === 'batch' && x.t > stolenAt).every((x) => x.t > zombie.t),
  'a batch was delivered to the zombie processor after the steal');

  // the thief lets go: wA takes it back and resumes from the thief's checkpoint
  await L.ddb.send(new L.D.UpdateItemCommand({ TableName: app, Key: key,
    UpdateExpression: 'SET leaseCounter = leaseCounter + :one REMOVE leaseOwner',
    ExpressionAttributeValues: { ':one': { N: '1' } } }));
  const resumed = await L.waitFor('wA resumes', 15000, () => a.events().filter((x) => x.ev === 'init')[1], 50);
  L.check(resumed.cp === before.checkpoint, `wA resumed at ${resumed.cp}, the checkpoint was ${before.checkpoint}`);

  // Again, but the thief gives the lease back at once, while the zombie
  // processor still holds its batch: the worker takes the lease again before
  // the old consumer has finished, and must still start a new one for it.
  const batch2 = await L.waitFor('a batch after resuming', 15000, () =>
    a.events().find((x) => x.ev === 'batch' && x.t >= resumed.t), 10);
  const row2 = (await L.leases(app))[shard];
  await L.ddb.send(new L.D.UpdateItemCommand({ TableName: app, Key: key,
    UpdateExpression: 'SET leaseOwner = :o, leaseCounter = :c',
    ExpressionAttributeValues: { ':o': { S: 'thief2' }, ':c': { N: String(row2.leaseCounter + 100) } } }));
  await L.waitFor('wA notices the second steal', 10000, () => (a.stderr().match(/lease lost/g) || []).length >= 2, 20);
  await L.ddb.send(new L.D.UpdateItemCommand({ TableName: app, Key: key,
    UpdateExpression: 'SET leaseCounter = leaseCounter + :one REMOVE leaseOwner',
    ExpressionAttributeValues: { ':one': { N: '1' } } }));
  const zombieBusy = !a.events().some((x) => (x.ev === 'cp_ok' || x.ev === 'cp_fail') && x.b === batch2.b);
  L.log(`second steal: lease given back while the zombie's batch was ${zombieBusy ? 'still in flight' : 'already done'}`);
  try {
    await L.waitFor('every record processed', 40000, () => L.tally(records, a.events()).missing.length === 0, 200);
  } catch (err) { /* reported below */ }
  const t = L.tally(records, a.events());
  L.check(t.missing.length === 0, `records never processed after the lease came back: ${L.sample(t.missing)}`);
  const inits = a.events().filter((x) => x.ev === 'init');
  L.check(inits.length === 3, `wA initialized ${inits.length} times, wanted 3`);
  const redelivered = new Set(L.recs(a.events()).filter((x) => x.b === batch.b || x.b === batch2.b).map((x) => x.data));
  L.check(t.dups.every((d) => redelivered.has(d)), `duplicates beyond the stolen batches: ${L.sample(t.dups.filter((d) => !redelivered.has(d)))}`);
  a.kill('SIGTERM');
  const ea = await a.wait(15000);
  L.check(ea.code === 0, `wA exit ${JSON.stringify(ea)}`);
});
