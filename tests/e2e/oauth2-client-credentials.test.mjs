// Client credentials with an independent client (openid-client, pinned in package.json) against the real process;
// introspection and token deletion through @ory/client's OAuth2Api.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';

const gatehouse = useGatehouse();

function admin() {
  return new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));
}

/** openid-client configured by hand (discovery is not served yet) with client_secret_basic or client_secret_post. */
function rp(clientId, secret, auth = 'basic') {
  const base = gatehouse().publicUrl;
  const config = new oidc.Configuration(
    { issuer: `${base}/`, token_endpoint: `${base}/oauth2/token`, revocation_endpoint: `${base}/oauth2/revoke` },
    clientId,
    undefined,
    auth === 'basic' ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret),
  );
  oidc.allowInsecureRequests(config);
  return config;
}

describe(`OAuth2 client credentials (${database})`, () => {
  it('openid-client gets an ory_at_ token that OAuth2Api introspects, revokes it, and deleteOAuth2Token removes the rest', async () => {
    const api = admin();
    const c = (await api.createOAuth2Client({ oAuth2Client: { grant_types: ['client_credentials'], scope: 'read write', audience: ['https://api.example'] } })).data;

    const tokens = await oidc.clientCredentialsGrant(rp(c.client_id, c.client_secret), { scope: 'read', audience: 'https://api.example' });
    assert.match(tokens.access_token, /^ory_at_/);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'read');
    assert.equal(tokens.expires_in, 3600);

    const introspected = (await api.introspectOAuth2Token({ token: tokens.access_token })).data;
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, c.client_id);
    assert.equal(introspected.sub, c.client_id);
    assert.deepEqual(introspected.aud, ['https://api.example']);
    assert.equal(introspected.token_use, 'access_token');
    assert.equal((await api.introspectOAuth2Token({ token: tokens.access_token, scope: 'write' })).data.active, false);

    await oidc.tokenRevocation(rp(c.client_id, c.client_secret), tokens.access_token);
    assert.equal((await api.introspectOAuth2Token({ token: tokens.access_token })).data.active, false);

    const second = await oidc.clientCredentialsGrant(rp(c.client_id, c.client_secret), { scope: 'write' });
    assert.equal((await api.deleteOAuth2Token({ clientId: c.client_id })).status, 204);
    assert.equal((await api.introspectOAuth2Token({ token: second.access_token })).data.active, false);
    await api.deleteOAuth2Client({ id: c.client_id });
  });

  it('wrong secret, wrong auth method and a disallowed scope are refused with RFC 6749 errors', async () => {
    const api = admin();
    const c = (await api.createOAuth2Client({ oAuth2Client: { grant_types: ['client_credentials'], scope: 'read' } })).data;
    await assert.rejects(oidc.clientCredentialsGrant(rp(c.client_id, 'wrong-secret'), {}), (e) => e.error === 'invalid_client' && e.status === 401);
    await assert.rejects(oidc.clientCredentialsGrant(rp(c.client_id, c.client_secret, 'post'), {}), (e) => e.error === 'invalid_client');
    await assert.rejects(oidc.clientCredentialsGrant(rp(c.client_id, c.client_secret), { scope: 'admin' }), (e) => e.error === 'invalid_scope' && e.status === 400);
    await api.deleteOAuth2Client({ id: c.client_id });
  });
});
