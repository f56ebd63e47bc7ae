// The OAuth2 device authorization grant (RFC 8628) against the real process, with independent client software:
// openid-client (discovery, initiateDeviceAuthorization, pollDeviceAuthorizationGrant) plays the device and polls while
// headless Chromium types the user code into Gatehouse's built-in page, signs in and consents; `jose` verifies the ID
// token against /.well-known/jwks.json. A second server has a user-code page of its own (urls.device.verification):
// there @ory/client's OAuth2Api accepts the user code, the login and the consent (or rejects it), as a custom UI does.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';

/** A public device client (a TV, a CLI) and openid-client's configuration for it, from discovery. */
async function deviceClient(g, extra = {}) {
  const admin = new OAuth2Api(new Configuration({ basePath: g.publicUrl, accessToken: g.key }));
  const client = (await admin.createOAuth2Client({
    oAuth2Client: {
      client_name: 'Living Room TV',
      grant_types: [deviceGrant, 'refresh_token'],
      scope: 'openid offline_access email',
      token_endpoint_auth_method: 'none',
      ...extra,
    },
  })).data;
  const config = await oidc.discovery(new URL(g.publicUrl), client.client_id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  return { admin, client, config };
}

describe(`Device flow through the built-in pages in Chromium (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  const gatehouse = useGatehouse({
    selfservice: { methods: { password: { config: { haveibeenpwned_enabled: false } } } },
    // Poll every second, so the test does not wait Hydra's default 5 s between polls.
    extraConfig: { oauth2: { device_authorization: { token_polling_interval: '1s' } } },
  });
  let browser;
  let email;
  let password;
  let identityId;

  before(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    const g = gatehouse();
    ({ id: identityId, email, password } = await createVerifiedIdentity({ basePath: g.publicUrl, accessToken: g.key }, 'device'));
  });
  after(async () => { await browser?.close(); });

  it('openid-client polls while the user types the code, signs in and consents; the ID token verifies with jose', async () => {
    const g = gatehouse();
    const { client, config } = await deviceClient(g);
    assert.equal(config.serverMetadata().device_authorization_endpoint, `${g.publicUrl}/oauth2/device/auth`);
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid offline_access email' });
    assert.match(device.device_code, /^ory_dc_/);
    assert.equal(device.verification_uri, `${g.publicUrl}/oauth2/device/verify`);
    assert.equal(device.interval, 1);

    // The device polls from now on (authorization_pending until the user is done).
    const polling = oidc.pollDeviceAuthorizationGrant(config, device);
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      // The user opens the short URL shown on the TV and types the code.
      await page.goto(device.verification_uri);
      assert.match(page.url(), /\/ui\/device\?device_challenge=/);
      assert.match(await page.textContent('main'), /Enter the code shown on your device\./);
      // A wrong code first: the page says so and keeps the form.
      await page.fill('input[name="user_code"]', 'WRONGCODE');
      await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/ui/device')), page.click('button[type="submit"]')]);
      await page.waitForLoadState('domcontentloaded');
      assert.match(await page.textContent('[role="alert"]'), /This code is not valid or has expired\./);
      await page.fill('input[name="user_code"]', device.user_code);
      await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/ui/login')), page.click('button[type="submit"]')]);
      await page.fill('input[name="identifier"]', email);
      await page.fill('input[name="password"]', password);
      await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/ui/consent')), page.click('button[name="method"][value="password"]')]);
      assert.match(await page.textContent('main'), /Living Room TV wants to access your account\./);
      await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/ui/device/done')), page.click('button[value="accept"]')]);
      assert.match(await page.textContent('main'), /Living Room TV is now connected to your account\./);
    } finally {
      await context.close();
    }

    const tokens = await polling;
    assert.match(tokens.access_token, /^ory_at_/);
    assert.match(tokens.refresh_token, /^ory_rt_/);
    assert.equal(tokens.scope, 'openid offline_access email');
    const jwks = jose.createRemoteJWKSet(new URL(`${g.publicUrl}/.well-known/jwks.json`));
    const { payload } = await jose.jwtVerify(tokens.id_token, jwks, { issuer: `${g.publicUrl}/`, audience: client.client_id });
    assert.equal(payload.sub, identityId);
    assert.equal(payload.email, email);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, identityId);
    assert.equal(info.email, email);
    // The device code was spent: polling with it again fails.
    await assert.rejects(oidc.pollDeviceAuthorizationGrant(config, { ...device, interval: 0 }), (err) => err.error === 'invalid_grant');
  });

  it('the complete verification URI fills in the code; German texts; Deny is access_denied for the device', async () => {
    const g = gatehouse();
    const { config } = await deviceClient(g);
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    // The denial may reach the device while the browser is still busy: take its outcome as soon as it comes.
    const polling = oidc.pollDeviceAuthorizationGrant(config, device).then(() => assert.fail('the device got tokens'), (err) => err);
    const context = await browser.newContext({ locale: 'de-DE' });
    try {
      const page = await context.newPage();
      await page.goto(device.verification_uri_complete);
      assert.match(await page.textContent('main'), /Geben Sie den Code ein, den Ihr Gerät anzeigt\./);
      assert.equal(await page.inputValue('input[name="user_code"]'), device.user_code);
      await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/ui/login')), page.click('button[type="submit"]')]);
      await page.fill('input[name="identifier"]', email);
      await page.fill('input[name="password"]', password);
      await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/ui/consent')), page.click('button[name="method"][value="password"]')]);
      assert.match(await page.textContent('main'), /möchte auf Ihr Konto zugreifen/);
      const denied = page.waitForResponse((r) => r.url().includes('consent_verifier='));
      await page.click('button[value="reject"]');
      assert.equal((await denied).status(), 400);
    } finally {
      await context.close();
    }
    assert.equal((await polling).error, 'access_denied');
  });
});

describe(`Device flow with a user-code page of its own and @ory/client (${database})`, () => {
  const gatehouse = useGatehouse({
    urls: {
      login: 'https://ui.example/login',
      consent: 'https://ui.example/consent',
      device: { verification: 'https://ui.example/device', success: 'https://ui.example/device/done' },
    },
    extraConfig: { oauth2: { device_authorization: { token_polling_interval: '1s' } } },
  });

  /** A browser without JavaScript, as far as the redirects and cookies go. */
  function cookieJar() {
    const jar = new Map();
    return async function get(url) {
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const at = pair.indexOf('=');
        jar.set(pair.slice(0, at), pair.slice(at + 1));
      }
      return res;
    };
  }

  async function throughChallenges(admin, get, device, { reject = false } = {}) {
    const toPage = await get(device.verification_uri_complete);
    assert.equal(toPage.status, 302);
    const pageUrl = new URL(toPage.headers.get('location'));
    assert.equal(pageUrl.origin + pageUrl.pathname, 'https://ui.example/device');
    assert.equal(pageUrl.searchParams.get('user_code'), device.user_code);
    const accepted = await admin.acceptUserCodeRequest({
      deviceChallenge: pageUrl.searchParams.get('device_challenge'),
      acceptDeviceUserCodeRequest: { user_code: device.user_code },
    });
    const toLogin = new URL((await get(accepted.data.redirect_to)).headers.get('location'));
    const loginChallenge = toLogin.searchParams.get('login_challenge');
    const loginRequest = await admin.getOAuth2LoginRequest({ loginChallenge });
    assert.deepEqual(loginRequest.data.requested_scope, ['openid', 'offline_access']);
    const login = await admin.acceptOAuth2LoginRequest({ loginChallenge, acceptOAuth2LoginRequest: { subject: 'device-user' } });
    const toConsent = new URL((await get(login.data.redirect_to)).headers.get('location'));
    const consentChallenge = toConsent.searchParams.get('consent_challenge');
    const consent = reject
      ? await admin.rejectOAuth2ConsentRequest({ consentChallenge, rejectOAuth2Request: { error: 'access_denied', error_description: 'The user said no' } })
      : await admin.acceptOAuth2ConsentRequest({ consentChallenge, acceptOAuth2ConsentRequest: { grant_scope: ['openid', 'offline_access'], session: { id_token: { tv: true } } } });
    return get(consent.data.redirect_to);
  }

  it('acceptUserCodeRequest, login and consent from a custom UI; the polling device gets tokens; introspection knows them', async () => {
    const g = gatehouse();
    const { admin, client, config } = await deviceClient(g, { scope: 'openid offline_access' });
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid offline_access' });
    const polling = oidc.pollDeviceAuthorizationGrant(config, device);
    const done = await throughChallenges(admin, cookieJar(), device);
    assert.equal(done.status, 302);
    assert.equal(done.headers.get('location'), `https://ui.example/device/done?client_id=${encodeURIComponent(client.client_id)}`);

    const tokens = await polling;
    assert.equal(tokens.claims().sub, 'device-user');
    assert.equal(tokens.claims().tv, true);
    const introspected = (await admin.introspectOAuth2Token({ token: tokens.access_token })).data;
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, client.client_id);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  });

  it('a wrong user code is refused by acceptUserCodeRequest; a rejected consent is access_denied for the device', async () => {
    const g = gatehouse();
    const { admin, config } = await deviceClient(g, { scope: 'openid offline_access' });
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid offline_access' });
    const get = cookieJar();
    const pageUrl = new URL((await get(device.verification_uri)).headers.get('location'));
    await assert.rejects(
      admin.acceptUserCodeRequest({ deviceChallenge: pageUrl.searchParams.get('device_challenge'), acceptDeviceUserCodeRequest: { user_code: 'nope-nope' } }),
      (err) => err.response?.status === 400 && err.response.data.error === 'invalid_request');

    const polling = oidc.pollDeviceAuthorizationGrant(config, device).then(() => assert.fail('the device got tokens'), (err) => err);
    const end = await throughChallenges(admin, get, device, { reject: true });
    assert.equal(end.status, 400);
    assert.equal((await end.json()).error, 'access_denied');
    assert.equal((await polling).error, 'access_denied');
  });
});
