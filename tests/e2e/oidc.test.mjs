// Social sign-in (the oidc method) against a real OpenID provider: oidc-provider on loopback (lib/idp.mjs), configured
// in gatehouse as a generic provider (discovery, JWKS, PKCE, nonce, state). Headless Chromium goes through gatehouse's
// built-in pages and the provider's own login and consent pages: sign up with the provider, sign out, sign in again
// with it; @ory/client drives the browser flow's JSON side (422 browser_location_change_required) and the admin API
// (credential shape, tokens only with include_credential=oidc); @ory/client-fetch the admins' dry-run test login flow.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { Configuration, FrontendApi, IdentityApi } from '@ory/client';
import * as OryFetch from '@ory/client-fetch';
import { startGatehouse, database } from './lib/gatehouse.mjs';
import { startIdp, freePort } from './lib/idp.mjs';

const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

const mapper = `
local claims = std.extVar('claims');
{
  identity: {
    traits: { email: claims.email, name: { first: claims.name } },
    verified_addresses: if claims.email_verified then [{ via: 'email', value: claims.email }] else [],
    metadata_public: { idp: claims.iss },
  },
}`;

describe(`Social sign-in with a real OpenID provider (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let idp;
  let gatehouse;
  let browser;
  let frontend;
  let admin;

  before(async () => {
    const idpPort = await freePort();
    gatehouse = await startGatehouse({
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${publicUrl}/ui/welcome`,
        allowed_return_urls: [`${publicUrl}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          oidc: {
            enabled: true,
            config: {
              providers: [{
                id: 'test-idp',
                provider: 'generic',
                label: 'Test IdP',
                client_id: 'gatehouse-e2e',
                client_secret: 'e2e-client-secret-0123456789abcdef',
                issuer_url: `http://127.0.0.1:${idpPort}`,
                scope: ['email', 'profile', 'offline_access'],
                mapper_url: `base64://${Buffer.from(mapper).toString('base64')}`,
              }],
            },
          },
        },
        flows: { registration: { style: 'unified', after: { oidc: { hooks: [{ hook: 'session' }] }, password: { hooks: [{ hook: 'session' }] } } } },
      }),
    });
    idp = await startIdp({ port: idpPort, redirectUris: [`${gatehouse.publicUrl}/self-service/methods/oidc/callback/test-idp`] });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    frontend = new FrontendApi(new Configuration({ basePath: gatehouse.publicUrl }));
    admin = new IdentityApi(new Configuration({ basePath: gatehouse.adminUrl, accessToken: gatehouse.key }));
  });

  after(async () => {
    await browser?.close();
    await idp?.close();
    await gatehouse?.stop();
  });

  /** Signs in at the provider's dev pages (any password) and consents when asked. */
  async function atProvider(page, login) {
    try {
      await page.waitForURL((u) => u.origin === idp.issuer, { timeout: 15_000 });
    } catch (e) {
      throw new Error(`the browser did not reach the provider: at ${page.url()}: ${(await page.content()).slice(0, 1000)}\n${gatehouse.stderr().slice(-4000)}`);
    }
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'anything');
    await page.click('button[type=submit]');
    await page.waitForLoadState();
    if (new URL(page.url()).origin === idp.issuer) await page.click('button[type=submit]'); // consent
    await page.waitForURL((u) => u.origin === gatehouse.publicUrl, { timeout: 15_000 });
  }

  async function whoami(context) {
    const cookies = (await context.cookies(gatehouse.publicUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    return fetch(`${gatehouse.publicUrl}/sessions/whoami`, { headers: { cookie: cookies, accept: 'application/json' } });
  }

  it('signs up with the provider through the built-in pages, signs out, and signs in again with it', async () => {
    const login = `alice${randomBytes(3).toString('hex')}`;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${gatehouse.publicUrl}/self-service/registration/browser`);
      await page.click('button[name=provider][value=test-idp]');
      await atProvider(page, login);
      assert.match(page.url(), /\/ui\/welcome/);

      const res = await whoami(context);
      assert.equal(res.status, 200, await res.clone().text());
      const session = await res.json();
      assert.equal(session.identity.traits.email, `${login}@idp.test`);
      assert.deepEqual(session.identity.traits.name, { first: `User ${login}` });
      assert.equal(session.identity.metadata_public.idp, idp.issuer);
      assert.equal(session.identity.verifiable_addresses[0].verified, true, 'the mapper marked the address verified');
      assert.equal(session.authentication_methods[0].method, 'oidc');
      const identityId = session.identity.id;

      // The credential as Kratos shapes it; the upstream tokens only with include_credential=oidc.
      const plain = (await admin.getIdentity({ id: identityId })).data;
      assert.deepEqual(plain.credentials.oidc.identifiers, [`test-idp:${login}`]);
      assert.equal(plain.credentials.oidc.config, undefined);
      const withTokens = (await admin.getIdentity({ id: identityId, includeCredential: ['oidc'] })).data;
      const entry = withTokens.credentials.oidc.config.providers[0];
      assert.equal(entry.provider, 'test-idp');
      assert.equal(entry.subject, login);
      assert.equal(entry.initial_id_token.split('.').length, 3, 'the ID token, decrypted');
      assert.ok(entry.initial_access_token.length > 10);
      assert.ok(entry.initial_refresh_token.length > 10, 'offline_access gave a refresh token');

      // Sign out through the built-in page's logout, then sign in again with the provider.
      const logout = await page.request.get(`${gatehouse.publicUrl}/self-service/logout/browser`, { headers: { accept: 'application/json' } });
      assert.equal(logout.status(), 200);
      await page.goto((await logout.json()).logout_url);
      assert.equal((await whoami(context)).status, 401);

      await page.goto(`${gatehouse.publicUrl}/self-service/login/browser`);
      await page.click('button[name=provider][value=test-idp]');
      // The provider remembers the browser's session there: it may send the browser straight back.
      if (new URL(page.url()).origin === idp.issuer || page.url().includes('/interaction/')) {
        try { await atProvider(page, login); } catch { /* already back */ }
      }
      await page.waitForURL((u) => u.origin === gatehouse.publicUrl && u.pathname === '/ui/welcome', { timeout: 15_000 });
      const again = await (await whoami(context)).json();
      assert.equal(again.identity.id, identityId, 'the same identity signed in');
      const ids = (await admin.listIdentities({ credentialsIdentifier: `${login}@idp.test` })).data;
      assert.equal(ids.length, 1, 'no second identity was made');
    } finally {
      await context.close();
    }
  });

  it('answers a JSON submit with 422 browser_location_change_required naming the provider, with state, nonce and PKCE', async () => {
    const flow = (await frontend.createNativeLoginFlow()).data;
    const node = flow.ui.nodes.find((n) => n.group === 'oidc');
    assert.equal(node.attributes.name, 'provider');
    assert.equal(node.attributes.value, 'test-idp');
    assert.deepEqual(node.meta.label, { id: 1010002, text: 'Sign in with Test IdP', type: 'info', context: { provider: 'Test IdP', provider_id: 'test-idp' } });
    let err;
    try {
      await frontend.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'oidc', provider: 'test-idp' } });
    } catch (e) { err = e; }
    assert.equal(err?.response?.status, 422);
    assert.equal(err.response.data.error.id, 'browser_location_change_required');
    const to = new URL(err.response.data.redirect_browser_to);
    assert.equal(to.origin, idp.issuer);
    assert.equal(to.searchParams.get('client_id'), 'gatehouse-e2e');
    assert.equal(to.searchParams.get('redirect_uri'), `${gatehouse.publicUrl}/self-service/methods/oidc/callback/test-idp`);
    assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(to.searchParams.get('nonce').length >= 32);
    assert.ok(to.searchParams.get('state').length > 40);
    assert.ok(!to.searchParams.get('state').includes(flow.id), 'the state is encrypted');
    assert.deepEqual(to.searchParams.get('scope').split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
  });

  /** The browser context's cookies for gatehouse, as a Cookie header for @ory/client's browser calls. */
  async function cookieHeader(context) {
    return (await context.cookies(gatehouse.publicUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  it('links the provider in settings through the built-in page, then unlinks it with @ory/client', async () => {
    const login = `bob${randomBytes(3).toString('hex')}`;
    const email = `pw-${login}@example.com`;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${gatehouse.publicUrl}/self-service/registration/browser`);
      await page.fill('input[name="traits.email"]', email);
      await page.fill('input[name="password"]', `e2e-${randomBytes(6).toString('hex')}-Passphrase!`);
      await Promise.all([page.waitForURL(/\/ui\/welcome/), page.click('button[name="method"][value="password"]')]);
      const identityId = (await (await whoami(context)).json()).identity.id;

      await page.goto(`${gatehouse.publicUrl}/self-service/settings/browser`);
      assert.match(await page.textContent('button[name=link][value=test-idp]'), /Link Test IdP/);
      await page.click('button[name=link][value=test-idp]');
      await atProvider(page, login);
      await page.waitForURL(/\/ui\/settings\?flow=/);
      await page.locator('button[name=unlink][value=test-idp]').waitFor();

      const linked = (await admin.getIdentity({ id: identityId, includeCredential: ['oidc'] })).data;
      assert.deepEqual(linked.credentials.oidc.identifiers, [`test-idp:${login}`]);
      assert.ok(linked.credentials.oidc.config.providers[0].initial_access_token.length > 10);
      const session = await (await whoami(context)).json();
      assert.ok(session.authentication_methods.some((m) => m.method === 'oidc' && m.provider === 'test-idp'), JSON.stringify(session.authentication_methods));

      // The SDK's browser settings flow (the page's cookies): the unlink node, then the unlink itself.
      const cookie = await cookieHeader(context);
      const flow = (await frontend.createBrowserSettingsFlow({ cookie })).data;
      const unlink = flow.ui.nodes.find((n) => n.group === 'oidc' && n.attributes.name === 'unlink');
      assert.deepEqual(unlink.meta.label, { id: 1050003, text: 'Unlink Test IdP', type: 'info', context: { provider: 'Test IdP' } });
      const csrf = flow.ui.nodes.find((n) => n.attributes.name === 'csrf_token').attributes.value;
      const done = (await frontend.updateSettingsFlow({ flow: flow.id, cookie, updateSettingsFlowBody: { method: 'oidc', unlink: 'test-idp', csrf_token: csrf } })).data;
      assert.equal(done.state, 'success');
      assert.ok(done.ui.nodes.some((n) => n.attributes.name === 'link' && n.attributes.value === 'test-idp'));
      const after = (await admin.getIdentity({ id: identityId, includeCredential: ['oidc'] })).data;
      assert.equal(after.credentials.oidc, undefined);

      // Without the password, the provider alone is never offered for unlinking.
      const social = await browser.newContext();
      try {
        const p2 = await social.newPage();
        const only = `carol${randomBytes(3).toString('hex')}`;
        await p2.goto(`${gatehouse.publicUrl}/self-service/registration/browser`);
        await p2.click('button[name=provider][value=test-idp]');
        await atProvider(p2, only);
        const c2 = await cookieHeader(social);
        const f2 = (await frontend.createBrowserSettingsFlow({ cookie: c2 })).data;
        assert.equal(f2.ui.nodes.filter((n) => n.group === 'oidc').length, 0, 'no link (already linked) and no unlink (last first factor)');
        let err;
        try {
          await frontend.updateSettingsFlow({ flow: f2.id, cookie: c2, updateSettingsFlowBody: { method: 'oidc', unlink: 'test-idp', csrf_token: f2.ui.nodes.find((n) => n.attributes.name === 'csrf_token').attributes.value } });
        } catch (e) { err = e; }
        assert.equal(err?.response?.status, 400);
        assert.equal(err.response.data.ui.messages[0].text, 'can not unlink OpenID Connect connection because it is the last remaining first factor credential');
      } finally {
        await social.close();
      }
    } finally {
      await context.close();
    }
  });

  it('hands an app the session token through the token exchange after a browser finished the sign-in', async () => {
    const login = `dana${randomBytes(3).toString('hex')}`;
    const returnTo = `${gatehouse.publicUrl}/app-callback`;
    const flow = (await frontend.createNativeLoginFlow({ returnSessionTokenExchangeCode: true, returnTo })).data;
    assert.ok(flow.session_token_exchange_code?.length > 40, 'the init code');
    let err;
    try {
      await frontend.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'oidc', provider: 'test-idp' } });
    } catch (e) { err = e; }
    assert.equal(err?.response?.status, 422);

    // The system browser: none of the app's cookies; it ends on return_to with the return_to code.
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(err.response.data.redirect_browser_to);
      await atProvider(page, login);
      await page.waitForURL((u) => u.pathname === '/app-callback', { timeout: 15_000 });
      const returnToCode = new URL(page.url()).searchParams.get('code');
      assert.ok(returnToCode?.length > 20, page.url());
      assert.equal((await whoami(context)).status, 401, 'the browser got no session');

      const exchanged = (await frontend.exchangeSessionToken({ initCode: flow.session_token_exchange_code, returnToCode })).data;
      assert.match(exchanged.session_token, /^ory_st_/);
      assert.equal(exchanged.session.identity.traits.email, `${login}@idp.test`);
      const me = (await frontend.toSession({ xSessionToken: exchanged.session_token })).data;
      assert.equal(me.identity.id, exchanged.session.identity.id);

      let again;
      try {
        await frontend.exchangeSessionToken({ initCode: flow.session_token_exchange_code, returnToCode });
      } catch (e) { again = e; }
      assert.equal(again?.response?.status, 404, 'the codes work once');
    } finally {
      await context.close();
    }
  });

  it('refuses a tampered state at the callback and changes nothing', async () => {
    const res = await fetch(`${gatehouse.publicUrl}/self-service/methods/oidc/callback/test-idp?state=${'A'.repeat(80)}&code=x`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.match(body.error.reason, /state parameter is invalid/);
  });
  it('runs an admin dry-run test of the provider with @ory/client-fetch: captured, no identity, deleted with the cookie', async () => {
    const login = `erin${randomBytes(3).toString('hex')}`;
    const identityApi = new OryFetch.IdentityApi(new OryFetch.Configuration({ basePath: gatehouse.adminUrl, accessToken: gatehouse.key }));
    const frontendApi = new OryFetch.FrontendApi(new OryFetch.Configuration({ basePath: gatehouse.publicUrl }));
    const status = (p) => p.then(() => 200, (e) => e.response?.status ?? e);

    const flow = await identityApi.createTestLoginFlow({ createTestLoginFlowBody: { provider_id: 'test-idp' } });
    assert.equal(flow.test_context.provider_id, 'test-idp');
    assert.equal(flow.test_context.debug_payload, undefined);
    assert.deepEqual(flow.ui.nodes.map((n) => `${n.group}:${n.attributes.name}`), ['default:csrf_token', 'oidc:provider']);
    assert.equal(await status(identityApi.createTestLoginFlow({ createTestLoginFlowBody: { provider_id: 'nonesuch' } })), 404);

    // Abandoned before the round trip: the id alone deletes it.
    const abandoned = await identityApi.createTestLoginFlow({ createTestLoginFlowBody: { provider_id: 'test-idp' } });
    await frontendApi.deleteTestLoginFlow({ id: abandoned.id });
    assert.equal(await status(frontendApi.getLoginFlow({ id: abandoned.id })), 404);

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // The admin tool renders the flow's form; the tester's browser posts it.
      const csrf = flow.ui.nodes.find((n) => n.attributes.name === 'csrf_token').attributes.value;
      await page.setContent(`<form method="post" action="${flow.ui.action}"><input type="hidden" name="csrf_token" value="${csrf}"><button name="provider" value="test-idp">go</button></form>`);
      await page.click('button[name=provider]');
      await atProvider(page, login);
      await page.waitForURL((u) => u.pathname === '/session/test-oidc', { timeout: 15_000 });
      assert.equal(new URL(page.url()).searchParams.get('flow'), flow.id);
      const cookies = await context.cookies(gatehouse.publicUrl);
      assert.ok(cookies.some((c) => c.name === 'ory_kratos_test_flow'), 'the callback set the test flow cookie');
      assert.ok(!cookies.some((c) => c.name.startsWith('ory_kratos_session')), 'no session was issued');
      const cookie = await cookieHeader(context);

      const captured = await frontendApi.getLoginFlow({ id: flow.id, cookie });
      assert.equal(captured.state, 'passed_challenge');
      const payload = captured.test_context.debug_payload;
      assert.equal(payload.error, undefined, JSON.stringify(payload.error));
      assert.equal(payload.id_token_claims.sub, login);
      assert.equal(payload.jsonnet_input.email, `${login}@idp.test`);
      assert.equal(payload.jsonnet_output.identity.traits.email, `${login}@idp.test`);
      assert.ok(payload.jsonnet_mapper_url.startsWith('base64://'));
      assert.equal((await admin.listIdentities({ credentialsIdentifier: `${login}@idp.test` })).data.length, 0, 'no identity was written');

      // Only the browser that completed the round trip reads or deletes the capture.
      assert.equal(await status(frontendApi.getLoginFlow({ id: flow.id })), 403);
      assert.equal(await status(frontendApi.deleteTestLoginFlow({ id: flow.id })), 403);
      await frontendApi.deleteTestLoginFlow({ id: flow.id, cookie });
      assert.equal(await status(frontendApi.getLoginFlow({ id: flow.id, cookie })), 404);
    } finally {
      await context.close();
    }
  });
});
