// HAND-MADE FAKE, not a real AWS server: one loopback HTTP server that plays
// the three network sources of AWS credentials for luakcl's credentials tests
// (tests/integration/it_credentials.c), answering in the real services' shapes.
//
//   POST /                  STS AssumeRoleWithWebIdentity (query protocol, unsigned):
//                           checks Action, Version, RoleArn, RoleSessionName and that
//                           WebIdentityToken == WEB_IDENTITY_TOKEN; answers the real XML
//                           (ErrorResponse / InvalidIdentityToken otherwise, HTTP 400)
//   GET  /ecs/creds...      ECS container credentials: Authorization must equal
//                           ECS_AUTH_TOKEN (401 otherwise); JSON {AccessKeyId,
//                           SecretAccessKey, Token, Expiration, RoleArn}
//   PUT  /latest/api/token  IMDSv2 token (needs X-aws-ec2-metadata-token-ttl-seconds)
//   GET  /latest/meta-data/iam/security-credentials/        -> role name (IMDS_ROLE)
//   GET  /latest/meta-data/iam/security-credentials/ROLE    -> JSON with Code "Success"
//                           (both GETs answer 401 without a valid X-aws-ec2-metadata-token)
//   GET  /__stats           JSON counters: sts, ecs, imdsToken, imdsRole, imdsCreds,
//                           issued (credential sets handed out), failed (injected 500s),
//                           rejected (bad token/field/auth)
//   POST /__config          JSON {expirySeconds, failNext, reset}: lifetime of the next
//                           credential sets (default 3600), make the next N non-control
//                           calls fail with HTTP 500, reset the counters
//
// Every issued set is new: AccessKeyId "ASIAFAKE<kind><n>", a random secret and
// session token, so a test can tell a refreshed set from the old one.
// Exports LUAKCL_TEST_FAKE_AWS = http://127.0.0.1:PORT.
'use strict';
const http = require('http');
const crypto = require('crypto');

const WEB_IDENTITY_TOKEN = 'luakcl-test-web-identity-token.eyJzdWIiOiJ0ZXN0In0';
const ECS_AUTH_TOKEN = 'luakcl-test-ecs-authorization-token';
const IMDS_ROLE = 'luakcl-test-role';
const ROLE_ARN_RE = /^arn:aws:iam::\d{12}:role\/[\w+=,.@\/-]+$/;

function newStats() {
  return { sts: 0, ecs: 0, imdsToken: 0, imdsRole: 0, imdsCreds: 0, issued: 0, failed: 0, rejected: 0 };
}

async function start(env) {
  let stats = newStats();
  let expirySeconds = 3600;
  let failNext = 0;
  const imdsTokens = new Set();

  const issue = (kind) => {
    stats.issued++;
    const n = String(stats.issued).padStart(6, '0');
    return {
      AccessKeyId: `ASIAFAKE${kind}${n}`,
      SecretAccessKey: `fakeSecret/${crypto.randomBytes(15).toString('base64')}`,
      Token: `FakeSessionToken+${crypto.randomBytes(48).toString('base64')}`,
      Expiration: new Date(Date.now() + expirySeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  };

  const send = (res, status, type, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
  const reject = (res, status, msg) => { stats.rejected++; send(res, status, 'text/plain', msg); };
  const stsError = (res, code, msg) => {
    stats.rejected++;
    send(res, 400, 'text/xml', '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n' +
      `  <Error>\n    <Type>Sender</Type>\n    <Code>${code}</Code>\n    <Message>${msg}</Message>\n  </Error>\n` +
      `  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`);
  };

  const handle = (req, res, body) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    if (p === '/__stats') return send(res, 200, 'application/json', JSON.stringify(stats));
    if (p === '/__config' && req.method === 'POST') {
      let cfg = {};
      try { cfg = JSON.parse(body || '{}'); } catch (_) { return send(res, 400, 'text/plain', 'bad json'); }
      if (cfg.reset) { stats = newStats(); imdsTokens.clear(); }
      if (cfg.expirySeconds !== undefined) expirySeconds = Number(cfg.expirySeconds);
      if (cfg.failNext !== undefined) failNext = Number(cfg.failNext);
      return send(res, 200, 'application/json', JSON.stringify({ expirySeconds, failNext }));
    }

    if (p === '/' && req.method === 'POST') stats.sts++;
    else if (p.startsWith('/ecs/')) stats.ecs++;
    else if (p === '/latest/api/token') stats.imdsToken++;
    else if (p === '/latest/meta-data/iam/security-credentials/') stats.imdsRole++;
    else if (p.startsWith('/latest/meta-data/iam/security-credentials/')) stats.imdsCreds++;
    else return send(res, 404, 'text/plain', 'not found');
    if (failNext > 0) {
      failNext--;
      stats.failed++;
      return send(res, 500, 'text/plain', 'injected failure');
    }

    if (p === '/') {
      const ct = req.headers['content-type'] || '';
      if (!ct.startsWith('application/x-www-form-urlencoded')) return stsError(res, 'InvalidParameterValue', 'bad content type');
      const f = new URLSearchParams(body);
      if (f.get('Action') !== 'AssumeRoleWithWebIdentity') return stsError(res, 'InvalidAction', 'bad Action');
      if (f.get('Version') !== '2011-06-15') return stsError(res, 'InvalidParameterValue', 'bad Version');
      if (!ROLE_ARN_RE.test(f.get('RoleArn') || '')) return stsError(res, 'ValidationError', 'bad RoleArn');
      if (!/^[\w+=,.@-]{2,64}$/.test(f.get('RoleSessionName') || '')) return stsError(res, 'ValidationError', 'bad RoleSessionName');
      if (f.get('WebIdentityToken') !== WEB_IDENTITY_TOKEN) return stsError(res, 'InvalidIdentityToken', 'Token is not valid');
      if (req.headers.authorization) return stsError(res, 'InvalidParameterValue', 'AssumeRoleWithWebIdentity is unsigned');
      const c = issue('STS');
      const session = f.get('RoleSessionName');
      const xml = '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n' +
        '  <AssumeRoleWithWebIdentityResult>\n' +
        '    <SubjectFromWebIdentityToken>system:serviceaccount:default:luakcl</SubjectFromWebIdentityToken>\n' +
        '    <Audience>sts.amazonaws.com</Audience>\n' +
        '    <AssumedRoleUser>\n' +
        `      <Arn>arn:aws:sts::123456789012:assumed-role/luakcl-test/${session}</Arn>\n` +
        `      <AssumedRoleId>AROAFAKEFAKEFAKE:${session}</AssumedRoleId>\n` +
        '    </AssumedRoleUser>\n' +
        '    <Credentials>\n' +
        `      <SessionToken>${c.Token}</SessionToken>\n` +
        `      <SecretAccessKey>${c.SecretAccessKey}</SecretAccessKey>\n` +
        `      <Expiration>${c.Expiration}</Expiration>\n` +
        `      <AccessKeyId>${c.AccessKeyId}</AccessKeyId>\n` +
        '    </Credentials>\n' +
        '    <Provider>oidc.eks.us-east-1.amazonaws.com/id/FAKE</Provider>\n' +
        '  </AssumeRoleWithWebIdentityResult>\n' +
        '  <ResponseMetadata>\n' +
        `    <RequestId>${crypto.randomUUID()}</RequestId>\n` +
        '  </ResponseMetadata>\n' +
        '</AssumeRoleWithWebIdentityResponse>\n';
      return send(res, 200, 'text/xml', xml);
    }

    if (p.startsWith('/ecs/')) {
      if (req.method !== 'GET') return reject(res, 405, 'method');
      if (req.headers.authorization !== ECS_AUTH_TOKEN) return reject(res, 401, 'bad authorization token');
      const c = issue('ECS');
      return send(res, 200, 'application/json',
        JSON.stringify({ RoleArn: 'arn:aws:iam::123456789012:role/luakcl-test', ...c }));
    }

    if (p === '/latest/api/token') {
      if (req.method !== 'PUT') return reject(res, 405, 'method');
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!(ttl >= 1 && ttl <= 21600)) return reject(res, 400, 'missing or bad ttl');
      const tok = `AQAEAFakeImdsToken${crypto.randomBytes(24).toString('base64url')}==`;
      imdsTokens.add(tok);
      return send(res, 200, 'text/plain', tok, { 'X-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET') return reject(res, 405, 'method');
    if (!imdsTokens.has(req.headers['x-aws-ec2-metadata-token'])) return reject(res, 401, 'Unauthorized');
    if (p === '/latest/meta-data/iam/security-credentials/') return send(res, 200, 'text/plain', IMDS_ROLE);
    if (p !== `/latest/meta-data/iam/security-credentials/${IMDS_ROLE}`) return send(res, 404, 'text/plain', 'no such role');
    const c = issue('IMDS');
    return send(res, 200, 'text/plain', JSON.stringify({
      Code: 'Success', LastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), Type: 'AWS-HMAC', ...c,
    }, null, 2));
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      try { handle(req, res, Buffer.concat(chunks).toString('utf8')); }
      catch (e) { send(res, 500, 'text/plain', `fake_aws_metadata: ${e.message}`); }
    });
  });
  const port = await new Promise((resolve, reject2) => {
    server.once('error', reject2);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
  return {
    env: {
      LUAKCL_TEST_FAKE_AWS: `http://127.0.0.1:${port}`,
      LUAKCL_TEST_FAKE_WEB_IDENTITY_TOKEN: WEB_IDENTITY_TOKEN,
      LUAKCL_TEST_FAKE_ECS_TOKEN: ECS_AUTH_TOKEN,
    },
    close() { server.close(); if (server.closeAllConnections) server.closeAllConnections(); },
  };
}

module.exports = { start };
