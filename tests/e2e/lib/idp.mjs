// A real, certified OpenID provider for the social sign-in tests: the npm package oidc-provider (pinned in
// package.json), on a loopback port, with one confidential client whose redirect URI is gatehouse's callback. Its
// development interaction pages sign in whatever login is typed (any password) and ask for consent; each account
// gets the e-mail address <login>@idp.test, verified, and the name "User <login>".
import assert from 'node:assert/strict';
import Provider from 'oidc-provider';
import * as oidc from 'openid-client';
import { freePort } from './gatehouse.mjs';

export { freePort };

/**
 * Starts the provider at http://127.0.0.1:<port>. `redirectUris` are the client's registered redirect URIs.
 * Resolves to { issuer, clientId, clientSecret, close() }. `claimsFor(login)` may override the claims of an account.
 */
export async function startIdp({ port, redirectUris, claimsFor }) {
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'gatehouse-e2e';
  const clientSecret = 'e2e-client-secret-0123456789abcdef';
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }],
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@idp.test`, email_verified: true, name: `User ${id}`, ...(claimsFor?.(id) ?? {}) };
        },
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The claims go into the ID token too (Kratos's default claims_source is id_token).
    conformIdTokenClaims: false,
    // A refresh token for every code exchange of this client (without prompt=consent oidc-provider would drop
    // offline_access), so the stored initial_refresh_token can be checked.
    async issueRefreshToken(ctx, client) { return client.grantTypeAllowed('refresh_token'); },
    cookies: { keys: ['e2e-idp-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: true } },
  });
  // The provider logs "dev interactions in use" style warnings; they are expected here.
  const server = provider.listen(port);
  await new Promise((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  return {
    issuer,
    clientId,
    clientSecret,
    provider,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/**
 * What an app does with the provider's own SDK to get an ID token carrying its `nonce`: openid-client's authorization
 * code flow (PKCE) against `idp`, with headless Chromium (`browser`, a Playwright browser) signing in as `login` at the
 * provider's pages and the redirect to `redirectUri` (one of the client's, served by nobody) caught in the browser.
 */
export async function idTokenFromProvider(idp, browser, redirectUri, login, nonce) {
  const config = await oidc.discovery(new URL(idp.issuer), idp.clientId, idp.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid email', nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let returned;
    await page.route(`${redirectUri}**`, (route) => { returned = route.request().url(); return route.fulfill({ status: 200, body: 'app' }); });
    await page.goto(url.href);
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'anything');
    await page.click('button[type=submit]');
    await page.waitForLoadState();
    if (!returned && new URL(page.url()).origin === idp.issuer) await page.click('button[type=submit]'); // consent
    for (let i = 0; i < 100 && !returned; i++) await page.waitForTimeout(50);
    assert.ok(returned, `the provider did not send the browser back to the app: at ${page.url()}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(returned), { pkceCodeVerifier: verifier, expectedNonce: nonce });
    return tokens.id_token;
  } finally {
    await context.close();
  }
}
