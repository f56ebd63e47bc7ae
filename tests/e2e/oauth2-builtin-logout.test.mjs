// Logout with the built-in pages (no urls.login / urls.consent / urls.logout: Kratos and Hydra as one), in headless
// Chromium: openid-client signs in through the built-in login and consent pages, then sends the browser to the
// end-session endpoint; the built-in logout page asks, "Yes" logs out of the OAuth2 login and the Kratos session, the
// browser ends at the client's post_logout_redirect_uri with its state, and the client's back-channel receiver gets a
// logout_token that `jose` verifies against the JWKS.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { EventEmitter, once } from 'node:events';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import { chromium } from 'playwright-core';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail } from './lib/sdk.mjs';
import { newPassword } from './lib/frontend.mjs';

const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

// The client: its callback, its post-logout page and its back-channel logout receiver, on one real HTTP server.
let app;
let appUrl;
const backChannel = [];
const arrivals = new EventEmitter(); // 'backchannel' when a logout token arrives
before(async () => {
  app = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      if (req.url === '/backchannel') {
        backChannel.push({ method: req.method, contentType: req.headers['content-type'], body });
        arrivals.emit('backchannel');
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${app.address().port}`;
});
after(() => new Promise((resolve) => app.close(resolve)));

const gatehouse = useGatehouse({
  selfservice: {
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
  },
});

describe(`OAuth2 logout through the built-in pages in Chromium (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  it('the built-in logout page asks; Yes ends the OAuth2 login and the Kratos session and tells the client over the back channel', async () => {
    const g = gatehouse();
    const email = uniqueEmail('oauth2-logout');
    const password = newPassword();
    const identityId = (await identityApi({ basePath: g.publicUrl, accessToken: g.key }).createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email, name: { first: 'Ada', last: 'Lovelace' } }, credentials: { password: { config: { password } } } },
    })).data.id;
    const callback = `${appUrl}/callback`;
    const loggedOut = `${appUrl}/logged-out`;
    const client = (await new OAuth2Api(new Configuration({ basePath: g.publicUrl, accessToken: g.key })).createOAuth2Client({
      oAuth2Client: {
        client_name: 'Photo App', redirect_uris: [callback], post_logout_redirect_uris: [loggedOut], scope: 'openid',
        skip_consent: true, backchannel_logout_uri: `${appUrl}/backchannel`,
      },
    })).data;
    const config = await oidc.discovery(new URL(g.publicUrl), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret), { execute: [oidc.allowInsecureRequests] });

    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      await page.goto(oidc.buildAuthorizationUrl(config, {
        redirect_uri: callback, scope: 'openid', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      }).toString());
      assert.match(page.url(), /\/ui\/login\?flow=/);
      await page.fill('input[name="identifier"]', email);
      await page.fill('input[name="password"]', password);
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.click('button[name="method"][value="password"]')]);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
      const { sid, sub } = tokens.claims();
      assert.equal(sub, identityId);
      assert.equal((await context.request.get(`${g.publicUrl}/sessions/whoami`)).status(), 200);

      const logoutState = oidc.randomState();
      await page.goto(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: loggedOut, state: logoutState }).toString());
      assert.match(page.url(), /\/ui\/logout\?logout_challenge=/);
      assert.match(await page.textContent('main'), /Photo App asks to log you out\./);
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(loggedOut)), page.click('button[value="accept"]')]);
      assert.equal(new URL(page.url()).searchParams.get('state'), logoutState);

      // Both sessions are over: Kratos's (whoami) and the OAuth2 login (the next authorization asks to sign in).
      assert.equal((await context.request.get(`${g.publicUrl}/sessions/whoami`)).status(), 401);
      await page.goto(oidc.buildAuthorizationUrl(config, {
        redirect_uri: callback, scope: 'openid', state: oidc.randomState(), code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      }).toString());
      assert.match(page.url(), /\/ui\/login\?flow=/);

      // The back channel: one logout token for this client and session.
      // Sent in the background by the server: wait for it to arrive, at most 15 s.
      if (backChannel.length === 0) await once(arrivals, 'backchannel', { signal: AbortSignal.timeout(15_000) }).catch(() => {});
      assert.equal(backChannel.length, 1);
      assert.equal(backChannel[0].method, 'POST');
      assert.match(backChannel[0].contentType, /^application\/x-www-form-urlencoded/);
      const jwks = jose.createRemoteJWKSet(new URL(`${g.publicUrl}/.well-known/jwks.json`));
      const { payload } = await jose.jwtVerify(new URLSearchParams(backChannel[0].body).get('logout_token'), jwks, { issuer: `${g.publicUrl}/`, audience: client.client_id });
      assert.equal(payload.sid, sid);
      assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    } finally {
      await browser.close();
    }
  });
});
