// The SDKs Ory publishes for self-hosted Kratos and Hydra, @ory/kratos-client and @ory/hydra-client (26.2.0, the
// versions of the reference APIs), against the real process set up as a self-hosted pair: the public and the admin
// listener apart, the admin listener without a key (`serve.admin.require_api_key: false`), as Kratos's :4434 and
// Hydra's :4445 are. These SDKs never send an admin key. The @ory/client files cover each API in depth; this one
// checks that an app written against the self-hosted SDKs works unchanged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import axios from 'axios';
import { Configuration as KratosConfiguration, FrontendApi, IdentityApi, CourierApi, MetadataApi } from '@ory/kratos-client';
import {
  Configuration as HydraConfiguration, OAuth2Api, OidcApi, JwkApi, WellknownApi, MetadataApi as HydraMetadataApi,
} from '@ory/hydra-client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { newPassword, rejection, allMessages } from './lib/frontend.mjs';
import { uniqueEmail } from './lib/sdk.mjs';
import { browse } from './lib/oauth2-browser.mjs';

/**
 * The HTTP client the SDKs are given: axios as they use it, with a failed call's method, URL and answer in its error
 * message, so that a failure says which call failed and why.
 */
const http = axios.create();
http.interceptors.response.use(undefined, (err) => {
  if (err.response) err.message = `${err.config.method.toUpperCase()} ${err.config.url}: ${err.response.status} ${JSON.stringify(err.response.data)}`;
  return Promise.reject(err);
});

// The login and consent apps and the client's callback: never requested, only reached (browse stops there).
const app = 'http://127.0.0.1:9';
const gatehouse = useGatehouse({
  adminRequiresKey: false,
  selfservice: {
    flows: {
      registration: { after: { password: { hooks: [{ hook: 'session' }] } } },
      verification: { enabled: true, use: 'code' },
      recovery: { enabled: true, use: 'code' },
    },
  },
  urls: { login: `${app}/login`, consent: `${app}/consent` },
});

describe(`@ory/kratos-client 26.2.0, self-hosted (${database})`, () => {
  const frontend = () => new FrontendApi(new KratosConfiguration({ basePath: gatehouse().publicUrl }), undefined, http);
  const identities = () => new IdentityApi(new KratosConfiguration({ basePath: gatehouse().adminUrl }), undefined, http);

  it('serves health and version on both listeners (MetadataApi)', async () => {
    for (const basePath of [gatehouse().publicUrl, gatehouse().adminUrl]) {
      const api = new MetadataApi(new KratosConfiguration({ basePath }), undefined, http);
      assert.deepEqual((await api.isAlive()).data, { status: 'ok' });
      assert.deepEqual((await api.isReady()).data, { status: 'ok' });
      assert.equal(typeof (await api.getVersion()).data.version, 'string');
    }
  });

  it('registers, signs in and out through a native app (FrontendApi), refusing a bad password with its message', async () => {
    const email = uniqueEmail('kratos-client');
    const password = newPassword();
    const { data: registration } = await frontend().createNativeRegistrationFlow();
    // A password the policy refuses: 400 with the flow and its message on the password node, nothing created.
    const refused = await rejection(frontend().updateRegistrationFlow({
      flow: registration.id, updateRegistrationFlowBody: { method: 'password', password: 'short', traits: { email } },
    }), 400);
    assert.ok(allMessages(refused).some((m) => m.id === 4000032), JSON.stringify(allMessages(refused)));
    assert.deepEqual((await identities().listIdentities({ credentialsIdentifier: email })).data, []);

    const { data: registered } = await frontend().updateRegistrationFlow({
      flow: registration.id, updateRegistrationFlowBody: { method: 'password', password, traits: { email } },
    });
    assert.equal(registered.identity.traits.email, email);
    assert.equal(typeof registered.session_token, 'string');
    const { data: session } = await frontend().toSession({ xSessionToken: registered.session_token });
    assert.equal(session.identity.id, registered.identity.id);
    assert.equal(session.authenticator_assurance_level, 'aal1');

    const { data: loginFlow } = await frontend().createNativeLoginFlow();
    const { data: login } = await frontend().updateLoginFlow({
      flow: loginFlow.id, updateLoginFlowBody: { method: 'password', identifier: email, password },
    });
    assert.equal(login.session.identity.id, registered.identity.id);
    const { data: mine } = await frontend().listMySessions({ xSessionToken: login.session_token });
    assert.deepEqual(mine.map((s) => s.id), [registered.session.id]);
    assert.equal((await frontend().disableMyOtherSessions({ xSessionToken: login.session_token })).data.count, 1);
    await rejection(frontend().toSession({ xSessionToken: registered.session_token }), 401);

    await frontend().performNativeLogout({ performNativeLogoutBody: { session_token: login.session_token } });
    // whoami's own 401, which names no error id (Kratos wraps its session lookup's error).
    const signedOut = await rejection(frontend().toSession({ xSessionToken: login.session_token }), 401);
    assert.deepEqual(signedOut, { error: { code: 401, status: 'Unauthorized', reason: 'No valid session credentials found in the request.', message: 'The request could not be authorized' } });

    // The registration asked for the address to be verified: the courier queued the mail (CourierApi).
    const courier = new CourierApi(new KratosConfiguration({ basePath: gatehouse().adminUrl }), undefined, http);
    const { data: messages } = await courier.listCourierMessages({ recipient: email });
    assert.equal(messages.length, 1);
    assert.equal(messages[0].template_type, 'verification_code_valid');
    assert.equal((await courier.getCourierMessage({ id: messages[0].id })).data.recipient, email);
  });

  it('manages identities and their sessions on the admin listener without a key (IdentityApi)', async () => {
    const email = uniqueEmail('kratos-client-admin');
    const password = newPassword();
    const { data: created } = await identities().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email, name: { first: 'Ada' } }, credentials: { password: { config: { password } } } },
    });
    const { data: fetched } = await identities().getIdentity({ id: created.id, includeCredential: ['password'] });
    assert.deepEqual(fetched.credentials.password.identifiers, [email]);
    assert.deepEqual((await identities().listIdentities({ credentialsIdentifier: email })).data.map((i) => i.id), [created.id]);
    const { data: patched } = await identities().patchIdentity({
      id: created.id, jsonPatch: [{ op: 'replace', path: '/traits/name/first', value: 'Augusta' }],
    });
    assert.equal(patched.traits.name.first, 'Augusta');
    // A patch the schema refuses is a 400 and changes nothing.
    await rejection(identities().patchIdentity({ id: created.id, jsonPatch: [{ op: 'replace', path: '/traits/email', value: 'not an address' }] }), 400);
    assert.equal((await identities().getIdentity({ id: created.id })).data.traits.email, email);

    const { data: schemas } = await identities().listIdentitySchemas();
    assert.deepEqual(schemas.map((s) => s.id), ['default']);
    assert.equal((await identities().getIdentitySchema({ id: 'default' })).data.title, 'Person');

    const { data: login } = await frontend().createNativeLoginFlow()
      .then(({ data: flow }) => frontend().updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'password', identifier: email, password } }));
    const { data: sessions } = await identities().listIdentitySessions({ id: created.id });
    assert.deepEqual(sessions.map((s) => s.id), [login.session.id]);
    assert.equal((await identities().getSession({ id: login.session.id, expand: ['Identity'] })).data.identity.id, created.id);
    await identities().disableSession({ id: login.session.id });
    await rejection(frontend().toSession({ xSessionToken: login.session_token }), 401);

    const { data: recovery } = await identities().createRecoveryCodeForIdentity({ createRecoveryCodeForIdentityBody: { identity_id: created.id } });
    assert.match(recovery.recovery_code, /^\d{6}$/);
    // The link opens the recovery UI on the flow the code belongs to (Kratos: the recovery UI URL with `flow`).
    assert.match(new URL(recovery.recovery_link).searchParams.get('flow'), /^[0-9a-f-]{36}$/);

    await identities().deleteIdentity({ id: created.id });
    const missing = await rejection(identities().getIdentity({ id: created.id }), 404);
    assert.equal(missing.error.code, 404);
  });
});

describe(`@ory/hydra-client 26.2.0, self-hosted (${database})`, () => {
  const admin = () => new OAuth2Api(new HydraConfiguration({ basePath: gatehouse().adminUrl }), undefined, http);
  /** The public OAuth2 API as a confidential client calls it: client_secret_basic. */
  const asClient = (c) => new OAuth2Api(new HydraConfiguration({ basePath: gatehouse().publicUrl, username: c.client_id, password: c.client_secret }), undefined, http);

  it('manages clients, issues and introspects a client-credentials token, and revokes it (OAuth2Api)', async () => {
    const { data: c } = await admin().createOAuth2Client({ oAuth2Client: { client_name: 'hydra-client e2e', grant_types: ['client_credentials'], scope: 'reports.read' } });
    assert.equal(typeof c.client_secret, 'string');
    assert.equal((await admin().getOAuth2Client({ id: c.client_id })).data.client_name, 'hydra-client e2e');
    assert.ok((await admin().listOAuth2Clients({ clientName: 'hydra-client e2e' })).data.some((x) => x.client_id === c.client_id));
    const { data: patched } = await admin().patchOAuth2Client({ id: c.client_id, jsonPatch: [{ op: 'replace', path: '/client_name', value: 'renamed' }] });
    assert.equal(patched.client_name, 'renamed');

    const { data: token } = await asClient(c).oauth2TokenExchange({ grantType: 'client_credentials' });
    assert.equal(token.token_type, 'bearer');
    const { data: active } = await admin().introspectOAuth2Token({ token: token.access_token });
    assert.equal(active.active, true);
    assert.equal(active.client_id, c.client_id);
    await asClient(c).revokeOAuth2Token({ token: token.access_token });
    assert.equal((await admin().introspectOAuth2Token({ token: token.access_token })).data.active, false);

    // A wrong secret: 401 invalid_client, and no token.
    const wrong = await rejection(asClient({ ...c, client_secret: 'wrong' }).oauth2TokenExchange({ grantType: 'client_credentials' }), 401);
    assert.equal(wrong.error, 'invalid_client');

    await admin().deleteOAuth2Client({ id: c.client_id });
    await rejection(admin().getOAuth2Client({ id: c.client_id }), 404);
  });

  it('runs the authorization code flow through a login and consent app that uses the admin API', async () => {
    const callback = `${app}/callback`;
    const { data: c } = await admin().createOAuth2Client({ oAuth2Client: { redirect_uris: [callback], scope: 'openid offline_access', grant_types: ['authorization_code', 'refresh_token'] } });
    const auth = new URL(`${gatehouse().publicUrl}/oauth2/auth`);
    for (const [k, v] of Object.entries({ client_id: c.client_id, response_type: 'code', redirect_uri: callback, scope: 'openid offline_access', state: 'state-of-the-e2e', nonce: 'nonce-of-the-e2e' })) auth.searchParams.set(k, v);
    const jar = new Map();

    const atLogin = await browse(auth, `${app}/login`, jar);
    const loginChallenge = atLogin.searchParams.get('login_challenge');
    const { data: loginRequest } = await admin().getOAuth2LoginRequest({ loginChallenge });
    assert.equal(loginRequest.client.client_id, c.client_id);
    assert.equal(loginRequest.skip, false);
    const { data: afterLogin } = await admin().acceptOAuth2LoginRequest({ loginChallenge, acceptOAuth2LoginRequest: { subject: 'self-hosted-user', remember: true } });

    const atConsent = await browse(afterLogin.redirect_to, `${app}/consent`, jar);
    const consentChallenge = atConsent.searchParams.get('consent_challenge');
    const { data: consentRequest } = await admin().getOAuth2ConsentRequest({ consentChallenge });
    assert.deepEqual(consentRequest.requested_scope, ['openid', 'offline_access']);
    const { data: afterConsent } = await admin().acceptOAuth2ConsentRequest({
      consentChallenge, acceptOAuth2ConsentRequest: { grant_scope: consentRequest.requested_scope, remember: true, session: { id_token: { email: 'self-hosted@example.com' } } },
    });

    const back = await browse(afterConsent.redirect_to, callback, jar);
    assert.equal(back.searchParams.get('state'), 'state-of-the-e2e');
    const { data: tokens } = await asClient(c).oauth2TokenExchange({ grantType: 'authorization_code', code: back.searchParams.get('code'), redirectUri: callback });
    assert.equal(typeof tokens.id_token, 'string');
    assert.equal(typeof tokens.refresh_token, 'string');
    const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'self-hosted-user');
    assert.equal(claims.email, 'self-hosted@example.com');
    assert.equal(claims.nonce, 'nonce-of-the-e2e');

    // The ID token verifies against the published keys (WellknownApi), as the discovery document (OidcApi) says.
    const { data: discovery } = await new OidcApi(new HydraConfiguration({ basePath: gatehouse().publicUrl }), undefined, http).discoverOidcConfiguration();
    assert.equal(discovery.jwks_uri, `${gatehouse().publicUrl}/.well-known/jwks.json`);
    const { data: jwks } = await new WellknownApi(new HydraConfiguration({ basePath: gatehouse().publicUrl }), undefined, http).discoverJsonWebKeys();
    const kid = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString()).kid;
    assert.ok(jwks.keys.some((k) => k.kid === kid), 'the ID token is signed by a published key');
    const userinfo = new OidcApi(new HydraConfiguration({ basePath: gatehouse().publicUrl, accessToken: tokens.access_token }), undefined, http);
    assert.equal((await userinfo.getOidcUserInfo()).data.sub, 'self-hosted-user');

    const { data: refreshed } = await asClient(c).oauth2TokenExchange({ grantType: 'refresh_token', refreshToken: tokens.refresh_token });
    assert.notEqual(refreshed.access_token, tokens.access_token);

    const { data: consents } = await admin().listOAuth2ConsentSessions({ subject: 'self-hosted-user' });
    assert.deepEqual(consents.map((s) => s.consent_request.client.client_id), [c.client_id]);
    await admin().revokeOAuth2ConsentSessions({ subject: 'self-hosted-user', client: c.client_id });
    assert.deepEqual((await admin().listOAuth2ConsentSessions({ subject: 'self-hosted-user' })).data, []);
    // Revoking the consent revoked its tokens.
    assert.equal((await admin().introspectOAuth2Token({ token: refreshed.access_token })).data.active, false);
  });

  it('creates, reads and deletes a JSON Web Key set, and serves health on both listeners (JwkApi, MetadataApi)', async () => {
    const jwk = new JwkApi(new HydraConfiguration({ basePath: gatehouse().adminUrl }), undefined, http);
    const { data: created } = await jwk.createJsonWebKeySet({ set: 'e2e-hydra-client', createJsonWebKeySet: { alg: 'ES256', use: 'sig', kid: 'e2e-key' } });
    assert.equal(created.keys[0].kid, 'e2e-key');
    assert.equal(created.keys[0].alg, 'ES256');
    const { data: read } = await jwk.getJsonWebKeySet({ set: 'e2e-hydra-client' });
    assert.deepEqual(read.keys.map((k) => k.kid), ['e2e-key']);
    await jwk.deleteJsonWebKeySet({ set: 'e2e-hydra-client' });
    await rejection(jwk.getJsonWebKeySet({ set: 'e2e-hydra-client' }), 404);

    for (const basePath of [gatehouse().publicUrl, gatehouse().adminUrl]) {
      const api = new HydraMetadataApi(new HydraConfiguration({ basePath }), undefined, http);
      assert.deepEqual((await api.isAlive()).data, { status: 'ok' });
      assert.equal(typeof (await api.getVersion()).data.version, 'string');
    }
  });
});
