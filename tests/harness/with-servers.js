#!/usr/bin/env node
// Runs a command with real local AWS servers on free loopback ports, and stops
// them afterwards whatever the command's fate (exit, crash, signal, timeout).
//
//   node with-servers.js [options] -- COMMAND [ARGS...]
//   node with-servers.js [options] --print      # start, print endpoints as JSON, run until killed
//
// Servers (in this process, so they die with it):
//   kinesalite (Kinesis, HTTP/1.1)   -> LUAKCL_TEST_KINESIS_ENDPOINT
//   dynalite   (DynamoDB)            -> LUAKCL_TEST_DYNAMODB_ENDPOINT
//   with --proxy, a fault-injecting proxy in front of each (see fault_proxy.js):
//                                    -> LUAKCL_TEST_KINESIS_PROXY, LUAKCL_TEST_DYNAMODB_PROXY
//   with --with NAME (repeatable), the extra server in extras/NAME.js, a module
//   exporting `async start(env)` that returns `{ env: {...}, close() }`; it sees
//   the endpoints started before it in `env` and adds its own variables.
//
// A C or shell integration test names the options it needs in a line of its
// source: `harness: --proxy --with http_test_server` (tests/tests.cmake reads it).
// The command also gets fixed test credentials and region (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION) and never a profile from the machine.
'use strict';
process.env.NODE_NO_WARNINGS = '1';
const { spawn } = require('child_process');
const path = require('path');

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const opts = dash >= 0 ? argv.slice(0, dash) : argv;
const cmd = dash >= 0 ? argv.slice(dash + 1) : [];
const want = (flag) => opts.includes(flag);
if (!cmd.length && !want('--print')) {
  console.error('usage: with-servers.js [--proxy] [--with NAME]... (--print | -- COMMAND [ARGS...])');
  process.exit(2);
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

const TEST_ACCESS_KEY = 'AKIDLUAKCLTEST000001';
const TEST_SECRET_KEY = 'luakclTestSecretKey/EXAMPLE+0000000000000';

async function main() {
  const kinesalite = require('kinesalite');
  const dynalite = require('dynalite');
  const servers = [];
  const k = kinesalite({ createStreamMs: 5, deleteStreamMs: 5, updateStreamMs: 5, shardLimit: 1000 });
  const d = dynalite({ createTableMs: 5, deleteTableMs: 5, updateTableMs: 5 });
  servers.push(k, d);
  const kport = await listen(k);
  const dport = await listen(d);
  const env = {
    LUAKCL_TEST_KINESIS_ENDPOINT: `http://127.0.0.1:${kport}`,
    LUAKCL_TEST_DYNAMODB_ENDPOINT: `http://127.0.0.1:${dport}`,
    AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: TEST_SECRET_KEY,
    AWS_REGION: 'us-east-1',
  };
  if (want('--proxy')) {
    const { createFaultProxy } = require('./fault_proxy.js');
    const creds = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET_KEY };
    const kp = createFaultProxy({ targetPort: kport, service: 'kinesis', credentials: creds });
    const dp = createFaultProxy({ targetPort: dport, service: 'dynamodb', credentials: creds });
    servers.push(kp, dp);
    env.LUAKCL_TEST_KINESIS_PROXY = `http://127.0.0.1:${await listen(kp)}`;
    env.LUAKCL_TEST_DYNAMODB_PROXY = `http://127.0.0.1:${await listen(dp)}`;
  }

  const closers = [];
  for (let i = 0; i < opts.length; i++) {
    if (opts[i] !== '--with') continue;
    const name = opts[++i];
    if (!name || !/^[a-z0-9_]+$/.test(name)) throw new Error(`--with needs an extras/ module name, got ${name}`);
    const extra = await require(`./extras/${name}.js`).start({ ...env });
    Object.assign(env, extra.env || {});
    if (extra.close) closers.push(extra.close);
  }

  const stopAll = () => {
    for (const c of closers) { try { c(); } catch (_) { /* closing anyway */ } }
    stopServers();
  };
  const stopServers = () => { for (const s of servers) { try { s.close(); } catch (_) { /* closing anyway */ } } };

  if (!cmd.length) {
    process.stdout.write(JSON.stringify(env) + '\n');
    const quit = () => { stopAll(); process.exit(0); };
    process.on('SIGTERM', quit);
    process.on('SIGINT', quit);
    process.stdin.on('end', quit);   // the parent went away
    process.stdin.resume();
    return;
  }

  const childEnv = { ...process.env, ...env };
  for (const v of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_KINESIS',
                   'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN',
                   'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) {
    delete childEnv[v];
  }
  childEnv.AWS_EC2_METADATA_DISABLED = 'true';
  childEnv.PATH = `${path.join(__dirname, 'node_modules', '.bin')}:${childEnv.PATH}`;
  const child = spawn(cmd[0], cmd.slice(1), { stdio: 'inherit', env: childEnv });
  const forward = (sig) => { try { child.kill(sig); } catch (_) { /* already gone */ } };
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));
  child.on('error', (e) => { console.error(`with-servers: cannot run ${cmd[0]}: ${e.message}`); stopAll(); process.exit(127); });
  child.on('exit', (code, signal) => {
    stopAll();
    if (signal) { console.error(`with-servers: ${cmd[0]} killed by ${signal}`); process.exit(128 + 9); }
    process.exit(code);
  });
}

main().catch((e) => { console.error(`with-servers: ${e.stack || e}`); process.exit(1); });
