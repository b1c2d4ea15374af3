// HAND-MADE test tool: a fault-injecting HTTP proxy in front of a real local
// server (kinesalite, dynalite). Neither server throttles, resets or stalls on
// demand; this proxy does, for the requests a test names.
//
//   const { createFaultProxy } = require('./fault_proxy.js');
//   const server = createFaultProxy({ targetPort, service: 'kinesis', credentials });
//   server.listen(0, '127.0.0.1');       // returned unstarted
//
// Every request is forwarded to 127.0.0.1:targetPort over keep-alive
// connections (request body buffered, response body streamed through), unless
// a fault rule matches it. Control endpoints on the same server:
//
//   POST /__luakcl/faults  {match, body, action, count, status, type, message, delay_ms}
//                          (or an array of them) adds rules. match: an
//                          X-Amz-Target value or '*'. body (optional): a
//                          substring the request body must contain too (e.g.
//                          '"ShardId":"shardId-000000000001"' for one shard's
//                          GetShardIterator). count: how many matching
//                          requests the rule applies to (default 1). Actions:
//        error     answer `status` (default 400) with {"__type": type, "message": message}
//        status    answer a bare `status` (default 503) with an HTML body
//        reset     destroy the connection without answering (TCP RST)
//        hang      never answer (the client gives up)
//        delay     forward after delay_ms (default 200)
//        truncate  forward, but send only half the response body, declaring
//                  the full Content-Length, then close the connection
//        garbage   answer 200 with bytes that are not JSON
//   GET  /__luakcl/stats   {requests, by_target, injected, verified, signature_failures, rules}
//   POST /__luakcl/reset   clears rules and counters (and turns verification back on)
//   POST /__luakcl/config  {verify: false|true} turns SigV4 verification off/on
//
// SigV4: when `credentials` are given and ./sigv4_check.js exists (exporting
// verifyRequest({method, path, headers, body}, creds) -> {ok, reason}), every
// request that is forwarded is verified first; a failing one is answered 403
// InvalidSignatureException and counted. Without the module nothing is
// verified (stats say verified: 0). Rules are applied before verification,
// as a network fault would be.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const ACTIONS = new Set(['error', 'status', 'reset', 'hang', 'delay', 'truncate', 'garbage']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding',
  'upgrade', 'te', 'trailer', 'expect']);

function loadVerifier() {
  const file = path.join(__dirname, 'sigv4_check.js');
  if (!fs.existsSync(file)) return null;
  const mod = require(file);
  return typeof mod.verifyRequest === 'function' ? mod.verifyRequest : null;
}

function copyHeaders(headers, extra) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
  return Object.assign(out, extra || {});
}

function createFaultProxy({ targetPort, service, credentials } = {}) {
  if (!targetPort) throw new Error('createFaultProxy needs targetPort');
  const verifier = credentials ? loadVerifier() : null;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const hanging = new Set();
  let rules = [];
  let verify = true;
  let stats;
  const resetStats = () => {
    stats = { requests: 0, by_target: {}, injected: 0, verified: 0, signature_failures: 0 };
  };
  resetStats();

  const sendJson = (res, status, obj, type) => {
    const s = JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': type || 'application/json', 'Content-Length': Buffer.byteLength(s) });
    res.end(s);
  };

  const control = (req, res, body) => {
    const p = req.url.split('?')[0];
    try {
      if (p === '/__luakcl/faults' && req.method === 'POST') {
        const parsed = JSON.parse(body.toString('utf8') || '{}');
        const list = Array.isArray(parsed) ? parsed : [parsed];
        for (const r of list) {
          if (!ACTIONS.has(r.action)) throw new Error(`unknown action ${r.action}`);
          if (r.body !== undefined && typeof r.body !== 'string') throw new Error('body must be a string');
          rules.push({ match: r.match || '*', body: r.body, action: r.action,
            count: r.count === undefined ? 1 : Number(r.count),
            status: r.status, type: r.type, message: r.message, delay_ms: r.delay_ms });
        }
        return sendJson(res, 200, { rules: rules.length });
      }
      if (p === '/__luakcl/stats' && req.method === 'GET') {
        return sendJson(res, 200, { ...stats, rules: rules.length });
      }
      if (p === '/__luakcl/reset' && req.method === 'POST') {
        rules = [];
        verify = true;
        resetStats();
        return sendJson(res, 200, {});
      }
      if (p === '/__luakcl/config' && req.method === 'POST') {
        const cfg = JSON.parse(body.toString('utf8') || '{}');
        if (cfg.verify !== undefined) verify = !!cfg.verify;
        return sendJson(res, 200, { verify, verifier: !!verifier });
      }
      return sendJson(res, 404, { message: `no control endpoint ${req.method} ${p}` });
    } catch (e) {
      return sendJson(res, 400, { message: String(e.message || e) });
    }
  };

  const takeRule = (target, body) => {
    const i = rules.findIndex((r) => r.count > 0 && (r.match === '*' || r.match === target) &&
      (r.body === undefined || body.includes(r.body)));
    if (i < 0) return null;
    const rule = rules[i];
    if (--rule.count <= 0) rules.splice(i, 1);
    stats.injected++;
    return rule;
  };

  const forward = (req, res, body, truncate) => {
    const up = http.request({
      host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, agent,
      headers: copyHeaders(req.headers, { 'content-length': body.length }),
    }, (ures) => {
      const headers = copyHeaders(ures.headers);
      if (!truncate) {
        res.writeHead(ures.statusCode, headers);
        ures.pipe(res);
        return;
      }
      const chunks = [];
      ures.on('data', (c) => chunks.push(c));
      ures.on('end', () => {
        const full = Buffer.concat(chunks);
        headers['content-length'] = full.length;
        res.writeHead(ures.statusCode, headers);
        res.write(full.subarray(0, Math.floor(full.length / 2)), () => res.socket && res.socket.destroy());
      });
    });
    up.on('error', (e) => {
      if (!res.headersSent) sendJson(res, 502, { __type: 'ProxyError', message: String(e.message || e) });
      else res.destroy();
    });
    up.end(body);
  };

  const server = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url.startsWith('/__luakcl/')) return control(req, res, body);
      const target = req.headers['x-amz-target'] || '';
      stats.requests++;
      stats.by_target[target || '(none)'] = (stats.by_target[target || '(none)'] || 0) + 1;

      const rule = takeRule(target, body.toString('utf8'));
      const act = rule ? rule.action : null;
      if (act === 'error') {
        return sendJson(res, rule.status || 400, { __type: rule.type || 'InternalFailure',
          message: rule.message || 'injected by the fault proxy' }, 'application/x-amz-json-1.1');
      }
      if (act === 'status') {
        const st = rule.status || 503;
        const html = `<html><body><h1>${st}</h1>injected by the fault proxy</body></html>`;
        res.writeHead(st, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html) });
        return res.end(html);
      }
      if (act === 'reset') {
        if (typeof req.socket.resetAndDestroy === 'function') req.socket.resetAndDestroy();
        else req.socket.destroy();
        return undefined;
      }
      if (act === 'hang') {
        hanging.add(req.socket);
        req.socket.on('close', () => hanging.delete(req.socket));
        return undefined;
      }
      if (act === 'garbage') {
        const junk = Buffer.from('<<not json>>\x00\xff\xfe garbage {"unterminated": ', 'latin1');
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': junk.length });
        return res.end(junk);
      }

      const go = () => {
        if (verifier && verify) {
          const v = verifier({ method: req.method, path: req.url, headers: req.headers, body },
            { ...credentials, service });
          if (!v || !v.ok) {
            stats.signature_failures++;
            return sendJson(res, 403, { __type: 'InvalidSignatureException',
              message: (v && v.reason) || 'signature verification failed' }, 'application/x-amz-json-1.1');
          }
          stats.verified++;
        }
        return forward(req, res, body, act === 'truncate');
      };
      if (act === 'delay') {
        const t = setTimeout(go, rule.delay_ms === undefined ? 200 : Number(rule.delay_ms));
        res.on('close', () => clearTimeout(t));
        return undefined;
      }
      return go();
    });
  });
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of hanging) s.destroy();
    agent.destroy();
    return close(cb);
  };
  return server;
}

module.exports = { createFaultProxy };
