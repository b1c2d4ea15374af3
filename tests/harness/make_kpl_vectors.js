#!/usr/bin/env node
// Golden KPL aggregation vectors, produced by an independent implementation
// (the npm package aws-kinesis-agg, awslabs/kinesis-aggregation), for
// tests/unit/test_deagg.c. Deterministic: run it again and the files are the
// same. Usage (from anywhere):
//     node tests/harness/make_kpl_vectors.js [OUT_DIR]
// OUT_DIR defaults to tests/unit/kpl_vectors. For each vector NAME it writes
//     NAME.bin   the aggregated record's data (magic | protobuf | MD5)
//     NAME.json  {"description", "records": [{"partition_key", "explicit_hash_key"
//                 (string or null), "data" (base64)}]} in sub-sequence order
// The expected records are the INPUT we gave the aggregator, never its
// de-aggregator's output (that reports wrong explicit hash keys for records
// that have none). Partition keys avoid characters JSON would escape, so a
// C test can compare the raw JSON string bytes.
'use strict';
const fs = require('fs');
const path = require('path');
const agg = require('aws-kinesis-agg');

const outDir = process.argv[2] || path.join(__dirname, '..', 'unit', 'kpl_vectors');

// xorshift32: reproducible pseudo-random bytes.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}
function randomBytes(next, n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}

const MAX = '340282366920938463463374607431768211455';   // 2^128-1
const HALF = '170141183460469231731687303715884105728';  // 2^127

const vectors = {
  one: {
    description: '1 record',
    records: [{ partitionKey: 'pk-1', data: Buffer.from('hello, kinesis') }],
  },
  three_keys: {
    description: '3 records with distinct partition keys (one multi-byte UTF-8)',
    records: [
      { partitionKey: 'alpha', data: Buffer.from('{"n":1}') },
      { partitionKey: 'b\u00e9ta-\u043a\u043b\u044e\u0447', data: Buffer.from('{"n":2}') },
      { partitionKey: 'gamma', data: Buffer.from('{"n":3}') },
    ],
  },
  repeated_pk_500: {
    description: '500 records over 37 repeated partition keys',
    records: (() => {
      const next = rng(500);
      const recs = [];
      for (let i = 0; i < 500; i++) {
        const len = 1 + (next() % 200);
        const body = 'r' + i + ':' + 'x'.repeat(len);
        recs.push({ partitionKey: 'user-' + (i * 7 % 37), data: Buffer.from(body) });
      }
      return recs;
    })(),
  },
  explicit_hash_keys: {
    description: 'records with and without explicit hash keys, some repeated, at 0, 2^127 and 2^128-1',
    records: [
      { partitionKey: 'a', explicitHashKey: '0', data: Buffer.from('ehk zero') },
      { partitionKey: 'b', data: Buffer.from('no ehk') },
      { partitionKey: 'c', explicitHashKey: MAX, data: Buffer.from('ehk max') },
      { partitionKey: 'a', explicitHashKey: HALF, data: Buffer.from('ehk half') },
      { partitionKey: 'd', data: Buffer.from('no ehk again') },
      { partitionKey: 'e', explicitHashKey: MAX, data: Buffer.from('ehk max repeated') },
      { partitionKey: 'b', explicitHashKey: '12345678901234567890', data: Buffer.from('ehk small') },
    ],
  },
  binary_data: {
    description: 'binary data with NUL bytes: all 256 byte values, leading and trailing NULs',
    records: [
      { partitionKey: 'bin-0', data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
      { partitionKey: 'bin-1', data: Buffer.from([0, 0, 0, 1, 0, 0]) },
      { partitionKey: 'bin-2', data: randomBytes(rng(2), 1000) },
    ],
  },
  empty_data: {
    description: 'a record with empty data between two non-empty ones',
    records: [
      { partitionKey: 'e-1', data: Buffer.from('before') },
      { partitionKey: 'e-2', data: Buffer.alloc(0) },
      { partitionKey: 'e-3', data: Buffer.from('after') },
    ],
  },
  large_900k: {
    // Text, so that git's compression keeps the committed files small.
    description: '~900 KB aggregate: 90 records of 10,000 bytes of text',
    records: (() => {
      const recs = [];
      for (let i = 0; i < 90; i++) {
        let text = '';
        for (let line = 0; text.length < 10000; line++) text += `record ${i} line ${line}: the quick brown fox\n`;
        recs.push({ partitionKey: 'big-' + (i % 5), data: Buffer.from(text.slice(0, 10000)) });
      }
      return recs;
    })(),
  },
};

function aggregateOne(records) {
  return new Promise((resolve, reject) => {
    const out = [];
    // aggregate() mutates nothing we keep, but give it copies anyway.
    const input = records.map((r) => Object.assign({}, r));
    agg.aggregate(input, (encoded, cb) => { out.push(encoded); cb(); },
      () => {
        if (out.length !== 1) reject(new Error('expected 1 aggregate, got ' + out.length));
        else resolve(out[0]);
      },
      (err) => reject(err));
  });
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, v] of Object.entries(vectors)) {
    const enc = await aggregateOne(v.records);
    const data = Buffer.isBuffer(enc.data) ? enc.data : Buffer.from(enc.data, 'base64');
    const expected = {
      description: v.description,
      records: v.records.map((r) => ({
        partition_key: r.partitionKey,
        explicit_hash_key: r.explicitHashKey === undefined ? null : r.explicitHashKey,
        data: r.data.toString('base64'),
      })),
    };
    fs.writeFileSync(path.join(outDir, name + '.bin'), data);
    fs.writeFileSync(path.join(outDir, name + '.json'), JSON.stringify(expected, null, 1) + '\n');
    console.log(`${name}: ${v.records.length} records, ${data.length} bytes`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
