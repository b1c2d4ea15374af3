// Scenario 8: the error policies (on_error) for a batch the processor fails.
//   retry: the batch fails twice, then succeeds: the same batch is redelivered,
//          nothing after it comes first, nothing is skipped or checkpointed past it.
//   skip:  the failed batch is logged and skipped; processing goes on after it.
//   stop:  the shard's processor is shut down and its lease released; another
//          worker takes the shard over from the last checkpoint (the failed
//          batch included).
'use strict';
const L = require('./lib.js');

const N = 300;
const batchesOf = (evs) => evs.filter((e) => e.ev === 'batch');
const recsOfBatch = (evs, b) => L.recs(evs).filter((e) => e.b === b).map((e) => e.data);

async function stream1(prefix) {
  const stream = L.uniq(`core-err-${prefix}`);
  await L.createStream(stream, 1);
  const records = [];
  for (let i = 0; i < N; i++) records.push({ data: `${prefix}-${i}`, pk: `pk-${i}` });
  await L.putRecords(stream, records);
  return { stream, app: `${stream}-app`, records };
}

async function retry() {
  const { stream, app, records } = await stream1('rt');
  const a = L.startDriver({ stream, app, id: 'rtA', args: ['--max-records', '100', '--on-error', 'retry', '--fail', 'rt-150:2'] });
  await L.waitFor('retry: every record', 30000, () => L.tally(records, a.events()).missing.length === 0, 100);
  a.kill('SIGTERM');
  await a.wait(15000);
  const e = a.events();
  const fails = e.filter((x) => x.ev === 'batch_fail');
  L.check(fails.length === 2, `retry: ${fails.length} failed deliveries, wanted 2`);
  const holding = batchesOf(e).filter((x) => recsOfBatch(e, x.b).includes('rt-150'));
  L.check(holding.length === 3, `retry: the batch was delivered ${holding.length} times, wanted 3`);
  const same = holding.every((x) => x.first === holding[0].first && x.last === holding[0].last && x.n === holding[0].n);
  L.check(same, `retry: redeliveries differ: ${JSON.stringify(holding.map((x) => [x.first, x.last, x.n]))}`);
  // nothing delivered or checkpointed between the first failure and the success
  const i0 = e.indexOf(holding[0]), i2 = e.indexOf(holding[2]);
  const between = e.slice(i0, i2).filter((x) => x.ev === 'cp_ok' || (x.ev === 'batch' && !holding.includes(x)));
  L.check(between.length === 0, `retry: other work between the failed deliveries: ${JSON.stringify(between)}`);
  const okBatch = e.find((x) => x.ev === 'cp_ok' && x.b === holding[2].b);
  L.check(!!okBatch, 'retry: the third delivery was checkpointed');
  // exactly once counting the successful deliveries only
  const failed = new Set(fails.map((x) => x.b));
  const good = L.recs(e).filter((x) => !failed.has(x.b)).map((x) => x.data);
  L.check(good.length === N && new Set(good).size === N, `retry: ${good.length} successful deliveries of ${new Set(good).size} records`);
  const last = records[records.length - 1].seq;
  L.check((await L.leases(app))[records[0].shard].checkpoint === last, 'retry: checkpoint at the last record');
  L.check(/redelivering the same batch/.test(a.stderr()), 'retry: the failure was logged');
  L.log(`retry: batch ${holding[0].first}..${holding[0].last} delivered 3 times, then checkpointed`);
}

async function skip() {
  const { stream, app, records } = await stream1('sk');
  const a = L.startDriver({ stream, app, id: 'skA', args: ['--max-records', '100', '--on-error', 'skip', '--fail', 'sk-150:1'] });
  await L.waitFor('skip: the last record', 30000, () => L.recs(a.events()).some((x) => x.data === `sk-${N - 1}`), 100);
  await L.waitFor('skip: the last checkpoint', 10000, async () =>
    (await L.leases(app))[records[0].shard].checkpoint === records[N - 1].seq);
  a.kill('SIGTERM');
  await a.wait(15000);
  const e = a.events();
  const fails = e.filter((x) => x.ev === 'batch_fail');
  L.check(fails.length === 1, `skip: ${fails.length} failures`);
  const skipped = fails.length ? recsOfBatch(e, fails[0].b) : [];
  L.check(skipped.includes('sk-150'), 'skip: the failed batch held sk-150');
  const t = L.tally(records, e);
  L.check(t.missing.length === 0 && t.dups.length === 0, `skip: missing ${L.sample(t.missing)}, dups ${L.sample(t.dups)}`);
  // the batch after the skipped one starts right after it
  const bs = batchesOf(e);
  const k = bs.findIndex((x) => fails.length && x.b === fails[0].b);
  const next = bs[k + 1];
  const after = records.findIndex((r) => r.seq === bs[k].last) + 1;
  L.check(next && next.first === records[after].seq, `skip: the next batch starts at ${next && next.first}, not ${records[after] && records[after].seq}`);
  L.check(/skipping them \(on_error=skip\)/.test(a.stderr()), 'skip: the skip was logged');
  L.log(`skip: ${skipped.length} records skipped, processing went on`);
}

async function stop() {
  const { stream, app, records } = await stream1('sp');
  const a = L.startDriver({ stream, app, id: 'spA',
    args: ['--max-records', '100', '--on-error', 'stop', '--fail', 'sp-150:1', '--slow-ms', '300'] });
  await L.waitFor('stop: wA initialized', 15000, () => a.events().some((x) => x.ev === 'init'));
  const b = L.startDriver({ stream, app, id: 'spB', args: ['--max-records', '100', '--on-error', 'stop'] });
  const evs = () => [...a.events(), ...b.events()];
  await L.waitFor('stop: every record', 40000, () => L.tally(records, evs()).missing.length === 0, 100);
  const ae = a.events(), be = b.events();
  const fail = ae.find((x) => x.ev === 'batch_fail');
  const shut = ae.find((x) => x.ev === 'shutdown');
  L.check(fail && shut && shut.t >= fail.t, 'stop: wA shut its processor down after the failure');
  L.check(L.recs(ae).filter((x) => x.t > fail.t).length === 0, 'stop: wA delivered nothing after the failed batch');
  L.check(!ae.some((x) => x.ev === 'cp_ok' && x.t > fail.t), 'stop: wA checkpointed after the failed batch');
  L.check(/releasing its lease \(on_error=stop\)/.test(a.stderr()), 'stop: logged');
  L.check(/lease released/.test(a.stderr()), 'stop: wA released the lease');
  const failedBatch = batchesOf(ae).find((x) => x.b === fail.b);
  const bFirst = batchesOf(be)[0];
  L.check(bFirst && bFirst.first === failedBatch.first, `stop: wB began at ${bFirst && bFirst.first}, the failed batch at ${failedBatch.first}`);
  L.check(b.events().some((x) => x.ev === 'init'), 'stop: wB took the shard over');
  const t = L.tally(records, evs());
  const failedRecs = new Set(recsOfBatch(ae, fail.b));
  L.check(t.dups.every((d) => failedRecs.has(d)), `stop: duplicates beyond the failed batch: ${L.sample(t.dups.filter((d) => !failedRecs.has(d)))}`);
  const ls = (await L.leases(app))[records[0].shard];
  L.check(ls.leaseOwner === 'spB', `stop: the lease is owned by ${ls.leaseOwner}`);
  L.log(`stop: wA shut down (${shut.reason}) after the failure; wB took over ${bFirst.t - fail.t} ms later`);
  a.kill('SIGTERM');
  b.kill('SIGTERM');
  await Promise.all([a.wait(15000), b.wait(15000)]);
}

L.run('core.errors', async () => {
  await Promise.all([retry(), skip(), stop()]);
});
