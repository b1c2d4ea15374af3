#!/usr/bin/env node
// Independent checks for the it_lua_*.sh tests, with the AWS SDK for JavaScript:
//   lua_helper.js read STREAM              every record of every shard from TRIM_HORIZON, in shard
//                                          order, one line each: SHARD<TAB>SEQ<TAB>DATA<TAB>KEY
//   lua_helper.js put STREAM PREFIX FROM TO [CHUNK]
//                                          PutRecords of PREFIX-FROM .. PREFIX-TO (data and partition
//                                          key), CHUNK records per call (default 500); failed records
//                                          are put again; stdout: nothing; exit 1 if any is lost
//   lua_helper.js put-json STREAM FROM TO  the same with data {"n":I,"user":"uI"} and key uI
//   lua_helper.js put-lines STREAM         each line of stdin as a record, key k<line number>
//   lua_helper.js table-exists TABLE       prints yes / no (DescribeTable)
//   lua_helper.js verify EXPECTED GOT      EXPECTED: the `read` output; GOT: lines written by a
//                                          script, SHARD<TAB>SEQ<TAB>DATA[<TAB>...]. Checks that GOT
//                                          holds every record of EXPECTED exactly once, with its data,
//                                          and that per shard GOT's order is EXPECTED's order (the
//                                          sequence order). Prints a one-line summary; exit 1 with
//                                          the first problems on stderr otherwise.
'use strict';
process.env.NODE_NO_WARNINGS = '1';
const fs = require('fs');
const { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand, PutRecordsCommand } =
  require('@aws-sdk/client-kinesis');
const { DynamoDBClient, DescribeTableCommand } = require('@aws-sdk/client-dynamodb');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const creds = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const region = process.env.AWS_REGION;
const kinesis = () => new KinesisClient({ endpoint: process.env.LUAKCL_TEST_KINESIS_ENDPOINT, region,
                                          credentials: creds, requestHandler: new NodeHttpHandler() });

async function read(stream) {
  const k = kinesis();
  const shards = (await k.send(new ListShardsCommand({ StreamName: stream }))).Shards;
  const out = [];
  for (const sh of shards) {
    let it = (await k.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: sh.ShardId,
                                                         ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (;;) {
      const r = await k.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      if (!r.Records.length) break;
      for (const rec of r.Records) {
        const data = Buffer.from(rec.Data).toString('utf8');
        if (/[\t\n]/.test(data)) throw new Error(`record data with a tab or newline: ${JSON.stringify(data)}`);
        out.push(`${sh.ShardId}\t${rec.SequenceNumber}\t${data}\t${rec.PartitionKey}\n`);
      }
      it = r.NextShardIterator;
      if (!it) break;
    }
  }
  process.stdout.write(out.join(''));
}

async function putAll(stream, entries, chunk) {
  const k = kinesis();
  for (let i = 0; i < entries.length; i += chunk) {
    let pending = entries.slice(i, i + chunk);
    for (let attempt = 1; pending.length; attempt++) {
      if (attempt > 5) throw new Error(`${pending.length} records could not be put`);
      const r = await k.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
      pending = pending.filter((_, j) => r.Records[j].ErrorCode);
    }
  }
}

function putPlain(stream, prefix, from, to, chunk) {
  const entries = [];
  for (let i = from; i <= to; i++) {
    entries.push({ Data: Buffer.from(`${prefix}-${i}`), PartitionKey: `${prefix}-${i}` });
  }
  return putAll(stream, entries, chunk);
}

function putJson(stream, from, to) {
  const entries = [];
  for (let i = from; i <= to; i++) {
    entries.push({ Data: Buffer.from(JSON.stringify({ n: i, user: `u${i}` })), PartitionKey: `u${i}` });
  }
  return putAll(stream, entries, 500);
}

function putLines(stream) {
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean);
  return putAll(stream, lines.map((l, i) => ({ Data: Buffer.from(l), PartitionKey: `k${i + 1}` })), 500);
}

async function tableExists(table) {
  const d = new DynamoDBClient({ endpoint: process.env.LUAKCL_TEST_DYNAMODB_ENDPOINT, region, credentials: creds });
  try {
    await d.send(new DescribeTableCommand({ TableName: table }));
    console.log('yes');
  } catch (e) {
    if (e.name !== 'ResourceNotFoundException') throw e;
    console.log('no');
  }
}

function lines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
}

function verify(expectedFile, gotFile) {
  const expected = lines(expectedFile);
  const got = lines(gotFile);
  const problems = [];
  const want = new Map();    // shard -> [[seq, data]]
  for (const [shard, seq, data] of expected) {
    if (!want.has(shard)) want.set(shard, []);
    want.get(shard).push([seq, data]);
  }
  const have = new Map();
  for (const [shard, seq, data] of got) {
    if (!have.has(shard)) have.set(shard, []);
    have.get(shard).push([seq, data]);
  }
  for (const shard of have.keys()) if (!want.has(shard)) problems.push(`records from unknown shard ${shard}`);
  for (const [shard, recs] of want) {
    const h = have.get(shard) || [];
    const seen = new Map();
    for (const [seq] of h) seen.set(seq, (seen.get(seq) || 0) + 1);
    for (const [seq, n] of seen) if (n > 1) problems.push(`${shard} ${seq} processed ${n} times`);
    const missing = recs.filter(([seq]) => !seen.has(seq));
    if (missing.length) problems.push(`${shard}: ${missing.length} records never processed, first ${missing[0][0]}`);
    const known = new Map(recs);
    for (const [seq, data] of h) {
      if (!known.has(seq)) problems.push(`${shard} ${seq} processed but not in the stream`);
      else if (known.get(seq) !== data) problems.push(`${shard} ${seq} data ${JSON.stringify(data)}, stream has ${JSON.stringify(known.get(seq))}`);
    }
    for (let i = 1; i < h.length; i++) {
      if (BigInt(h[i][0]) <= BigInt(h[i - 1][0])) {
        problems.push(`${shard}: out of order at line ${i + 1} of the shard: ${h[i - 1][0]} then ${h[i][0]}`);
        break;
      }
    }
  }
  if (problems.length) {
    console.error(`verify: ${problems.length} problems:\n  ` + problems.slice(0, 20).join('\n  '));
    process.exit(1);
  }
  console.log(`verify: ${got.length} records, ${want.size} shards, each exactly once and in sequence order`);
}

const [cmd, ...args] = process.argv.slice(2);
const cmds = {
  read: () => read(args[0]),
  put: () => putPlain(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4] || 500)),
  'put-json': () => putJson(args[0], Number(args[1]), Number(args[2])),
  'put-lines': () => putLines(args[0]),
  'table-exists': () => tableExists(args[0]),
  verify: async () => verify(args[0], args[1]),
};
if (!cmds[cmd]) {
  console.error(`lua_helper: unknown command ${cmd}`);
  process.exit(2);
}
cmds[cmd]().catch((e) => { console.error(`lua_helper ${cmd}: ${e.stack || e}`); process.exit(1); });
