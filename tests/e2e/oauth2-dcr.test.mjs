// OpenID Connect Dynamic Client Registration against the real process: @ory/client's OidcApi (create, get, set, delete
// with the registration access token) and openid-client's dynamicClientRegistration (discovery, registration, then a
// token request with the registered credentials). A second server with registration off answers Hydra's 404.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Configuration, OAuth2Api, OidcApi } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';

const gatehouse = useGatehouse({ extraConfig: { oidc: { dynamic_client_registration: { enabled: true, default_scope: ['openid', 'offline_access', 'read'] } } } });
const disabled = useGatehouse();

/** OidcApi without credentials (registration is anonymous) or with a registration access token. */
function oidcApi(server, token) {
  return new OidcApi(new Configuration({ basePath: server.publicUrl, ...(token ? { accessToken: token } : {}) }));
}

function admin(server) {
  return new OAuth2Api(new Configuration({ basePath: server.publicUrl, accessToken: server.key }));
}

async function rejectsWith(promise, status, error, description) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.response?.status, status, JSON.stringify(e.response?.data));
    if (error) assert.equal(e.response.data.error, error);
    if (description) assert.equal(e.response.data.error_description, description);
    return true;
  });
}

const unauthorized = 'The requested OAuth 2.0 client does not exist or you provided incorrect credentials.';

describe(`OpenID Connect Dynamic Client Registration (${database})`, () => {
  it('OidcApi registers a client, reads it with its registration token, rotates the token with set and deletes it', async () => {
    const g = gatehouse();
    const created = await oidcApi(g).createOidcDynamicClient({
      oAuth2Client: { client_name: 'Third-party app', redirect_uris: ['https://rp.example/cb'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
    });
    assert.equal(created.status, 201);
    const c = created.data;
    assert.match(c.client_id, /^[0-9a-f-]{36}$/);
    assert.equal(c.client_secret.length, 26);
    assert.match(c.registration_access_token, /^ory_at_/);
    assert.equal(c.registration_client_uri, `${g.publicUrl}/oauth2/register/${c.client_id}`);
    assert.equal(c.scope, 'openid offline_access read');
    assert.equal(c.token_endpoint_auth_method, 'client_secret_basic');

    const got = (await oidcApi(g, c.registration_access_token).getOidcDynamicClient({ id: c.client_id })).data;
    assert.equal(got.client_name, 'Third-party app');
    assert.equal(got.client_secret, undefined);
    assert.equal(got.registration_access_token, undefined);
    assert.deepEqual(got.redirect_uris, ['https://rp.example/cb']);

    // Wrong, missing and another client's tokens: 401 in Hydra's OAuth2 error JSON.
    const other = (await oidcApi(g).createOidcDynamicClient({ oAuth2Client: { client_name: 'other' } })).data;
    await rejectsWith(oidcApi(g, other.registration_access_token).getOidcDynamicClient({ id: c.client_id }), 401, 'The request could not be authorized', unauthorized);
    await rejectsWith(oidcApi(g).getOidcDynamicClient({ id: c.client_id }), 401, 'The request could not be authorized', unauthorized);
    await rejectsWith(oidcApi(g, 'ory_at_wrong').deleteOidcDynamicClient({ id: c.client_id }), 401);
    await rejectsWith(oidcApi(g, g.key).getOidcDynamicClient({ id: c.client_id }), 401);

    // set: new metadata, a new registration token; the old token is dead.
    const set = (await oidcApi(g, c.registration_access_token).setOidcDynamicClient({
      id: c.client_id,
      oAuth2Client: { client_name: 'Renamed app', redirect_uris: ['https://rp.example/cb', 'https://rp.example/cb2'] },
    })).data;
    assert.equal(set.client_name, 'Renamed app');
    assert.equal(set.client_secret, undefined);
    assert.match(set.registration_access_token, /^ory_at_/);
    assert.notEqual(set.registration_access_token, c.registration_access_token);
    await rejectsWith(oidcApi(g, c.registration_access_token).getOidcDynamicClient({ id: c.client_id }), 401);
    const fresh = oidcApi(g, set.registration_access_token);
    assert.deepEqual((await fresh.getOidcDynamicClient({ id: c.client_id })).data.redirect_uris, ['https://rp.example/cb', 'https://rp.example/cb2']);
    await rejectsWith(fresh.setOidcDynamicClient({ id: c.client_id, oAuth2Client: { client_secret: 'chosen-secret' } }), 403, 'The requested action was forbidden');

    // The admin API sees the same client, without any registration fields.
    const viaAdmin = (await admin(g).getOAuth2Client({ id: c.client_id })).data;
    assert.equal(viaAdmin.client_name, 'Renamed app');
    assert.equal(viaAdmin.registration_access_token, undefined);

    assert.equal((await fresh.deleteOidcDynamicClient({ id: c.client_id })).status, 204);
    await rejectsWith(fresh.getOidcDynamicClient({ id: c.client_id }), 401, 'The request could not be authorized', unauthorized);
    await rejectsWith(admin(g).getOAuth2Client({ id: c.client_id }), 404);
  });

  it('refuses what only the admin API may set, and invalid metadata, storing nothing', async () => {
    const g = gatehouse();
    const owner = `dcr-e2e-${Date.now()}`;
    const api = oidcApi(g);
    await rejectsWith(api.createOidcDynamicClient({ oAuth2Client: { owner, client_secret: 'my-own-secret' } }), 400, 'The request was malformed or contained invalid parameters',
      'It is not allowed to choose your own OAuth2 Client secret.');
    await rejectsWith(api.createOidcDynamicClient({ oAuth2Client: { owner, metadata: { tier: 'gold' } } }), 400, 'invalid_client_metadata');
    await rejectsWith(api.createOidcDynamicClient({ oAuth2Client: { owner, skip_consent: true } }), 400, 'invalid_request',
      "'skip_consent' cannot be set for dynamic client registration");
    await rejectsWith(api.createOidcDynamicClient({ oAuth2Client: { owner, access_token_strategy: 'jwt' } }), 400);
    await rejectsWith(api.createOidcDynamicClient({ oAuth2Client: { owner, redirect_uris: ['https://rp.example/cb#x'] } }), 400, 'invalid_redirect_uri');
    await rejectsWith(api.createOidcDynamicClient({ oAuth2Client: { owner, subject_type: 'pairwise' } }), 400, 'invalid_client_metadata');
    assert.deepEqual((await admin(g).listOAuth2Clients({ owner })).data, []);
  });

  it('openid-client discovers the registration endpoint, registers and uses the registered credentials', async () => {
    const g = gatehouse();
    const config = await oidc.dynamicClientRegistration(
      new URL(g.publicUrl),
      { client_name: 'openid-client', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', scope: 'read' },
      undefined,
      { execute: [oidc.allowInsecureRequests] },
    );
    assert.equal(config.serverMetadata().registration_endpoint, `${g.publicUrl}/oauth2/register`);
    const metadata = config.clientMetadata();
    assert.match(metadata.client_id, /^[0-9a-f-]{36}$/);
    assert.match(metadata.registration_access_token, /^ory_at_/);
    assert.equal(metadata.registration_client_uri, `${g.publicUrl}/oauth2/register/${metadata.client_id}`);

    // The registered secret works at the token endpoint (openid-client's default: client_secret_post).
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read' });
    assert.match(tokens.access_token, /^ory_at_/);
    const introspected = (await admin(g).introspectOAuth2Token({ token: tokens.access_token })).data;
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, metadata.client_id);

    // The registration_client_uri is managed with the registration access token (RFC 7592 style).
    const read = await fetch(metadata.registration_client_uri, { headers: { Authorization: `Bearer ${metadata.registration_access_token}` } });
    assert.equal(read.status, 200);
    assert.equal((await read.json()).client_name, 'openid-client');
    const gone = await fetch(metadata.registration_client_uri, { method: 'DELETE', headers: { Authorization: `Bearer ${metadata.registration_access_token}` } });
    assert.equal(gone.status, 204);
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'read' }), (e) => e.error === 'invalid_client');
  });

  it('with registration off, every route is Hydra 404 and discovery has no registration_endpoint', async () => {
    const d = disabled();
    await rejectsWith(oidcApi(d).createOidcDynamicClient({ oAuth2Client: { client_name: 'x' } }), 404, 'The requested resource could not be found', 'Dynamic registration is not enabled.');
    await rejectsWith(oidcApi(d, 'ory_at_x').getOidcDynamicClient({ id: 'x' }), 404, undefined, 'Dynamic registration is not enabled.');
    const discovery = await (await fetch(`${d.publicUrl}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.registration_endpoint, undefined);
    await assert.rejects(oidc.dynamicClientRegistration(new URL(d.publicUrl), { client_name: 'x' }, undefined, { execute: [oidc.allowInsecureRequests] }));
  });
});
