// The Elements app of elements.test.mjs (lib/elements-app.jsx on its own origin, in headless Chromium) as the login and
// registration pages of gatehouse's OAuth2 provider, the way an Ory Network project puts its account pages in front of
// OAuth2: no `urls.login`, so /oauth2/auth sends the browser to gatehouse's own login flow with the login_challenge,
// whose ui_url is the app's /login. The client is openid-client (discovery, code + PKCE, state and nonce checks,
// ID-token validation). Covered: a sign-in on Elements' login page, a sign-up from its "Sign up" link, which Elements
// builds from the flow's oauth2_login_challenge, and a social sign-up there through a real OpenID provider
// (lib/idp.mjs), the challenge kept across the provider's round trip; each time the client gets a code for that account.
// A browser already signed in gets the next client's code without the login page.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Configuration, OAuth2Api } from '@ory/client';
import { database } from './lib/gatehouse.mjs';
import { uniqueEmail } from './lib/sdk.mjs';
import { harness, password, skip } from './lib/elements-harness.mjs';

describe(`An app built on Ory Elements as the login and registration pages of gatehouse's OAuth2 provider (${database})`, { skip }, () => {
  const h = harness({ idp: true });
  const { newPage, createIdentity, atProvider } = h;

  /** A client that skips consent (a first-party app), and openid-client's view of it. */
  async function newClient() {
    const oauth2 = new OAuth2Api(new Configuration({ basePath: h.gatehouse.publicUrl, accessToken: h.gatehouse.key }));
    const { data: client } = await oauth2.createOAuth2Client({
      oAuth2Client: {
        client_name: 'Photo App',
        redirect_uris: [`${h.app.origin}/callback`],
        scope: 'openid email',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        skip_consent: true,
      },
    });
    return oidc.discovery(new URL(h.gatehouse.publicUrl), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret),
      { execute: [oidc.allowInsecureRequests] });
  }

  /**
   * Starts an authorization request with PKCE, state and nonce in the page (which, unless `expectLogin` is false, ends at
   * the app's login page), and returns a function that exchanges the code once the browser is back at the client's
   * redirect URI: it resolves to the ID token's claims.
   */
  async function authorize(page, config, { expectLogin = true } = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${h.app.origin}/callback`, scope: 'openid email', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    await page.goto(url.toString());
    // gatehouse's login flow, created with the challenge, on the app's login page.
    if (expectLogin) await page.waitForURL(new RegExp(`^${h.app.origin}/login\\?flow=`));
    return async () => {
      await page.waitForURL((u) => u.toString().startsWith(`${h.app.origin}/callback?`));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
      return tokens.claims();
    };
  }

  it('signs in on the Elements login page the client sent the browser to, and the client gets a code for that account', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-oauth2');
      const identity = await createIdentity(email, { password: { config: { password } } });
      const config = await newClient();
      const exchange = await authorize(page, config);
      const flow = new URL(page.url()).searchParams.get('flow');
      const { oauth2_login_challenge: challenge } = await (await fetch(`${h.gatehouse.publicUrl}/self-service/login/flows?id=${flow}`, {
        headers: { cookie: (await context.cookies(h.gatehouse.publicUrl)).map((c) => `${c.name}=${c.value}`).join('; ') },
      })).json();
      assert.ok(challenge, 'the login flow carries the OAuth2 login challenge');

      await page.fill('input[name="identifier"]', email);
      await page.fill('input[name="password"]', password);
      await page.locator('button[name="method"][value="password"]').click();
      const claims = await exchange();
      assert.equal(claims.sub, identity.id);
      assert.equal(claims.email, email);

      // Signed in now: another client's request is answered from the session, without the login page (Kratos accepts
      // the login request of a flow started with a challenge by a browser that has a session).
      const other = await newClient();
      const again = await authorize(page, other, { expectLogin: false });
      assert.equal((await again()).sub, identity.id);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it("signs up from the login page's Sign up link, which keeps the login challenge, and the client gets a code for the new account", async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-oauth2-signup');
      const config = await newClient();
      const exchange = await authorize(page, config);
      // Elements builds the link from the flow: /self-service/registration/browser?login_challenge=…
      await page.getByRole('link', { name: 'Sign up' }).click();
      await page.waitForURL(new RegExp(`^${h.app.origin}/registration\\?flow=`));
      await page.fill('input[name="traits.email"]', email);
      await page.locator('button[name="method"][value="profile"]').click();
      await page.getByTestId('ory/form/auth-picker/password').click();
      await page.fill('input[name="password"]', password);
      await page.locator('button[name="method"][value="password"]').click();
      const claims = await exchange();
      const { data: [identity] } = await h.admin.listIdentities({ credentialsIdentifier: email });
      assert.equal(claims.sub, identity.id);
      assert.equal(claims.email, email);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('signs up with a social provider on that login page, and the client gets a code for the new account', async () => {
    const { context, page, problems } = await newPage();
    try {
      const login = `oauth2social${Date.now().toString(36)}`;
      const config = await newClient();
      const exchange = await authorize(page, config);
      await page.locator('button[name="provider"][value="test-idp"]').click();
      await atProvider(page, login);
      const claims = await exchange();
      const { data: [identity] } = await h.admin.listIdentities({ credentialsIdentifier: `test-idp:${login}` });
      assert.equal(claims.sub, identity.id);
      assert.equal(claims.email, `${login}@idp.test`);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
