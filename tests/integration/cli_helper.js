#!/usr/bin/env node
// Independent checks for it_cli.sh, with the AWS SDK for JavaScript:
//   cli_helper.js read STREAM [--deagg]   every record of every shard from TRIM_HORIZON, one
//                                          data line each on stdout; with --deagg, KPL aggregates
//                                          are split with aws-kinesis-agg (checksums verified) and
//                                          every user record's partition key must hash into the
//                                          range of the shard it was read from.
//   cli_helper.js leases TABLE             create a lease table with Java-KCL-format items
'use strict';
process.env.NODE_NO_WARNINGS = '1';
const crypto = require('crypto');
const { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } =
  require('@aws-sdk/client-kinesis');
const { DynamoDBClient, CreateTableCommand, PutItemCommand, DescribeTableCommand } =
  require('@aws-sdk/client-dynamodb');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const { deaggregateSync } = require('aws-kinesis-agg');

const creds = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const region = process.env.AWS_REGION;

async function read(stream, deagg) {
  const k = new KinesisClient({ endpoint: process.env.LUAKCL_TEST_KINESIS_ENDPOINT, region, credentials: creds,
                                requestHandler: new NodeHttpHandler() });
  const shards = (await k.send(new ListShardsCommand({ StreamName: stream }))).Shards;
  let kinesisRecords = 0;
  const out = [];
  for (const sh of shards) {
    let it = (await k.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: sh.ShardId,
                                                         ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const lo = BigInt(sh.HashKeyRange.StartingHashKey), hi = BigInt(sh.HashKeyRange.EndingHashKey);
    for (;;) {
      const r = await k.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      if (!r.Records.length) break;
      for (const rec of r.Records) {
        kinesisRecords++;
        const data = Buffer.from(rec.Data);
        if (!deagg) { out.push(data.toString('utf8')); continue; }
        let users;
        deaggregateSync({ data: data.toString('base64'), partitionKey: rec.PartitionKey,
                          sequenceNumber: rec.SequenceNumber }, true, (err, recs) => {
          if (err) throw err;
          users = recs;
        });
        for (const u of users) {
          const h = BigInt('0x' + crypto.createHash('md5').update(u.partitionKey).digest('hex'));
          if (h < lo || h > hi) throw new Error(`user record with key ${u.partitionKey} in wrong shard ${sh.ShardId}`);
          out.push(Buffer.from(u.data, 'base64').toString('utf8'));
        }
      }
      it = r.NextShardIterator;
      if (!it) break;
    }
  }
  process.stdout.write(out.map((s) => s + '\n').join(''));
  process.stderr.write(`kinesis_records=${kinesisRecords}\n`);
}

async function leases(table) {
  const d = new DynamoDBClient({ endpoint: process.env.LUAKCL_TEST_DYNAMODB_ENDPOINT, region, credentials: creds });
  await d.send(new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }] }));
  for (;;) {
    const t = await d.send(new DescribeTableCommand({ TableName: table }));
    if (t.Table.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const item = (key, extra) => Object.assign({ leaseKey: { S: key }, leaseCounter: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' }, checkpointSubSequenceNumber: { N: '0' } }, extra);
  const items = [
    // a finished parent, two children of it (one owned, one free)
    item('shardId-000000000000', { leaseOwner: { S: 'worker-a' }, leaseCounter: { N: '42' },
      checkpoint: { S: 'SHARD_END' }, childShardIds: { SS: ['shardId-000000000002', 'shardId-000000000003'] } }),
    item('shardId-000000000002', { leaseOwner: { S: 'worker-b' }, leaseCounter: { N: '7' },
      checkpoint: { S: '49590338271490256608559692538361571095921575989136588898' },
      parentShardId: { SS: ['shardId-000000000000'] } }),
    item('shardId-000000000003', { checkpoint: { S: 'TRIM_HORIZON' }, leaseCounter: { N: '3' },
      parentShardId: { SS: ['shardId-000000000000'] } }),
    // an open parent and its child that must wait
    item('shardId-000000000001', { leaseOwner: { S: 'worker-a' }, leaseCounter: { N: '5' },
      checkpoint: { S: 'LATEST' } }),
    item('shardId-000000000004', { checkpoint: { S: 'TRIM_HORIZON' },
      parentShardId: { SS: ['shardId-000000000001', 'shardId-000000000003'] },
      checkpointOwner: { S: 'java-kcl-3-attribute' } }),
  ];
  for (const it of items) await d.send(new PutItemCommand({ TableName: table, Item: it }));
}

const [cmd, arg, flag] = process.argv.slice(2);
(cmd === 'read' ? read(arg, flag === '--deagg') : cmd === 'leases' ? leases(arg) : Promise.reject(new Error('usage')))
  .catch((e) => { console.error(`cli_helper ${cmd}: ${e.stack || e}`); process.exit(1); });
