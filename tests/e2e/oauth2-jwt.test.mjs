// The JWT-based parts of Hydra's OAuth2 provider against the real process, with independent peers: openid-client's
// PrivateKeyJwt client authentication, jose to sign assertions, @ory/client's OAuth2Api for the admin calls.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';

const gatehouse = useGatehouse();

function admin() {
  return new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));
}

/** openid-client through discovery, authenticating with private_key_jwt; `aud` set to the token endpoint as Hydra wants. */
async function rp(clientId, privateKey, kid, { audience = 'token', jti } = {}) {
  const base = gatehouse().publicUrl;
  const auth = oidc.PrivateKeyJwt({ key: privateKey, kid }, {
    [oidc.modifyAssertion]: (_header, payload) => {
      if (audience === 'token') payload.aud = `${base}/oauth2/token`;
      if (jti) payload.jti = jti;
    },
  });
  return oidc.discovery(new URL(base), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

async function keyPair(alg, kid) {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, use: 'sig', alg };
  return { privateKey, jwk };
}

describe(`OAuth2 private_key_jwt (${database})`, () => {
  let jwksServer;
  let served = { keys: [] };
  let fetches = 0;
  before(async () => {
    jwksServer = createServer((req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(served));
    });
    await new Promise((r) => jwksServer.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise((r) => jwksServer.close(r)));

  it('discovery advertises it, openid-client authenticates with an RS256 key from jwks, and a replayed jti is jti_known', async () => {
    const base = gatehouse().publicUrl;
    const discovered = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
    assert.ok(discovered.token_endpoint_auth_methods_supported.includes('private_key_jwt'));

    const { privateKey, jwk } = await keyPair('RS256', 'rsa-1');
    const api = admin();
    const c = (await api.createOAuth2Client({ oAuth2Client: { grant_types: ['client_credentials'], scope: 'read', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } } })).data;
    assert.equal(c.token_endpoint_auth_method, 'private_key_jwt');

    const tokens = await oidc.clientCredentialsGrant(await rp(c.client_id, privateKey, 'rsa-1'), { scope: 'read' });
    assert.match(tokens.access_token, /^ory_at_/);
    const introspected = (await api.introspectOAuth2Token({ token: tokens.access_token })).data;
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, c.client_id);

    // Revocation with the same kind of authentication.
    await oidc.tokenRevocation(await rp(c.client_id, privateKey, 'rsa-1'), tokens.access_token);
    assert.equal((await api.introspectOAuth2Token({ token: tokens.access_token })).data.active, false);

    // The same jti twice: the second is refused.
    const jti = `jti-${Date.now()}`;
    await oidc.clientCredentialsGrant(await rp(c.client_id, privateKey, 'rsa-1', { jti }), {});
    await assert.rejects(oidc.clientCredentialsGrant(await rp(c.client_id, privateKey, 'rsa-1', { jti }), {}),
      (e) => e.error === 'jti_known' && e.status === 400 && /MUST only be used once/.test(e.error_description));

    // openid-client's default audience (the issuer) is not a token endpoint URL, which fosite requires.
    await assert.rejects(oidc.clientCredentialsGrant(await rp(c.client_id, privateKey, 'rsa-1', { audience: 'issuer' }), {}),
      (e) => e.error === 'invalid_client' && e.status === 401 && /must match the authorization server's token endpoint/.test(e.error_description));

    // Another key with the registered kid does not verify.
    const impostor = await keyPair('RS256', 'rsa-1');
    await assert.rejects(oidc.clientCredentialsGrant(await rp(c.client_id, impostor.privateKey, 'rsa-1'), {}),
      (e) => e.error === 'invalid_client' && /Unable to verify the integrity/.test(e.error_description));
    await api.deleteOAuth2Client({ id: c.client_id });
  });

  it('an ES256 key from jwks_uri is fetched once, cached, and fetched again when the client rotates to a new kid', async () => {
    const first = await keyPair('ES256', 'ec-1');
    served = { keys: [first.jwk] };
    const api = admin();
    const uri = `http://127.0.0.1:${jwksServer.address().port}/jwks.json`;
    const c = (await api.createOAuth2Client({ oAuth2Client: { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks_uri: uri } })).data;
    fetches = 0;
    await oidc.clientCredentialsGrant(await rp(c.client_id, first.privateKey, 'ec-1'), {});
    await oidc.clientCredentialsGrant(await rp(c.client_id, first.privateKey, 'ec-1'), {});
    assert.equal(fetches, 1);

    const second = await keyPair('ES256', 'ec-2');
    served = { keys: [first.jwk, second.jwk] };
    await oidc.clientCredentialsGrant(await rp(c.client_id, second.privateKey, 'ec-2'), {});
    assert.equal(fetches, 2);

    // An RS256 assertion for a client that enforces ES256.
    const rsa = await keyPair('RS256', 'ec-2');
    await assert.rejects(oidc.clientCredentialsGrant(await rp(c.client_id, rsa.privateKey, 'ec-2'), {}),
      (e) => e.error === 'invalid_client' && /enforces signing algorithm 'ES256'/.test(e.error_description));
    await api.deleteOAuth2Client({ id: c.client_id });
  });

  it('an expired assertion signed with jose is invalid_client, not a server error', async () => {
    const { privateKey, jwk } = await keyPair('PS256', 'ps-1');
    const api = admin();
    const c = (await api.createOAuth2Client({ oAuth2Client: { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'PS256', jwks: { keys: [jwk] } } })).data;
    const tokenUrl = `${gatehouse().publicUrl}/oauth2/token`;
    const sign = (exp) => new jose.SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'PS256', kid: 'ps-1' })
      .setIssuer(c.client_id).setSubject(c.client_id).setAudience(tokenUrl).setIssuedAt().setExpirationTime(exp).sign(privateKey);
    const post = async (assertion) => fetch(tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    const ok = await post(await sign('2m'));
    assert.equal(ok.status, 200);
    const expired = await post(await sign(Math.floor(Date.now() / 1000) - 60));
    assert.equal(expired.status, 401);
    assert.equal((await expired.json()).error, 'invalid_client');
    await api.deleteOAuth2Client({ id: c.client_id });
  });
});

describe(`OAuth2 JWT access tokens (${database})`, () => {
  it('a client with access_token_strategy jwt gets a JWT that jose verifies against the JWKS; OAuth2Api introspects and it revokes', async () => {
    const api = admin();
    const base = gatehouse().publicUrl;
    const c = (await api.createOAuth2Client({ oAuth2Client: { grant_types: ['client_credentials'], scope: 'read', audience: ['https://api.example'], access_token_strategy: 'jwt' } })).data;
    assert.equal(c.access_token_strategy, 'jwt');
    const config = await oidc.discovery(new URL(base), c.client_id, undefined, oidc.ClientSecretBasic(c.client_secret), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read', audience: 'https://api.example' });

    const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri), { [jose.customFetch]: fetch });
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks, { issuer: `${base}/`, audience: 'https://api.example' });
    assert.equal(protectedHeader.typ, 'JWT');
    assert.deepEqual(Object.keys(payload), ['aud', 'client_id', 'exp', 'ext', 'iat', 'iss', 'jti', 'nbf', 'scp', 'sub']);
    assert.equal(payload.client_id, c.client_id);
    assert.equal(payload.sub, c.client_id);
    assert.deepEqual(payload.scp, ['read']);
    assert.equal(payload.exp - payload.iat, 3600);

    const introspected = (await api.introspectOAuth2Token({ token: tokens.access_token })).data;
    assert.equal(introspected.active, true);
    assert.equal(introspected.scope, 'read');
    await oidc.tokenRevocation(config, tokens.access_token);
    assert.equal((await api.introspectOAuth2Token({ token: tokens.access_token })).data.active, false);
    await api.deleteOAuth2Client({ id: c.client_id });
  });
});

describe(`OAuth2 JWT-bearer grant (${database})`, () => {
  it('OAuth2Api trusts an issuer; openid-client exchanges a jose-signed assertion once; scope and issuer are checked; the trust is listed and deleted', async () => {
    const api = admin();
    const base = gatehouse().publicUrl;
    const issuer = `https://idp-${Date.now()}.example`;
    const { privateKey, jwk } = await keyPair('ES256', 'idp-key');
    const trust = (await api.trustOAuth2JwtGrantIssuer({ trustOAuth2JwtGrantIssuer: {
      issuer, subject: 'alice', scope: ['read', 'photos.*'], jwk, expires_at: new Date(Date.now() + 3600_000).toISOString(),
    } })).data;
    assert.equal(trust.issuer, issuer);
    assert.deepEqual(trust.public_key, { set: issuer, kid: 'idp-key' });
    assert.equal((await api.getTrustedOAuth2JwtGrantIssuer({ id: trust.id })).data.id, trust.id);
    const listed = (await api.listTrustedOAuth2JwtGrantIssuers({ issuer })).data;
    assert.deepEqual(listed.map((t) => t.id), [trust.id]);

    const grantType = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
    const c = (await api.createOAuth2Client({ oAuth2Client: { grant_types: [grantType], scope: 'read' } })).data;
    const config = await oidc.discovery(new URL(base), c.client_id, undefined, oidc.ClientSecretBasic(c.client_secret), { execute: [oidc.allowInsecureRequests] });
    const sign = (sub, iss = issuer) => new jose.SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'idp-key' })
      .setIssuer(iss).setSubject(sub).setAudience(`${base}/oauth2/token`).setIssuedAt().setExpirationTime('5m').sign(privateKey);

    const assertion = await sign('alice');
    const tokens = await oidc.genericGrantRequest(config, grantType, { assertion, scope: 'read photos.view' });
    assert.match(tokens.access_token, /^ory_at_/);
    assert.equal(tokens.scope, 'read photos.view');
    const introspected = (await api.introspectOAuth2Token({ token: tokens.access_token })).data;
    assert.equal(introspected.sub, 'alice');
    assert.equal(introspected.client_id, c.client_id);

    await assert.rejects(oidc.genericGrantRequest(config, grantType, { assertion }), (e) => e.error === 'jti_known' && e.status === 400);
    await assert.rejects(oidc.genericGrantRequest(config, grantType, { assertion: await sign('alice'), scope: 'admin' }), (e) => e.error === 'invalid_scope');
    await assert.rejects(oidc.genericGrantRequest(config, grantType, { assertion: await sign('mallory') }), (e) => e.error === 'invalid_grant' && /No public JWK was registered/.test(e.error_description));
    await assert.rejects(oidc.genericGrantRequest(config, grantType, { assertion: await sign('alice', 'https://unknown.example') }), (e) => e.error === 'invalid_grant');

    await api.deleteTrustedOAuth2JwtGrantIssuer({ id: trust.id });
    await assert.rejects(api.getTrustedOAuth2JwtGrantIssuer({ id: trust.id }), (e) => e.response?.status === 404);
    await assert.rejects(oidc.genericGrantRequest(config, grantType, { assertion: await sign('alice') }), (e) => e.error === 'invalid_grant');
    await api.deleteOAuth2Client({ id: c.client_id });
  });
});
