#!/usr/bin/env node
// sigv4_oracle_cli — verify signed requests written by a C test, one JSON
// object a line:
//   {"name": "...", "method": "POST", "path": "/a%20b?x=1",
//    "headers": [["Host", "h"], ["X-Amz-Date", "..."], ...],   // as sent, in order
//    "body_b64": "...", "creds": {"accessKeyId", "secretAccessKey", "sessionToken"?}}
// Each is checked by both verifiers of sigv4_check.js (smithy's canonical
// forms + node:crypto, and smithy's complete signer). Prints one line per
// mismatch, then "verified N of M"; exits 0 only when every request verified.
//   node sigv4_oracle_cli.js FILE
'use strict';
process.env.NODE_NO_WARNINGS = '1';
const fs = require('fs');
const { verifyRequest, verifyRequestAsync } = require('./sigv4_check.js');

async function main() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: sigv4_oracle_cli.js FILE');
    process.exit(2);
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  let verified = 0;
  const failures = [];
  for (const [i, line] of lines.entries()) {
    let r;
    try {
      r = JSON.parse(line);
    } catch (e) {
      failures.push(`line ${i + 1}: not JSON: ${e.message}`);
      continue;
    }
    // Node's lowercase header object, repeated headers kept apart (like req.headersDistinct).
    const headers = {};
    for (const [name, value] of r.headers || []) {
      const k = name.toLowerCase();
      (headers[k] = headers[k] || []).push(value);
    }
    const req = { method: r.method, path: r.path, headers, body: Buffer.from(r.body_b64 || '', 'base64') };
    const a = verifyRequest(req, r.creds);
    const b = await verifyRequestAsync(req, r.creds);
    if (a.ok && b.ok) verified++;
    else failures.push(`${r.name || `line ${i + 1}`}: ${a.ok ? '' : `[sync] ${a.reason} `}${b.ok ? '' : `[smithy] ${b.reason}`}`);
  }
  for (const f of failures) console.log(`MISMATCH ${f}`);
  console.log(`verified ${verified} of ${lines.length}`);
  process.exit(failures.length === 0 && verified > 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`sigv4_oracle_cli: ${e.stack || e}`);
  process.exit(1);
});
