// The authorization-code flow with PKCE against the real process, with independent, certified client software:
// openid-client (discovery, authorization URL, code exchange with PKCE/nonce/state checks and ID-token validation,
// userinfo), `jose` verifying the ID token against /.well-known/jwks.json, and a small real HTTP login/consent app that
// drives Hydra's challenge protocol through @ory/client's OAuth2Api, as a Hydra login/consent app does.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { browse } from './lib/oauth2-browser.mjs';

// The login/consent app: accepts every login as `e2e-user` (or rejects it when login_hint is "reject") and grants what
// was requested, putting the e-mail into the ID token as a real consent app copies identity traits.
let app;
let appUrl;
let appErrors = [];
before(async () => {
  app = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, appUrl);
      const api = new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));
      let redirect;
      if (url.pathname === '/login') {
        const loginChallenge = url.searchParams.get('login_challenge');
        const request = (await api.getOAuth2LoginRequest({ loginChallenge })).data;
        redirect = request.oidc_context?.login_hint === 'reject'
          ? (await api.rejectOAuth2LoginRequest({ loginChallenge, rejectOAuth2Request: { error: 'access_denied', error_description: 'The resource owner denied the request' } })).data.redirect_to
          : (await api.acceptOAuth2LoginRequest({ loginChallenge, acceptOAuth2LoginRequest: { subject: 'e2e-user', acr: 'urn:e2e:pwd', amr: ['pwd'], context: { from: 'login' } } })).data.redirect_to;
      } else if (url.pathname === '/consent') {
        const consentChallenge = url.searchParams.get('consent_challenge');
        const request = (await api.getOAuth2ConsentRequest({ consentChallenge })).data;
        assert.equal(request.subject, 'e2e-user');
        assert.deepEqual(request.context, { from: 'login' });
        redirect = (await api.acceptOAuth2ConsentRequest({
          consentChallenge,
          acceptOAuth2ConsentRequest: {
            grant_scope: request.requested_scope,
            grant_access_token_audience: request.requested_access_token_audience,
            session: { id_token: { email: 'e2e@example.com', email_verified: true }, access_token: { tier: 'gold' } },
          },
        })).data.redirect_to;
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('callback');
        return;
      }
      res.writeHead(302, { location: redirect }).end();
    } catch (err) {
      appErrors.push(err);
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${app.address().port}`;
});
after(() => new Promise((resolve) => app.close(resolve)));

const gatehouse = useGatehouse({ urls: () => ({ login: `${appUrl}/login`, consent: `${appUrl}/consent` }) });
const admin = () => new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));

async function discover(clientId, auth) {
  return oidc.discovery(new URL(gatehouse().publicUrl), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

describe(`OAuth2 authorization code + PKCE (${database})`, () => {
  it('openid-client completes the flow through the login/consent app; jose verifies the ID token; userinfo; a reused code revokes the tokens', async () => {
    const callback = `${appUrl}/callback`;
    const c = (await admin().createOAuth2Client({ oAuth2Client: { redirect_uris: [callback], scope: 'openid offline_access photos.read', audience: ['https://api.e2e'] } })).data;
    const config = await discover(c.client_id, oidc.ClientSecretBasic(c.client_secret));
    assert.equal(config.serverMetadata().authorization_endpoint, `${gatehouse().publicUrl}/oauth2/auth`);

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback, scope: 'openid photos.read', audience: 'https://api.e2e', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const back = await browse(authUrl, callback);
    const tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    assert.deepEqual(appErrors, []);
    assert.match(tokens.access_token, /^ory_at_/);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'openid photos.read');
    const claims = tokens.claims();
    assert.equal(claims.sub, 'e2e-user');
    assert.equal(claims.email, 'e2e@example.com');
    assert.equal(claims.acr, 'urn:e2e:pwd');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.nonce, nonce);

    // jose, on its own, against the published keys.
    const jwks = jose.createRemoteJWKSet(new URL(`${gatehouse().publicUrl}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, { issuer: `${gatehouse().publicUrl}/`, audience: c.client_id });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.ok(protectedHeader.kid);
    assert.equal(payload.sub, 'e2e-user');
    assert.ok(payload.sid && payload.at_hash && payload.auth_time && payload.jti);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, 'e2e-user');
    assert.equal(info.email, 'e2e@example.com');
    assert.equal(info.email_verified, true);
    assert.equal(info.nonce, undefined);

    const introspected = (await admin().introspectOAuth2Token({ token: tokens.access_token })).data;
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, 'e2e-user');
    assert.deepEqual(introspected.aud, ['https://api.e2e']);
    assert.deepEqual(introspected.ext, { tier: 'gold' });

    // The same code again: invalid_grant, and the access token it gave is revoked.
    await assert.rejects(oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }),
      (e) => e.error === 'invalid_grant' && /already been used/.test(e.error_description));
    assert.equal((await admin().introspectOAuth2Token({ token: tokens.access_token })).data.active, false);
    await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, 'e2e-user'), (e) => e.status === 401);
  });

  it('a public client (none) needs PKCE; a wrong verifier, a rejected login and an unregistered redirect URI are refused', async () => {
    const callback = `${appUrl}/callback`;
    const c = (await admin().createOAuth2Client({ oAuth2Client: { redirect_uris: [callback], scope: 'openid', token_endpoint_auth_method: 'none' } })).data;
    const config = await discover(c.client_id, oidc.None());

    // Without PKCE: the error comes back to the redirect URI.
    const state = oidc.randomState();
    const noPkce = await browse(oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid', state }), callback);
    assert.equal(noPkce.searchParams.get('error'), 'invalid_request');
    assert.equal(noPkce.searchParams.get('state'), state);
    await assert.rejects(oidc.authorizationCodeGrant(config, noPkce, { expectedState: state }), (e) => e.error === 'invalid_request');

    // With PKCE it works; a wrong verifier is invalid_grant.
    const verifier = oidc.randomPKCECodeVerifier();
    const s2 = oidc.randomState();
    const ok = await browse(oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid', state: s2, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }), callback);
    await assert.rejects(oidc.authorizationCodeGrant(config, ok, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: s2 }), (e) => e.error === 'invalid_grant');
    const tokens = await oidc.authorizationCodeGrant(config, ok, { pkceCodeVerifier: verifier, expectedState: s2 });
    assert.equal(tokens.claims().sub, 'e2e-user');

    // The login app rejects: access_denied at the client.
    const s3 = oidc.randomState();
    const denied = await browse(oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid', state: s3, login_hint: 'reject', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }), callback);
    await assert.rejects(oidc.authorizationCodeGrant(config, denied, { pkceCodeVerifier: verifier, expectedState: s3 }), (e) => e.error === 'access_denied');

    // An unregistered redirect URI is never redirected to: the error goes to urls.error, by default Hydra's fallback page.
    const evil = oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://evil.example/cb', scope: 'openid', state: s3, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const res = await fetch(evil, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const fallback = new URL(res.headers.get('location'));
    assert.equal(`${fallback.origin}${fallback.pathname}`, `${gatehouse().publicUrl}/oauth2/fallbacks/error`);
    assert.equal(fallback.searchParams.get('error'), 'invalid_request');
    const page = await fetch(fallback);
    assert.equal(page.status, 500);
    assert.match(await page.text(), /The OAuth2 request resulted in an error\./);
  });

  it('openid-client refreshes with rotation; reusing an old refresh token revokes the whole chain', async () => {
    const callback = `${appUrl}/callback`;
    const c = (await admin().createOAuth2Client({ oAuth2Client: { redirect_uris: [callback], scope: 'openid offline_access', grant_types: ['authorization_code', 'refresh_token'] } })).data;
    const config = await discover(c.client_id, oidc.ClientSecretPost(c.client_secret));
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const back = await browse(oidc.buildAuthorizationUrl(config, { redirect_uri: callback, scope: 'openid offline_access', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }), callback);
    await assert.rejects(oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state }), (e) => e.error === 'invalid_client',
      'the client authenticates with client_secret_basic (its registered method), not client_secret_post');
    const basic = await discover(c.client_id, oidc.ClientSecretBasic(c.client_secret));
    const first = await oidc.authorizationCodeGrant(basic, back, { pkceCodeVerifier: verifier, expectedState: state });
    assert.match(first.refresh_token, /^ory_rt_/);

    const second = await oidc.refreshTokenGrant(basic, first.refresh_token);
    assert.match(second.refresh_token, /^ory_rt_/);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal(second.claims().sub, 'e2e-user');
    assert.equal((await admin().introspectOAuth2Token({ token: first.access_token })).data.active, false);
    assert.equal((await admin().introspectOAuth2Token({ token: second.access_token })).data.active, true);

    await assert.rejects(oidc.refreshTokenGrant(basic, first.refresh_token), (e) => e.error === 'invalid_grant' && /The refresh token was already used\./.test(e.error_description));
    assert.equal((await admin().introspectOAuth2Token({ token: second.access_token })).data.active, false);
    assert.equal((await admin().introspectOAuth2Token({ token: second.refresh_token })).data.active, false);
    await assert.rejects(oidc.refreshTokenGrant(basic, second.refresh_token), (e) => e.error === 'invalid_grant');
  });
});
