// Shared helpers of the KCL core scenarios (it_core_*.sh run one each):
// AWS SDK clients for the harness's kinesalite and dynalite, streams and
// records, core_driver workers (spawn, signal, read their JSON-line events),
// the lease table, bounded waits on observable conditions, and checks that
// count and print like the C tests' testlib.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const K = require('@aws-sdk/client-kinesis');
const D = require('@aws-sdk/client-dynamodb');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`missing ${name}: run under tests/harness/with-servers.js`); process.exit(2); }
  return v;
};

const region = process.env.AWS_REGION || 'us-east-1';
const kinesis = new K.KinesisClient({ endpoint: env('LUAKCL_TEST_KINESIS_ENDPOINT'), region,
  requestHandler: new NodeHttpHandler() });
const ddb = new D.DynamoDBClient({ endpoint: env('LUAKCL_TEST_DYNAMODB_ENDPOINT'), region,
  requestHandler: new NodeHttpHandler() });

const DRIVER = path.join(env('LUAKCL_BUILD_DIR'), 'core_driver');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'luakcl-core-'));
const t0 = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const monoMs = () => Number(process.hrtime.bigint() / 1000000n);   // CLOCK_MONOTONIC, as the driver's t
const log = (...a) => console.error(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

// ---- checks -------------------------------------------------------------------------
let passed = 0, failed = 0;
function check(cond, msg) {
  if (cond) passed++;
  else { failed++; console.error(`FAIL: ${typeof msg === 'function' ? msg() : msg}`); }
  return !!cond;
}

const children = new Set();
function cleanup() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch (_) { /* gone */ } }
  if (!failed && !process.env.LUAKCL_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  else console.error(`driver files kept in ${tmp}`);
}

// Run a scenario: prints the summary, exits non-zero on any failure or throw.
function run(name, fn) {
  const guard = setTimeout(() => { console.error(`${name}: overall timeout`); failed++; finish(); }, 240000);
  const finish = () => {
    clearTimeout(guard);
    cleanup();
    console.log(`${name}: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  };
  fn().catch((e) => { failed++; console.error(`FAIL: ${name} threw: ${e.stack || e}`); }).then(finish);
}

// Poll `cond` (sync or async) every `every` ms until it is truthy; throws after timeoutMs.
async function waitFor(what, timeoutMs, cond, every = 100) {
  const start = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(every);
  }
}

// ---- Kinesis --------------------------------------------------------------------------
const uniq = (p) => `${p}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;

async function waitActive(stream) {
  await waitFor(`${stream} ACTIVE`, 15000, async () =>
    (await kinesis.send(new K.DescribeStreamSummaryCommand({ StreamName: stream })))
      .StreamDescriptionSummary.StreamStatus === 'ACTIVE', 50);
}

async function createStream(stream, shards) {
  await kinesis.send(new K.CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  await waitActive(stream);
}

// records: [{data, pk}] -> adds seq and shard to each, in place.
async function putRecords(stream, records) {
  for (let i = 0; i < records.length; i += 500) {
    let chunk = records.slice(i, i + 500);
    for (let attempt = 0; chunk.length; attempt++) {
      if (attempt > 10) throw new Error('PutRecords keeps failing');
      const res = await kinesis.send(new K.PutRecordsCommand({ StreamName: stream,
        Records: chunk.map((r) => ({ Data: Buffer.from(r.data), PartitionKey: r.pk })) }));
      const again = [];
      res.Records.forEach((x, k) => {
        if (x.ErrorCode) again.push(chunk[k]);
        else { chunk[k].seq = x.SequenceNumber; chunk[k].shard = x.ShardId; }
      });
      chunk = again;
    }
  }
  return records;
}

async function listShards(stream) {
  return (await kinesis.send(new K.ListShardsCommand({ StreamName: stream }))).Shards;
}

// ---- the lease table -------------------------------------------------------------------
const fromAttr = (a) => (a.S !== undefined ? a.S : a.N !== undefined ? Number(a.N)
  : a.SS !== undefined ? a.SS : a.B !== undefined ? a.B : a.BOOL !== undefined ? a.BOOL : a);

async function scanRaw(table) {
  const items = [];
  let start;
  do {
    const r = await ddb.send(new D.ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...r.Items);
    start = r.LastEvaluatedKey;
  } while (start);
  return items;
}

async function leases(table) {
  try {
    const items = await scanRaw(table);
    const out = {};
    for (const it of items) {
      const l = {};
      for (const [k, v] of Object.entries(it)) l[k] = fromAttr(v);
      out[l.leaseKey] = l;
    }
    return out;
  } catch (e) {
    if (e.name === 'ResourceNotFoundException') return {};
    throw e;
  }
}

// {owner: count} over unfinished leases (free ones under '').
function ownerCounts(ls) {
  const c = {};
  for (const l of Object.values(ls)) {
    if (l.checkpoint === 'SHARD_END') continue;
    const o = l.leaseOwner || '';
    c[o] = (c[o] || 0) + 1;
  }
  return c;
}

// Sample the lease owners every `every` ms until stop(): [{t (ms since start), counts}].
function sampleOwners(table, every = 250) {
  const samples = [];
  let on = true;
  const start = Date.now();
  const loop = (async () => {
    while (on) {
      try { samples.push({ t: Date.now() - start, counts: ownerCounts(await leases(table)) }); } catch (_) { /* next */ }
      await sleep(every);
    }
  })();
  return { samples, stop: async () => { on = false; await loop; return samples; } };
}

// A compact history: only the samples where the counts changed.
function ownerHistory(samples) {
  const out = [];
  let prev = '';
  for (const s of samples) {
    const k = JSON.stringify(s.counts);
    if (k !== prev) out.push(`${(s.t / 1000).toFixed(1)}s ${k}`);
    prev = k;
  }
  return out.join(' | ');
}

// ---- drivers --------------------------------------------------------------------------------
// opts: {stream, app, id, args: [...extra argv], kinesis}
function startDriver(opts) {
  const out = path.join(tmp, `${opts.id}.jsonl`);
  const errf = path.join(tmp, `${opts.id}.log`);
  const args = ['--out', out, '--stream', opts.stream, '--app', opts.app, '--worker-id', opts.id,
    ...(opts.kinesis ? ['--kinesis', opts.kinesis] : []), ...(opts.args || [])];
  const errfd = fs.openSync(errf, 'a');
  const p = spawn(DRIVER, args, { stdio: ['ignore', errfd, errfd] });
  fs.closeSync(errfd);
  children.add(p);
  const d = { id: opts.id, out, errf, proc: p, exited: null, startedAt: monoMs() };
  d.exitP = new Promise((resolve) => p.on('exit', (code, sig) => {
    children.delete(p);
    d.exited = { code, sig, t: monoMs() };
    resolve(d.exited);
  }));
  d.events = () => readEvents(out);
  d.stderr = () => (fs.existsSync(errf) ? fs.readFileSync(errf, 'utf8') : '');
  d.kill = (sig) => { try { p.kill(sig); } catch (_) { /* gone */ } };
  d.wait = async (ms) => {
    const t = setTimeout(() => d.kill('SIGKILL'), ms);
    const r = await d.exitP;
    clearTimeout(t);
    return r;
  };
  return d;
}

function readEvents(file) {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const evs = [];
  for (const line of lines) {
    if (!line) continue;
    try { evs.push(JSON.parse(line)); } catch (_) { /* a line cut by SIGKILL */ }
  }
  return evs;
}

// The driver's last reported count of shards with a running consumer.
function heldNow(d) {
  const h = d.events().filter((e) => e.ev === 'held');
  return h.length ? h[h.length - 1].n : -1;
}

// Wait until the lease table and the drivers' own views agree on `want`
// ({id: count}) and stayed so for `stableMs` (longer than a renewal interval:
// a worker learns of a steal only at its next renewal).
async function waitSplit(table, drivers, want, timeoutMs = 30000, stableMs = 1500) {
  let since = 0;
  await waitFor(`lease split ${JSON.stringify(want)}`, timeoutMs, async () => {
    const c = ownerCounts(await leases(table));
    const ok = drivers.every((d) => c[d.id] === want[d.id] && heldNow(d) === want[d.id]);
    if (!ok) since = 0;
    else if (!since) since = Date.now();
    return ok && Date.now() - since >= stableMs;
  });
}

const recs = (evs) => evs.filter((e) => e.ev === 'rec');

// Per shard, the sequence numbers a set of rec events holds must be strictly
// increasing within each driver (batches of one driver, in order). Returns
// the number of violations, printing the first few.
function orderViolations(evs) {
  const last = {};
  let bad = 0;
  const failedBatches = new Set(evs.filter((e) => e.ev === 'batch_fail').map((e) => `${e.w}/${e.b}`));
  for (const e of recs(evs)) {
    if (failedBatches.has(`${e.w}/${e.b}`)) continue;      // a redelivery repeats these
    const k = `${e.w}/${e.shard}`;
    const prev = last[k];
    if (prev && cmpSeq(prev, e.seq) >= 0) {
      if (bad++ < 5) console.error(`order: ${k}: ${e.seq} (${e.data}) after ${prev}`);
    }
    last[k] = e.seq;
  }
  return bad;
}

function cmpSeq(a, b) {
  const x = BigInt(a), y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// Count deliveries of each record data; returns {missing, dups, extra} arrays.
function tally(expected, evs) {
  const count = new Map(expected.map((r) => [r.data, 0]));
  const extra = [];
  for (const e of recs(evs)) {
    if (count.has(e.data)) count.set(e.data, count.get(e.data) + 1);
    else extra.push(e.data);
  }
  const missing = [], dups = [];
  for (const [d, n] of count) { if (n === 0) missing.push(d); if (n > 1) dups.push(d); }
  return { count, missing, dups, extra };
}

const sample = (a) => `${a.length}${a.length ? ` (e.g. ${a.slice(0, 5).join(', ')})` : ''}`;

module.exports = {
  K, D, kinesis, ddb, env, tmp, sleep, monoMs, log, check, run, waitFor, uniq,
  createStream, waitActive, putRecords, listShards, scanRaw, leases, ownerCounts, sampleOwners, ownerHistory,
  startDriver, readEvents, recs, heldNow, waitSplit, orderViolations, cmpSeq, tally, sample,
  counts: () => ({ passed, failed }),
};
