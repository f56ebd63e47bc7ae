// whoami's tokenize_as through @ory/client's FrontendApi.toSession against the real gatehouse process: the session
// comes back with `tokenized`, a JWT checked here with Node's own crypto (RS256 from a base64:// key set, ES256 from a
// file:// key set with a claims mapper and the external id as subject, EdDSA from an Ed25519 key).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail, expectHttpError } from './lib/sdk.mjs';
import { nativeFrontend, newPassword } from './lib/frontend.mjs';

// Keys made for this run; the private halves go only into gatehouse's key sets.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const jwk = (pair, extra) => ({ ...pair.privateKey.export({ format: 'jwk' }), use: 'sig', ...extra });
const keySet = (...keys) => JSON.stringify({ keys });
const base64 = (text) => `base64://${Buffer.from(text).toString('base64')}`;

const keyDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-e2e-jwks-'));
after(() => rmSync(keyDir, { recursive: true, force: true }));
const ecKeySetFile = path.join(keyDir, 'ec.jwks.json');
writeFileSync(ecKeySetFile, keySet(jwk(ec, { alg: 'ES256', kid: 'ec-1' })));

const mapper = `
local session = std.extVar('session');
local claims = std.extVar('claims');
{ claims: { email: session.identity.traits.email, schema_id: session.identity.schema_id, exp_copy: claims.exp, sub: 'ignored' } }
`;

const gatehouse = useGatehouse({
  selfservice: { methods: { password: { config: { haveibeenpwned_enabled: false } } } },
  session: {
    whoami: {
      tokenizer: {
        templates: {
          rsa: { jwks_url: base64(keySet(jwk(rsa, { alg: 'RS256', kid: 'rsa-1' }), jwk(ec, { alg: 'ES256' }))) },
          ec_external: { jwks_url: `file://${ecKeySetFile}`, ttl: '10m', claims_mapper_url: base64(mapper), subject_source: 'external_id' },
          ed: { jwks_url: base64(keySet(jwk(ed, { alg: 'EdDSA', kid: 'ed-1' }))), ttl: '30s' },
        },
      },
    },
  },
});

const b64url = (part) => Buffer.from(part, 'base64url');

/** Checks the JWS signature with Node's crypto and returns the decoded header and payload. */
function verifyJwt(token, publicKey) {
  const [header, payload, signature] = token.split('.');
  const parsedHeader = JSON.parse(b64url(header).toString('utf8'));
  const signed = Buffer.from(`${header}.${payload}`);
  const algorithms = {
    RS256: () => verify('sha256', signed, publicKey, b64url(signature)),
    // JWS carries ECDSA signatures as r||s (IEEE P1363), not DER.
    ES256: () => verify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, b64url(signature)),
    EdDSA: () => verify(null, signed, publicKey, b64url(signature)),
  };
  assert.ok(algorithms[parsedHeader.alg], `unexpected alg ${parsedHeader.alg}`);
  assert.equal(algorithms[parsedHeader.alg](), true, `the ${parsedHeader.alg} signature does not verify`);
  return { header: parsedHeader, payload: JSON.parse(b64url(payload).toString('utf8')) };
}

/** An identity (optionally with an external id) created through the admin API, and a native login's session token. */
async function signedIn({ externalId } = {}) {
  const email = uniqueEmail('tokenize');
  const password = newPassword();
  const admin = identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key });
  const { data: identity } = await admin.createIdentity({
    createIdentityBody: {
      schema_id: 'default',
      traits: { email },
      ...(externalId ? { external_id: externalId } : {}),
      credentials: { password: { config: { password } } },
    },
  });
  const api = nativeFrontend(gatehouse().publicUrl);
  const { data: flow } = await api.createNativeLoginFlow();
  const { data: login } = await api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'password', identifier: email, password } });
  return { identity, email, token: login.session_token, session: login.session };
}

describe(`whoami tokenize_as (${database})`, () => {
  it('toSession({ tokenizeAs }) returns the session with an RS256 JWT of it, signed by the first key', async () => {
    const { identity, token, session } = await signedIn();
    const frontend = nativeFrontend(gatehouse().publicUrl);
    const before = Math.floor(Date.now() / 1000);

    const { data, status } = await frontend.toSession({ xSessionToken: token, tokenizeAs: 'rsa' });

    assert.equal(status, 200);
    assert.equal(data.id, session.id);
    assert.equal(data.identity.id, identity.id);
    assert.equal(typeof data.tokenized, 'string');
    const { header, payload } = verifyJwt(data.tokenized, rsa.publicKey);
    assert.deepEqual(header, { alg: 'RS256', kid: 'rsa-1', typ: 'JWT' });
    assert.deepEqual(Object.keys(payload), ['exp', 'iat', 'iss', 'jti', 'nbf', 'sid', 'sub']);
    assert.equal(payload.iss, `${gatehouse().publicUrl}/`);
    assert.equal(payload.sub, identity.id);
    assert.equal(payload.sid, session.id);
    assert.ok(payload.iat >= before - 5 && payload.iat <= before + 60, `iat ${payload.iat} is not about now (${before})`);
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.exp, payload.iat + 60);

    // A new token every time; plain whoami has none.
    const { data: again } = await frontend.toSession({ xSessionToken: token, tokenizeAs: 'rsa' });
    assert.notEqual(verifyJwt(again.tokenized, rsa.publicKey).payload.jti, payload.jti);
    const { data: plain } = await frontend.toSession({ xSessionToken: token });
    assert.equal(plain.tokenized, undefined);
    const { tokenized, ...rest } = again;
    assert.deepEqual(rest, plain);
  });

  it('an ES256 template from a file:// key set uses the external id as subject and adds the mapper\'s claims', async () => {
    const externalId = `ext-${Date.now()}-${Math.random().toString(16).slice(2)}`;
    const { email, token, session } = await signedIn({ externalId });

    const { data } = await nativeFrontend(gatehouse().publicUrl).toSession({ xSessionToken: token, tokenizeAs: 'ec_external' });

    const { header, payload } = verifyJwt(data.tokenized, createPublicKey(ec.privateKey));
    assert.deepEqual(header, { alg: 'ES256', kid: 'ec-1', typ: 'JWT' });
    assert.equal(payload.sub, externalId);
    assert.equal(payload.sid, session.id);
    assert.equal(payload.email, email);
    assert.equal(payload.schema_id, 'default');
    assert.equal(payload.exp_copy, payload.exp);
    assert.equal(payload.exp - payload.iat, 600);
  });

  it('an EdDSA template signs with Ed25519', async () => {
    const { token, session } = await signedIn();

    const { data } = await nativeFrontend(gatehouse().publicUrl).toSession({ xSessionToken: token, tokenizeAs: 'ed' });

    const { header, payload } = verifyJwt(data.tokenized, ed.publicKey);
    assert.deepEqual(header, { alg: 'EdDSA', kid: 'ed-1', typ: 'JWT' });
    assert.equal(payload.sid, session.id);
    assert.equal(payload.exp - payload.iat, 30);
  });

  it('an unknown template is a 400 and a missing external id a 400, with Kratos\'s reasons', async () => {
    const { token } = await signedIn();
    const frontend = nativeFrontend(gatehouse().publicUrl);

    const unknown = await expectHttpError(frontend.toSession({ xSessionToken: token, tokenizeAs: 'nope' }), 400);
    assert.equal(unknown.reason, 'Unable to find tokenizer template "nope".');
    const noExternal = await expectHttpError(frontend.toSession({ xSessionToken: token, tokenizeAs: 'ec_external' }), 400);
    assert.equal(noExternal.reason, 'The session\'s identity does not have an external ID set, but it is required for the subject claim.');
    await expectHttpError(frontend.toSession({ tokenizeAs: 'rsa' }), 401);
  });
});
