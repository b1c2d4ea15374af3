// HAND-MADE FAKE, not a real AWS server: a small HTTP server for luakcl's
// http-layer tests (tests/integration/it_http.c). It serves the same routes on
//   - HTTP/1.1 on loopback                  -> LUAKCL_TEST_HTTP_SERVER  (http://127.0.0.1:P)
//   - HTTP/2 over TLS (HTTP/1.1 also offered via ALPN), with a self-signed
//     certificate made with openssl at start -> LUAKCL_TEST_HTTP2_SERVER (https://127.0.0.1:P)
//
// Routes (any method unless said):
//   /echo                  -> 200 JSON {method, url, httpVersion, headers, body, bodyLength}
//   /status/NNN            -> status NNN, body "status NNN"
//   /flaky/KEY?fail=N&status=S -> S (default 503) for the first N hits of this path, then 200 "ok"
//   /slow?ms=N             -> 200 "slow" after N ms
//   /big?bytes=N           -> 200 with N bytes ('a'..'z' repeating), Content-Length set
//   /chunked?n=K&ms=M      -> 200, K chunks "chunk-i\n" written M ms apart (chunked encoding)
//   /header?Name=Value...  -> 200, each query parameter set as a response header
//   /reset                 -> the connection is destroyed without an answer
//   /count?path=/x         -> 200 JSON {hits}: how many requests /x received (query ignored)
//   /stats                 -> 200 JSON {connections, h2sessions, requests}
//   /clear                 -> 200, forgets hit counts
'use strict';
const http = require('http');
const http2 = require('http2');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luakcl-http-test-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const out = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

function createHandler(state) {
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    state.requests++;
    state.hits.set(p, (state.hits.get(p) || 0) + 1);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = (status, obj) => {
        const s = JSON.stringify(obj);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
        res.end(s);
      };
      if (p === '/echo') {
        return json(200, { method: req.method, url: req.url, httpVersion: req.httpVersion,
          headers: req.headers, body: body.toString('utf8'), bodyLength: body.length });
      }
      let m;
      if ((m = /^\/status\/(\d{3})$/.exec(p))) {
        res.writeHead(Number(m[1]), { 'Content-Type': 'text/plain' });
        return res.end(`status ${m[1]}`);
      }
      if (p.startsWith('/flaky/')) {
        const fail = Number(url.searchParams.get('fail') || 1);
        const status = Number(url.searchParams.get('status') || 503);
        if (state.hits.get(p) <= fail) {
          res.writeHead(status, { 'Content-Type': 'text/plain' });
          return res.end(`failing ${state.hits.get(p)}/${fail}`);
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('ok');
      }
      if (p === '/slow') {
        const t = setTimeout(() => { res.writeHead(200); res.end('slow'); }, Number(url.searchParams.get('ms') || 1000));
        res.on('close', () => clearTimeout(t));
        return undefined;
      }
      if (p === '/big') {
        const n = Number(url.searchParams.get('bytes') || 0);
        const buf = Buffer.alloc(n);
        for (let i = 0; i < n; i++) buf[i] = 97 + (i % 26);
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
        return res.end(buf);
      }
      if (p === '/chunked') {
        const n = Number(url.searchParams.get('n') || 3);
        const ms = Number(url.searchParams.get('ms') || 20);
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        let i = 0;
        const tick = () => {
          if (res.destroyed) return;
          if (i === n) { res.end(); return; }
          res.write(`chunk-${i++}\n`);
          setTimeout(tick, ms);
        };
        return tick();
      }
      if (p === '/header') {
        const h = { 'Content-Type': 'text/plain' };
        for (const [k, v] of url.searchParams) h[k] = v;
        res.writeHead(200, h);
        return res.end('headers');
      }
      if (p === '/reset') {
        if (req.stream) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        else req.socket.resetAndDestroy();
        return undefined;
      }
      if (p === '/count') {
        return json(200, { hits: state.hits.get(url.searchParams.get('path')) || 0 });
      }
      if (p === '/stats') {
        return json(200, { connections: state.connections, h2sessions: state.h2sessions, requests: state.requests });
      }
      if (p === '/clear') {
        state.hits.clear();
        return json(200, {});
      }
      return json(404, { message: `no route ${p}` });
    });
  };
}

async function start(env) {
  const state = { hits: new Map(), connections: 0, h2sessions: 0, requests: 0 };
  const sockets = new Set();
  const handler = createHandler(state);
  const track = (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); };

  const h1 = http.createServer({ keepAliveTimeout: 30000 }, handler);
  h1.on('connection', (s) => { state.connections++; track(s); });

  const { key, cert } = makeCert();
  const h2 = http2.createSecureServer({ key, cert, allowHTTP1: true }, handler);
  h2.on('secureConnection', (s) => { state.connections++; track(s); });
  h2.on('session', () => { state.h2sessions++; });

  const p1 = await listen(h1);
  const p2 = await listen(h2);
  return {
    env: {
      LUAKCL_TEST_HTTP_SERVER: `http://127.0.0.1:${p1}`,
      LUAKCL_TEST_HTTP2_SERVER: `https://127.0.0.1:${p2}`,
    },
    close() {
      for (const s of sockets) s.destroy();
      h1.close();
      h2.close();
    },
  };
}

module.exports = { start };
