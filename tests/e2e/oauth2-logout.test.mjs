// OpenID Connect RP-initiated and back-channel logout against the real process: openid-client signs in through a
// login/consent/logout app that drives Hydra's challenges with @ory/client's OAuth2Api, then logs out with
// buildEndSessionUrl (id_token_hint, post_logout_redirect_uri, state); a real local HTTP receiver gets the back-channel
// logout_token, which `jose` verifies against /.well-known/jwks.json.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import { access, constants } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { browse } from './lib/oauth2-browser.mjs';

let app;
let appUrl;
const appErrors = [];
const logoutRequests = [];
const loginRequests = [];
const frontChannelHits = [];

const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

// The back-channel receiver: records every request and answers 200.
let receiver;
let receiverUrl;
const received = [];
let notify = () => {};

before(async () => {
  app = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, appUrl);
      const api = new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));
      let redirect;
      if (url.pathname === '/login') {
        const loginChallenge = url.searchParams.get('login_challenge');
        const request = (await api.getOAuth2LoginRequest({ loginChallenge })).data;
        loginRequests.push(request);
        // Remembered, so that the login session (sid) outlives the authorization request and can be logged out.
        redirect = (await api.acceptOAuth2LoginRequest({ loginChallenge, acceptOAuth2LoginRequest: { subject: 'e2e-logout-user', remember: true, remember_for: 3600 } })).data.redirect_to;
      } else if (url.pathname === '/consent') {
        const consentChallenge = url.searchParams.get('consent_challenge');
        const request = (await api.getOAuth2ConsentRequest({ consentChallenge })).data;
        redirect = (await api.acceptOAuth2ConsentRequest({ consentChallenge, acceptOAuth2ConsentRequest: { grant_scope: request.requested_scope } })).data.redirect_to;
      } else if (url.pathname === '/logout') {
        const logoutChallenge = url.searchParams.get('logout_challenge');
        logoutRequests.push((await api.getOAuth2LogoutRequest({ logoutChallenge })).data);
        redirect = (await api.acceptOAuth2LogoutRequest({ logoutChallenge })).data.redirect_to;
      } else {
        if (url.pathname === '/frontchannel') frontChannelHits.push(Object.fromEntries(url.searchParams));
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><title>ok</title><p>ok</p>');
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

  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      received.push({ method: req.method, path: req.url, contentType: req.headers['content-type'], body });
      res.writeHead(200).end();
      notify();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
});
after(async () => {
  await new Promise((resolve) => app.close(resolve));
  await new Promise((resolve) => receiver.close(resolve));
});

const gatehouse = useGatehouse({ urls: () => ({ login: `${appUrl}/login`, consent: `${appUrl}/consent`, logout: `${appUrl}/logout` }) });
const admin = () => new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));

/** Waits (bounded) until the receiver got a request to `path`. */
async function receivedAt(path, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = received.find((r) => r.path === path);
    if (hit) return hit;
    await new Promise((resolve) => { notify = resolve; setTimeout(resolve, 250); });
  }
  throw new Error(`no back-channel logout request at ${path}`);
}

describe(`OAuth2 logout (${database})`, () => {
  it('openid-client logs out at the end-session endpoint; the back-channel receiver gets a logout_token that verifies against the JWKS', async () => {
    const callback = `${appUrl}/callback`;
    const loggedOut = `${appUrl}/logged-out`;
    const c = (await admin().createOAuth2Client({
      oAuth2Client: {
        redirect_uris: [callback], post_logout_redirect_uris: [loggedOut], scope: 'openid',
        backchannel_logout_uri: `${receiverUrl}/backchannel`, backchannel_logout_session_required: true,
      },
    })).data;
    const config = await oidc.discovery(new URL(gatehouse().publicUrl), c.client_id, undefined, oidc.ClientSecretBasic(c.client_secret), { execute: [oidc.allowInsecureRequests] });
    const metadata = config.serverMetadata();
    assert.equal(metadata.end_session_endpoint, `${gatehouse().publicUrl}/oauth2/sessions/logout`);
    assert.equal(metadata.backchannel_logout_supported, true);
    assert.equal(metadata.backchannel_logout_session_supported, true);
    assert.equal(metadata.frontchannel_logout_supported, true);

    const jar = new Map();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const back = await browse(oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback, scope: 'openid', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }), callback, jar);
    const tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state });
    const { sid, sub } = tokens.claims();
    assert.ok(sid);
    assert.ok(jar.has('ory_hydra_session'));

    // An unregistered post_logout_redirect_uri is refused with Hydra's error (to urls.error, by default its fallback page), not followed.
    const refused = await fetch(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: 'https://evil.example/bye' }), { redirect: 'manual' });
    assert.equal(refused.status, 302);
    const error = new URL(refused.headers.get('location'));
    assert.equal(`${error.origin}${error.pathname}`, `${gatehouse().publicUrl}/oauth2/fallbacks/error`);
    assert.equal(error.searchParams.get('error'), 'invalid_request');
    assert.match(error.searchParams.get('error_description'), /post_logout_redirect_uri is not a whitelisted/);

    const logoutState = oidc.randomState();
    const done = await browse(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: loggedOut, state: logoutState }), loggedOut, jar);
    assert.deepEqual(appErrors, []);
    assert.equal(done.searchParams.get('state'), logoutState);
    assert.equal(jar.has('ory_hydra_session'), false);
    assert.equal(logoutRequests.length, 1);
    assert.equal(logoutRequests[0].rp_initiated, true);
    assert.equal(logoutRequests[0].subject, sub);
    assert.equal(logoutRequests[0].sid, sid);
    assert.equal(logoutRequests[0].client.client_id, c.client_id);

    // The back-channel logout token: form-encoded, signed with a key of the JWKS, Hydra's claims.
    const hit = await receivedAt('/backchannel');
    assert.equal(hit.method, 'POST');
    assert.match(hit.contentType, /^application\/x-www-form-urlencoded/);
    const logoutToken = new URLSearchParams(hit.body).get('logout_token');
    const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
    const { payload, protectedHeader } = await jose.jwtVerify(logoutToken, jwks, { issuer: metadata.issuer, audience: c.client_id });
    assert.ok(protectedHeader.kid);
    assert.equal(payload.sid, sid);
    assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.ok(payload.jti && payload.iat);
    assert.equal(payload.nonce, undefined);

    // Logged out: the next authorization request is not a remembered login.
    await browse(oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback, scope: 'openid', state: oidc.randomState(), code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }), callback, jar);
    assert.equal(loginRequests.at(-1).skip, false);
  });

  it('in Chromium: the front-channel page loads the client\'s frontchannel_logout_uri with iss and sid, then goes on to the client', { skip: hasChromium ? false : `${chromiumPath} is not installed` }, async () => {
    const callback = `${appUrl}/callback`;
    const loggedOut = `${appUrl}/logged-out`;
    const c = (await admin().createOAuth2Client({
      oAuth2Client: {
        redirect_uris: [callback], post_logout_redirect_uris: [loggedOut], scope: 'openid',
        frontchannel_logout_uri: `${appUrl}/frontchannel`, frontchannel_logout_session_required: true,
      },
    })).data;
    const config = await oidc.discovery(new URL(gatehouse().publicUrl), c.client_id, undefined, oidc.ClientSecretBasic(c.client_secret), { execute: [oidc.allowInsecureRequests] });
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const page = await (await browser.newContext()).newPage();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      await page.goto(oidc.buildAuthorizationUrl(config, {
        redirect_uri: callback, scope: 'openid', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      }).toString());
      await page.waitForURL((u) => u.toString().startsWith(callback));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
      const { sid } = tokens.claims();

      const logoutState = oidc.randomState();
      await page.goto(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: loggedOut, state: logoutState }).toString());
      await page.waitForURL((u) => u.toString().startsWith(loggedOut), { timeout: 15_000 });
      assert.equal(new URL(page.url()).searchParams.get('state'), logoutState);
      assert.deepEqual(appErrors, []);
      assert.deepEqual(frontChannelHits, [{ iss: `${gatehouse().publicUrl}/`, sid }]);
    } finally {
      await browser.close();
    }
  });
});
