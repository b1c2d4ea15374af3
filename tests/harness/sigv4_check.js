// sigv4_check — an independent SigV4 verifier for luakcl's tests, built on
// AWS's own JS signer (@smithy/signature-v4, with @aws-crypto/sha256-js).
// No local server checks signatures; this does.
//
//   const { verifyRequest, verifyRequestAsync } = require('./sigv4_check.js');
//   const v = verifyRequest({ method, path, headers, body }, { accessKeyId, secretAccessKey,
//                            sessionToken, service, region });
//   if (!v.ok) console.log(v.reason);
//
// - `path` is the request target as received (req.url: path and query).
// - `headers` is Node's lowercase header object. Values may be strings or
//   arrays; pass `req.headersDistinct` to keep repeated headers apart (with
//   `req.headers` Node has already joined them with ", ", which SigV4 joins
//   with ","). `body` is a Buffer (or undefined for none).
// - The credentials are what the request should have been signed with;
//   `service` and `region`, when given, must match the credential scope.
//   sessionToken, when given, must be the signed X-Amz-Security-Token.
//
// verifyRequest is SYNCHRONOUS and returns {ok, reason} (so the fault proxy
// can call it inline; `await verifyRequest(...)` works as well). It builds
// the canonical request with smithy's own canonicalization
// (SignatureV4#createCanonicalRequest, getCanonicalHeaders, getCanonicalQuery)
// and does the HMAC chain with node:crypto.
// verifyRequestAsync returns a Promise of {ok, reason} and re-signs through
// smithy's complete SignatureV4#sign path (its key derivation and hashing).
// The region and service are read from the request's credential scope, the
// signing time from X-Amz-Date, and exactly the headers named in
// SignedHeaders are signed. The reason says what differed; it never contains
// the secret key (a session token in a canonical request is masked).
'use strict';
const crypto = require('crypto');
const { SignatureV4, getCanonicalHeaders } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

const AUTH_RE = new RegExp(
  '^AWS4-HMAC-SHA256 Credential=([^/,\\s]+)/(\\d{8})/([^/,\\s]+)/([^/,\\s]+)/aws4_request, ?' +
  'SignedHeaders=([^,\\s]+), ?Signature=([0-9a-f]{64})$');
const UNSIGNED = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER']);

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

function headerValue(headers, name) {
  let v;
  for (const k of Object.keys(headers || {})) {
    if (k.toLowerCase() !== name) continue;
    const parts = Array.isArray(headers[k]) ? headers[k] : [headers[k]];
    v = v === undefined ? parts : v.concat(parts);
  }
  if (v === undefined) return undefined;
  // SigV4 trims each value of a repeated header and joins them with ','.
  return v.length === 1 ? String(v[0]) : v.map((x) => String(x).trim()).join(',');
}

// Percent-decode like the SigV4 rules want ('+' stays '+', a stray '%' stays);
// null when the bytes are not UTF-8 (smithy works on JS strings).
function decodeComponent(s) {
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(bytes));
  } catch (_) {
    return null;
  }
}

function parseQuery(qs) {
  const query = {};
  if (!qs) return query;
  for (const piece of qs.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const k = decodeComponent(eq < 0 ? piece : piece.slice(0, eq));
    const v = decodeComponent(eq < 0 ? '' : piece.slice(eq + 1));
    if (k === null || v === null) throw new Error(`query parameter ${JSON.stringify(piece)} is not UTF-8 once decoded`);
    if (!Object.prototype.hasOwnProperty.call(query, k)) query[k] = v;
    else query[k] = [].concat(query[k], v);
  }
  return query;
}

function amzDateToDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

const mask = (text, token) => (token ? text.split(token).join('<session-token>') : text);

// Everything both verifiers share: parse, check the scope and credentials,
// pick the signed headers. Returns {error} or the pieces.
function prepare(req, creds) {
  const headers = req.headers || {};
  const auth = headerValue(headers, 'authorization');
  if (!auth) return { error: 'no Authorization header' };
  const m = AUTH_RE.exec(auth);
  if (!m) return { error: `Authorization is not AWS4-HMAC-SHA256 header form: ${auth.slice(0, 80)}` };
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = m;
  creds = creds || {};
  if (!creds.accessKeyId || !creds.secretAccessKey) return { error: 'verifier has no credentials' };
  if (accessKeyId !== creds.accessKeyId) return { error: `access key id ${accessKeyId}, expected ${creds.accessKeyId}` };
  if (creds.service && service !== creds.service) return { error: `scope service ${service}, expected ${creds.service}` };
  if (creds.region && region !== creds.region) return { error: `scope region ${region}, expected ${creds.region}` };
  const signedNames = signedList.split(';');
  const sorted = [...signedNames].sort();
  if (signedNames.join(';') !== sorted.join(';') || new Set(signedNames).size !== signedNames.length ||
      signedNames.some((n) => n !== n.toLowerCase())) {
    return { error: `SignedHeaders not lowercase, sorted and unique: ${signedList}` };
  }
  for (const need of ['host', 'x-amz-date']) {
    if (!signedNames.includes(need)) return { error: `${need} is not signed` };
  }
  if (signedNames.includes('date')) return { error: 'a Date header is signed; this verifier cannot check that' };
  const amzDate = headerValue(headers, 'x-amz-date');
  const date = amzDateToDate(amzDate);
  if (!date) return { error: `X-Amz-Date missing or malformed: ${amzDate}` };
  if (amzDate.slice(0, 8) !== scopeDate) return { error: `scope date ${scopeDate} is not X-Amz-Date's day ${amzDate}` };
  const signedHeaders = {};
  for (const n of signedNames) {
    const v = headerValue(headers, n);
    if (v === undefined) return { error: `signed header ${n} is not in the request` };
    signedHeaders[n] = v;
  }
  const token = signedHeaders['x-amz-security-token'];
  if (creds.sessionToken && token !== creds.sessionToken) {
    return { error: token === undefined ? 'session token not sent or not signed' : 'session token differs' };
  }
  const body = req.body === undefined || req.body === null ? Buffer.alloc(0) : Buffer.from(req.body);
  const declared = signedHeaders['x-amz-content-sha256'];
  if (declared !== undefined && !UNSIGNED.has(declared) && declared !== sha256hex(body)) {
    return { error: 'x-amz-content-sha256 does not match the body' };
  }
  const target = String(req.path || '/');
  const q = target.indexOf('?');
  let query;
  try {
    query = parseQuery(q < 0 ? '' : target.slice(q + 1));
  } catch (e) {
    return { error: e.message };
  }
  return {
    accessKeyId, scopeDate, region, service, signedList, signature, signedNames, signedHeaders,
    amzDate, date, token, body, query, path: q < 0 ? target : target.slice(0, q),
    method: String(req.method || '').toUpperCase(), secret: creds.secretAccessKey,
  };
}

function verifyRequest(req, creds) {
  try {
    const p = prepare(req, creds);
    if (p.error) return { ok: false, reason: p.error };
    const signer = new SignatureV4({
      credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secret },
      region: p.region, service: p.service, sha256: Sha256, applyChecksum: false,
    });
    const request = { method: p.method, path: p.path, query: p.query, headers: p.signedHeaders };
    const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(p.signedNames));
    const list = Object.keys(canonicalHeaders).sort().join(';');
    if (list !== p.signedList) return { ok: false, reason: `signed headers ${p.signedList}, verifier got ${list}` };
    const payloadHash = p.signedHeaders['x-amz-content-sha256'] !== undefined
      ? p.signedHeaders['x-amz-content-sha256'] : sha256hex(p.body);
    const canonical = signer.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const scope = `${p.scopeDate}/${p.region}/${p.service}/aws4_request`;
    const sts = `AWS4-HMAC-SHA256\n${p.amzDate}\n${scope}\n${sha256hex(canonical)}`;
    let key = hmac(`AWS4${p.secret}`, p.scopeDate);
    for (const part of [p.region, p.service, 'aws4_request']) key = hmac(key, part);
    const want = hmac(key, sts).toString('hex');
    if (want !== p.signature) {
      return { ok: false, reason: `signature differs (${p.method} ${req.path}); verifier's canonical request:\n` +
        mask(canonical, p.token) };
    }
    return { ok: true, reason: '' };
  } catch (e) {
    return { ok: false, reason: `verifier error: ${e.message}` };
  }
}

async function verifyRequestAsync(req, creds) {
  try {
    const p = prepare(req, creds);
    if (p.error) return { ok: false, reason: p.error };
    const signer = new SignatureV4({
      credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secret, sessionToken: p.token },
      region: p.region, service: p.service, sha256: Sha256, applyChecksum: false,
    });
    const headers = { ...p.signedHeaders };
    delete headers['x-amz-date'];             // smithy sets these two itself
    delete headers['x-amz-security-token'];
    const signed = await signer.sign({
      method: p.method, protocol: 'http:', hostname: p.signedHeaders.host, path: p.path,
      query: p.query, headers, body: p.body,
    }, { signingDate: p.date, signableHeaders: new Set(p.signedNames), signingRegion: p.region,
      signingService: p.service });
    const got = headerValue(signed.headers, 'authorization');
    const m = AUTH_RE.exec(got || '');
    if (!m) return { ok: false, reason: `smithy produced no usable Authorization: ${got}` };
    if (m[5] !== p.signedList) return { ok: false, reason: `signed headers ${p.signedList}, smithy signed ${m[5]}` };
    if (m[6] !== p.signature) return { ok: false, reason: `signature differs from smithy's (${p.method} ${req.path})` };
    return { ok: true, reason: '' };
  } catch (e) {
    return { ok: false, reason: `verifier error: ${e.message}` };
  }
}

module.exports = { verifyRequest, verifyRequestAsync, parseQuery };
