// The authorization-code flow with PKCE through Gatehouse's own login and consent pages (no urls.login / urls.consent:
// Kratos and Hydra as one), in headless Chromium, with independent, certified client software: openid-client
// (discovery, authorization URL, code exchange with PKCE/state/nonce checks and ID-token validation, refresh, userinfo)
// and `jose` verifying the ID token against /.well-known/jwks.json. The browser fills in the real pages; nothing is
// accepted through the admin API.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import { chromium } from 'playwright-core';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { createVerifiedIdentity } from './lib/sdk.mjs';

const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

// The client's redirect URI: a real HTTP server on another port, as an app's callback is.
let app;
let callback;
before(async () => {
  app = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('callback'));
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  callback = `http://127.0.0.1:${app.address().port}/callback`;
});
after(() => new Promise((resolve) => app.close(resolve)));

const gatehouse = useGatehouse({
  selfservice: {
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
  },
});

describe(`OAuth2 through the built-in login and consent pages in Chromium (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let browser;
  let client;
  let email;
  let password;
  let identityId;

  before(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    const g = gatehouse();
    ({ id: identityId, email, password } = await createVerifiedIdentity({ basePath: g.publicUrl, accessToken: g.key }, 'oauth2'));
    const admin = new OAuth2Api(new Configuration({ basePath: g.publicUrl, accessToken: g.key }));
    client = (await admin.createOAuth2Client({
      oAuth2Client: {
        client_name: 'Photo App',
        redirect_uris: [callback],
        scope: 'openid offline_access email profile',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    })).data;
  });
  after(async () => { await browser?.close(); });

  async function start() {
    const config = await oidc.discovery(new URL(gatehouse().publicUrl), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret),
      { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback, scope: 'openid offline_access email profile', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    return { config, verifier, state, nonce, url };
  }

  /** Opens the authorization URL and signs in on the built-in login page; resolves when the consent page (or the callback) is shown. */
  async function signIn(page, url) {
    await page.goto(url.toString());
    assert.match(page.url(), /\/ui\/login\?flow=/);
    // A session signs in again ("Confirm it's you"), where the identifier is given.
    if (await page.isVisible('input[name="identifier"]')) await page.fill('input[name="identifier"]', email);
    await page.fill('input[name="password"]', password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/ui/login')), page.click('button[name="method"][value="password"]')]);
  }

  it('openid-client: login and consent pages, code + PKCE, tokens, ID token verified with jose, userinfo, refresh', async () => {
    const { config, verifier, state, nonce, url } = await start();
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await signIn(page, url);
      assert.match(page.url(), /\/ui\/consent\?consent_challenge=/);
      assert.match(await page.textContent('main'), /Photo App wants to access your account\./);
      // Grant everything but "profile".
      await page.uncheck('input[name="grant_scope"][value="profile"]');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.click('button[value="accept"]')]);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
      assert.match(tokens.access_token, /^ory_at_/);
      assert.match(tokens.refresh_token, /^ory_rt_/);
      assert.equal(tokens.scope, 'openid offline_access email');
      const claims = tokens.claims();
      assert.equal(claims.sub, identityId);
      assert.equal(claims.email, email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.name, undefined); // profile was not granted
      assert.equal(claims.acr, 'aal1');
      assert.deepEqual(claims.amr, ['password']);

      const jwks = jose.createRemoteJWKSet(new URL(`${gatehouse().publicUrl}/.well-known/jwks.json`));
      const { payload } = await jose.jwtVerify(tokens.id_token, jwks, { issuer: `${gatehouse().publicUrl}/`, audience: client.client_id });
      assert.equal(payload.sub, identityId);
      assert.equal(payload.nonce, nonce);

      const info = await oidc.fetchUserInfo(config, tokens.access_token, identityId);
      assert.equal(info.email, email);

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
      assert.equal(refreshed.claims().sub, identityId);
    } finally {
      await context.close();
    }
  });

  it('German consent page; Deny sends access_denied to the client; a remembered login and consent are not asked again', async () => {
    const context = await browser.newContext({ locale: 'de-DE' });
    try {
      const page = await context.newPage();
      const first = await start();
      await signIn(page, first.url);
      assert.match(await page.textContent('main'), /möchte auf Ihr Konto zugreifen/);
      await page.uncheck('input[name="remember"]');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.click('button[value="reject"]')]);
      await assert.rejects(
        oidc.authorizationCodeGrant(first.config, new URL(page.url()), { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce }),
        (err) => err.error === 'access_denied');

      // Allow and remember. The login is remembered too, so the next authorization shows neither page.
      const second = await start();
      await page.goto(second.url.toString());
      // The denied request's login was remembered and the session is still there: straight to the consent page.
      assert.match(page.url(), /\/ui\/consent\?consent_challenge=/);
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.click('button[value="accept"]')]);
      await oidc.authorizationCodeGrant(second.config, new URL(page.url()), { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.nonce });
      const third = await start();
      await page.goto(third.url.toString());
      await page.waitForURL((u) => u.toString().startsWith(callback));
      const tokens = await oidc.authorizationCodeGrant(third.config, new URL(page.url()), { pkceCodeVerifier: third.verifier, expectedState: third.state, expectedNonce: third.nonce });
      assert.equal(tokens.claims().name, 'Ada Lovelace');
      assert.equal(tokens.claims().given_name, 'Ada');
    } finally {
      await context.close();
    }
  });
});
