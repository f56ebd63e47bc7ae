// The checks of the OpenID Foundation's basic OP certification plan (oidcc-basic-certification-test-plan; see
// ../shared/reference/hydra/conformance.md) that can run offline, against the real process. The client side is panva's
// oauth4webapi, which validates every response strictly (discovery issuer, state, ID-token claims: iss, aud, exp, iat,
// nonce, auth_time with max_age, userinfo subject); jose checks the ID-token signature against the published JWKS. A small
// real login/consent app drives Hydra's challenge protocol through @ory/client's OAuth2Api and remembers logins and
// consents, so prompt/max_age/id_token_hint behave as with a real login UI. Each `it` names the plan's test module.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { browse, browseToFormPost } from './lib/oauth2-browser.mjs';

const seen = []; // every login request the app was shown
let app;
let appUrl;
before(async () => {
  app = createServer(async (req, res) => {
    const url = new URL(req.url, appUrl);
    const api = new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));
    try {
      let redirect;
      if (url.pathname === '/login') {
        const loginChallenge = url.searchParams.get('login_challenge');
        const request = (await api.getOAuth2LoginRequest({ loginChallenge })).data;
        seen.push(request);
        // A remembered login is accepted for its subject; a new one signs in as the login_hint (or conf-user).
        const subject = request.skip ? request.subject : (request.oidc_context?.login_hint || 'conf-user');
        redirect = (await api.acceptOAuth2LoginRequest({ loginChallenge, acceptOAuth2LoginRequest: { subject, remember: true, remember_for: 0, acr: '1' } })).data.redirect_to;
      } else if (url.pathname === '/consent') {
        const consentChallenge = url.searchParams.get('consent_challenge');
        const request = (await api.getOAuth2ConsentRequest({ consentChallenge })).data;
        // The claims a consent app copies from its user store, by granted scope (OpenID Connect Core §5.4).
        const scopes = request.requested_scope;
        const idToken = {
          ...(scopes.includes('profile') ? { name: 'Conformance User', preferred_username: 'conf' } : {}),
          ...(scopes.includes('email') ? { email: 'conf@example.com', email_verified: true } : {}),
          ...(scopes.includes('phone') ? { phone_number: '+4917612345678', phone_number_verified: false } : {}),
          ...(scopes.includes('address') ? { address: { country: 'DE' } } : {}),
        };
        redirect = (await api.acceptOAuth2ConsentRequest({
          consentChallenge,
          acceptOAuth2ConsentRequest: { grant_scope: scopes, remember: true, remember_for: 0, session: { id_token: idToken } },
        })).data.redirect_to;
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('callback');
        return;
      }
      res.writeHead(302, { location: redirect }).end();
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${app.address().port}`;
});
after(() => new Promise((resolve) => app.close(resolve)));

const gatehouse = useGatehouse({ urls: () => ({ login: `${appUrl}/login`, consent: `${appUrl}/consent` }) });
const admin = () => new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));
const insecure = { [oauth.allowInsecureRequests]: true };

let as; // the discovered authorization server
let client;
let clientAuth;
let callback;
let jwks;

/** An authorization URL with PKCE, state and nonce (the basic plan's defaults), plus `extra` parameters. */
async function authorization(extra = {}) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  const params = {
    client_id: client.client_id, redirect_uri: callback, response_type: 'code', scope: 'openid', state, nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return { url, verifier, state, nonce: params.nonce };
}

/** Code → tokens through oauth4webapi's strict checks; the ID token's signature is checked with jose on top. */
async function exchange(back, { verifier, state, nonce }, options = {}) {
  const params = oauth.validateAuthResponse(as, client, back, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, callback, verifier, insecure);
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce ?? oauth.expectNoNonce, requireIdToken: true, ...options });
  await jose.jwtVerify(result.id_token, jwks, { issuer: as.issuer, audience: client.client_id });
  return { result, claims: oauth.getValidatedIdTokenClaims(result) };
}

async function signIn(jar, extra = {}) {
  const a = await authorization(extra);
  return { ...(await exchange(await browse(a.url, callback, jar), a, extra.max_age ? { maxAge: Number(extra.max_age) } : {})), a };
}

describe(`OpenID Connect basic OP checks (${database})`, () => {
  // Inside the suite: the file-level hooks (login app, server) have run by then.
  before(async () => {
    const issuer = new URL(`${gatehouse().publicUrl}/`);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }));
    callback = `${appUrl}/callback`;
    const c = (await admin().createOAuth2Client({ oAuth2Client: { redirect_uris: [callback], scope: 'openid profile email address phone offline_access' } })).data;
    client = { client_id: c.client_id };
    clientAuth = oauth.ClientSecretBasic(c.client_secret);
    jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri));
  });

  it('oidcc-server, oidcc-idtoken-signature: discovery, code flow with client_secret_basic, a verified RS256 ID token', async () => {
    assert.equal(as.issuer, `${gatehouse().publicUrl}/`);
    assert.deepEqual(as.response_types_supported, ['code', 'code id_token', 'id_token', 'token id_token', 'token', 'token id_token code']);
    assert.deepEqual(as.response_modes_supported, ['query', 'fragment', 'form_post']);
    assert.ok(as.id_token_signing_alg_values_supported.includes('RS256'));
    const { claims, result } = await signIn(new Map());
    assert.equal(claims.sub, 'conf-user');
    assert.equal(result.token_type, 'bearer');
    const { protectedHeader } = await jose.jwtVerify(result.id_token, jwks, { issuer: as.issuer, audience: client.client_id });
    assert.equal(protectedHeader.alg, 'RS256');
  });

  it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow: no nonce, no nonce claim', async () => {
    const { claims } = await signIn(new Map(), { nonce: undefined });
    assert.equal(claims.nonce, undefined);
  });

  it('oidcc-response-type-missing and unsupported response types: the error goes back to the client with the state', async () => {
    for (const responseType of [undefined, 'token', 'id_token', 'code id_token', 'code token']) {
      const a = await authorization({ response_type: responseType });
      const back = await browse(a.url, callback, new Map());
      assert.equal(back.searchParams.get('state'), a.state, responseType);
      assert.equal(back.searchParams.get('error'), 'unsupported_response_type', responseType);
      assert.throws(() => oauth.validateAuthResponse(as, client, back, a.state), (e) => e.error === 'unsupported_response_type');
    }
  });

  it('oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri is never redirected to', async () => {
    const a = await authorization({ redirect_uri: `${appUrl}/elsewhere` });
    const res = await fetch(a.url, { redirect: 'manual' });
    // Hydra's conformance run expects its error page here (test/conformance/config.json: /oauth2/fallbacks/error).
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location'));
    assert.equal(location.pathname, '/oauth2/fallbacks/error');
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(await (await fetch(location)).text(), /The OAuth2 request resulted in an error\./);
  });

  it('oidcc-userinfo-get, -post-header, -post-body: the same claims for the access token however it is sent', async () => {
    const { result, claims } = await signIn(new Map(), { scope: 'openid email' });
    const viaGet = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, result.access_token, insecure));
    assert.equal(viaGet.email, 'conf@example.com');
    const postHeader = await fetch(as.userinfo_endpoint, { method: 'POST', headers: { authorization: `Bearer ${result.access_token}` } });
    assert.deepEqual(await oauth.processUserInfoResponse(as, client, claims.sub, postHeader), viaGet);
    const postBody = await fetch(as.userinfo_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: result.access_token }) });
    assert.deepEqual(await oauth.processUserInfoResponse(as, client, claims.sub, postBody), viaGet);
    // RFC 6750 2.3: fosite also reads access_token from the query.
    const inQuery = await fetch(`${as.userinfo_endpoint}?access_token=${encodeURIComponent(result.access_token)}`);
    assert.deepEqual(await oauth.processUserInfoResponse(as, client, claims.sub, inQuery), viaGet);
  });

  it('oidcc-scope-profile, -email, -address, -phone, -all: the granted scopes\' claims in the ID token and userinfo', async () => {
    const { result, claims } = await signIn(new Map(), { scope: 'openid profile email address phone' });
    assert.equal(result.scope, 'openid profile email address phone');
    for (const [claim, value] of [['name', 'Conformance User'], ['email', 'conf@example.com'], ['phone_number', '+4917612345678']]) {
      assert.equal(claims[claim], value);
    }
    assert.deepEqual(claims.address, { country: 'DE' });
    const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, result.access_token, insecure));
    assert.equal(info.email_verified, true);
    assert.deepEqual(info.address, { country: 'DE' });
  });

  it('oidcc-display-page/-popup, -ui-locales, -claims-locales, -login-hint, -acr-values, unknown parameter: accepted and passed to the login app', async () => {
    seen.length = 0;
    await signIn(new Map(), { display: 'popup', ui_locales: 'de en', claims_locales: 'de', login_hint: 'hinted-user', acr_values: '1 2', foo: 'bar' });
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0].oidc_context, { acr_values: ['1', '2'], ui_locales: ['de', 'en'], display: 'popup', login_hint: 'hinted-user' });
    await signIn(new Map(), { display: 'page' });
  });

  it('oidcc-prompt-login, oidcc-prompt-none-logged-in, oidcc-prompt-none-not-logged-in', async () => {
    const none = await authorization({ prompt: 'none' });
    const refused = await browse(none.url, callback, new Map());
    assert.equal(refused.searchParams.get('error'), 'login_required');
    assert.equal(refused.searchParams.get('state'), none.state);

    const jar = new Map();
    const first = await signIn(jar);
    seen.length = 0;
    const silent = await signIn(jar, { prompt: 'none' });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].skip, true);
    assert.equal(silent.claims.sub, first.claims.sub);
    assert.equal(silent.claims.auth_time, first.claims.auth_time);

    seen.length = 0;
    const again = await signIn(jar, { prompt: 'login' });
    assert.equal(seen[0].skip, false);
    assert.ok(again.claims.auth_time >= first.claims.auth_time);
  });

  it('oidcc-max-age-1 / -10000: a login older than max_age asks again; a young enough one is reused; auth_time is in the ID token', async () => {
    const jar = new Map();
    await signIn(jar);
    seen.length = 0;
    const reused = await signIn(jar, { max_age: '10000' });
    assert.equal(seen[0].skip, true);
    assert.equal(typeof reused.claims.auth_time, 'number');
    // max_age=0 is the offline stand-in for the plan's max_age=1 plus a wait: every remembered login is too old.
    seen.length = 0;
    const fresh = await signIn(jar, { max_age: '0' });
    assert.equal(seen[0].skip, false);
    assert.equal(typeof fresh.claims.auth_time, 'number');
  });

  it('oidcc-id-token-hint: a hint of the logged-in user is shown to the login app and works with prompt=none', async () => {
    const jar = new Map();
    const first = await signIn(jar);
    seen.length = 0;
    const hinted = await signIn(jar, { prompt: 'none', id_token_hint: first.result.id_token });
    assert.equal(hinted.claims.sub, first.claims.sub);
    assert.equal(seen[0].oidc_context.id_token_hint_claims.sub, first.claims.sub);
  });

  it('oidcc-codereuse(-30seconds): a code works once; its second use fails and revokes the access token it gave', async () => {
    const a = await authorization();
    const back = await browse(a.url, callback, new Map());
    const params = oauth.validateAuthResponse(as, client, back, a.state);
    const first = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, callback, a.verifier, insecure), { expectedNonce: a.nonce, requireIdToken: true });
    const second = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, callback, a.verifier, insecure);
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, second, { expectedNonce: a.nonce }), (e) => e.error === 'invalid_grant');
    assert.equal((await admin().introspectOAuth2Token({ token: first.access_token })).data.active, false);
  });

  it('PKCE: a missing or mismatched code_verifier is invalid_grant', async () => {
    for (const verifier of [oauth.nopkce, oauth.generateRandomCodeVerifier()]) {
      const a = await authorization();
      const params = oauth.validateAuthResponse(as, client, await browse(a.url, callback, new Map()), a.state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, callback, verifier, insecure);
      await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: a.nonce }), (e) => e.error === 'invalid_grant');
    }
  });

  it('oidcc-ensure-post-request-succeeds: the authorization request as a form POST', async () => {
    const a = await authorization();
    const body = new URLSearchParams(a.url.searchParams);
    const back = await browse(as.authorization_endpoint, callback, new Map(), { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const { claims } = await exchange(back, a);
    assert.equal(claims.sub, 'conf-user');
  });

  it('oidcc-formpost-basic: the code flow with response_mode=form_post, the posted answer validated by oauth4webapi', async () => {
    const a = await authorization({ response_mode: 'form_post' });
    const posted = await browseToFormPost(a.url);
    assert.equal(posted.url, callback);
    const { claims } = await exchange(new URLSearchParams(await posted.text()), a);
    assert.equal(claims.sub, 'conf-user');
  });

  it('oidcc-hybrid (code id_token): c_hash, nonce and state checked by oauth4webapi, in the fragment and as form_post', async () => {
    const c = (await admin().createOAuth2Client({ oAuth2Client: { redirect_uris: [callback], scope: 'openid', response_types: ['code id_token'] } })).data;
    const hybrid = { client_id: c.client_id };
    const auth = oauth.ClientSecretBasic(c.client_secret);
    for (const mode of [undefined, 'form_post']) {
      const a = await authorization({ response_type: 'code id_token', response_mode: mode });
      a.url.searchParams.set('client_id', c.client_id);
      const answer = mode ? await browseToFormPost(a.url) : await browse(a.url, callback, new Map());
      if (!mode) assert.ok(answer.hash.includes('id_token='), 'the fragment carries the ID token');
      const params = await oauth.validateCodeIdTokenResponse(as, hybrid, answer, a.nonce, a.state, undefined, insecure);
      const response = await oauth.authorizationCodeGrantRequest(as, hybrid, auth, params, callback, a.verifier, insecure);
      const result = await oauth.processAuthorizationCodeResponse(as, hybrid, response, { expectedNonce: a.nonce, requireIdToken: true });
      await jose.jwtVerify(result.id_token, jwks, { issuer: as.issuer, audience: c.client_id });
      assert.equal(oauth.getValidatedIdTokenClaims(result).sub, 'conf-user');
    }
    // Without a nonce the hybrid flow is refused, in the fragment, with the state.
    const a = await authorization({ response_type: 'code id_token', nonce: undefined });
    a.url.searchParams.set('client_id', c.client_id);
    const back = await browse(a.url, callback, new Map());
    const error = new URLSearchParams(back.hash.slice(1));
    assert.equal(error.get('error'), 'invalid_request');
    assert.equal(error.get('state'), a.state);
  });

  it('claims request parameter: not supported (claims_parameter_supported false) and ignored, as Hydra does', async () => {
    assert.equal(as.claims_parameter_supported, false);
    const { claims } = await signIn(new Map(), { claims: JSON.stringify({ id_token: { email: { essential: true } } }) });
    assert.equal(claims.email, undefined);
  });
});
