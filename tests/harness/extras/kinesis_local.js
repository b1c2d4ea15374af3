// kinesis-local (a JS build of kinesis-mock, from npm) for the Kinesis
// behaviour kinesalite cannot give: ListShards paging, ChildShards at a
// closed shard's end, a real MillisBehindLatest, TLS.
//
//   LUAKCL_TEST_KINESIS_LOCAL_ENDPOINT     = http://127.0.0.1:P    (HTTP/1.1)
//   LUAKCL_TEST_KINESIS_LOCAL_TLS_ENDPOINT = https://127.0.0.1:T   (self-signed: insecure_tls)
//
// kinesis-local binds 0.0.0.0 and has no setting against it, so this module
// refuses to start unless the process runs in a private network namespace
// whose only interface is loopback (a test asks for one with the `netns`
// token of its harness line; tests/tests.cmake wraps it in `unshare -n`).
//
// It runs in a child node process that loads main.js and exits as soon as its
// stdin (a pipe from this harness) closes, so it dies with the harness even
// when the harness is killed. Startup takes ~1.3 s; readiness is a TCP
// connect to both ports, bounded.
'use strict';
const { spawn } = require('child_process');
const net = require('net');
const os = require('os');
const path = require('path');

const DIR = path.join(__dirname, '..', 'node_modules', 'kinesis-local');
const START_TIMEOUT_MS = 20000;

function onlyLoopback() {
  const ifs = os.networkInterfaces();
  return Object.values(ifs).every((addrs) => addrs.every((a) => a.internal));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(500, () => done(false));
  });
}

async function start(env) {
  if (!onlyLoopback()) {
    throw new Error('kinesis-local binds 0.0.0.0: run it only inside a private network namespace ' +
                    '(put `netns` in the test\'s harness line)');
  }
  const plain = await freePort();
  let tls = await freePort();
  while (tls === plain) tls = await freePort();
  const childEnv = {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(plain),
    KINESIS_MOCK_TLS_PORT: String(tls),
    KINESIS_MOCK_CERT_PATH: path.join(DIR, 'server.json'),
    CREATE_STREAM_DURATION: '50ms',
    DELETE_STREAM_DURATION: '50ms',
    SPLIT_SHARD_DURATION: '50ms',
    MERGE_SHARDS_DURATION: '50ms',
    UPDATE_SHARD_COUNT_DURATION: '50ms',
    REGISTER_STREAM_CONSUMER_DURATION: '50ms',
    SHARD_LIMIT: '2000',
    LOG_LEVEL: process.env.LUAKCL_TEST_KINESIS_LOCAL_LOG || 'WARN',
    SHOULD_PERSIST_DATA: 'false',
    LOAD_DATA_IF_EXISTS: 'false',
  };
  // Exit when the harness goes away (stdin closes), then run kinesis-local.
  const boot = "process.stdin.on('end', () => process.exit(0)); process.stdin.on('data', () => {});" +
               `process.stdin.resume(); require(${JSON.stringify(path.join(DIR, 'main.js'))});`;
  const child = spawn(process.execPath, ['-e', boot],
                      { cwd: DIR, env: childEnv, stdio: ['pipe', 'inherit', 'inherit'] });
  let exited = null;
  child.on('exit', (code, signal) => { exited = signal || `exit ${code}`; });

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`kinesis-local stopped while starting (${exited})`);
    if (await canConnect(plain) && await canConnect(tls)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`kinesis-local did not accept connections on ${plain}/${tls} within ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    env: {
      LUAKCL_TEST_KINESIS_LOCAL_ENDPOINT: `http://127.0.0.1:${plain}`,
      LUAKCL_TEST_KINESIS_LOCAL_TLS_ENDPOINT: `https://127.0.0.1:${tls}`,
    },
    close() {
      if (exited) return;
      try { child.stdin.end(); } catch (_) { /* already gone */ }
      child.kill('SIGKILL');
    },
  };
}

module.exports = { start };
