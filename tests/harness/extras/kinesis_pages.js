// HAND-MADE FAKE, not a real AWS server: a few Kinesis JSON 1.1 answers that
// kinesalite cannot give — ListShards in pages (NextToken) and a GetRecords
// at a closed shard's end with ChildShards — for tests/integration/
// it_kinesis_paging.c. Like the real API it rejects a ListShards that names
// both StreamName and NextToken, or neither.
//
//   LUAKCL_TEST_KINESIS_PAGES = http://127.0.0.1:P
//
// ListShards on stream "paged-<N>" returns N shards, 2 per page. Any other
// stream: ResourceNotFoundException. GetRecords with iterator "END" answers
// no records, no NextShardIterator and two ChildShards; any other iterator:
// ExpiredIteratorException. GET /__pages/stats -> {list_calls, bad_requests}.
'use strict';
const http = require('http');

const PAGE = 2;
const MAXKEY = (1n << 128n) - 1n;

function shard(i, n) {
  const width = (MAXKEY + 1n) / BigInt(n);
  const start = width * BigInt(i);
  const end = i === n - 1 ? MAXKEY : start + width - 1n;
  const s = {
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
    SequenceNumberRange: { StartingSequenceNumber: `4959${String(i).padStart(52, '0')}` },
  };
  if (i > 0) s.ParentShardId = `shardId-${String(i - 1).padStart(12, '0')}`;
  if (i % 2 === 1) s.SequenceNumberRange.EndingSequenceNumber = `4960${String(i).padStart(52, '0')}`;
  return s;
}

async function start(env) {
  const stats = { list_calls: 0, bad_requests: 0 };
  const send = (res, status, obj) => {
    const s = JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(s) });
    res.end(s);
  };
  const fail = (res, status, type, message) => {
    if (type === 'InvalidArgumentException' || type === 'SerializationException') stats.bad_requests++;
    send(res, status, { __type: type, message });
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/__pages/stats') return send(res, 200, stats);
      let body;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) {
        return fail(res, 400, 'SerializationException', 'body is not JSON');
      }
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1' || !req.headers.authorization) {
        return fail(res, 400, 'InvalidArgumentException', 'wrong content type or unsigned');
      }
      const target = req.headers['x-amz-target'] || '';
      if (target === 'Kinesis_20131202.ListShards') {
        stats.list_calls++;
        if (body.StreamName && body.NextToken) {
          return fail(res, 400, 'InvalidArgumentException', 'NextToken and StreamName cannot be provided together.');
        }
        let name, from;
        if (body.NextToken) {
          const m = /^tok:(.+):(\d+)$/.exec(body.NextToken);
          if (!m) return fail(res, 400, 'InvalidArgumentException', 'bad NextToken');
          name = m[1]; from = Number(m[2]);
        } else if (body.StreamName) {
          name = body.StreamName; from = 0;
        } else {
          return fail(res, 400, 'InvalidArgumentException', 'Either NextToken or StreamName should be provided.');
        }
        const m = /^paged-(\d+)$/.exec(name);
        if (!m) return fail(res, 400, 'ResourceNotFoundException', `Stream ${name} not found.`);
        const n = Number(m[1]);
        const shards = [];
        for (let i = from; i < Math.min(n, from + PAGE); i++) shards.push(shard(i, n));
        const out = { Shards: shards };
        if (from + PAGE < n) out.NextToken = `tok:${name}:${from + PAGE}`;
        return send(res, 200, out);
      }
      if (target === 'Kinesis_20131202.GetRecords') {
        if (body.ShardIterator !== 'END') return fail(res, 400, 'ExpiredIteratorException', 'Iterator expired.');
        const half = ((MAXKEY + 1n) / 2n);
        return send(res, 200, {
          Records: [], MillisBehindLatest: 0,
          ChildShards: [
            { ShardId: 'shardId-000000000001', ParentShards: ['shardId-000000000000'],
              HashKeyRange: { StartingHashKey: '0', EndingHashKey: (half - 1n).toString() } },
            { ShardId: 'shardId-000000000002', ParentShards: ['shardId-000000000000'],
              HashKeyRange: { StartingHashKey: half.toString(), EndingHashKey: MAXKEY.toString() } },
          ],
        });
      }
      return fail(res, 400, 'UnknownOperationException', `no ${target} here`);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    env: { LUAKCL_TEST_KINESIS_PAGES: `http://127.0.0.1:${server.address().port}` },
    close: () => server.close(),
  };
}

module.exports = { start };
