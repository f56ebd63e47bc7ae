// An OAuth2 consent app built on Ory Elements' `Consent` component (@ory/elements-react, pinned in package.json) against
// gatehouse's Hydra-compatible provider, in headless Chromium, set up as Ory's Next.js example (ory/elements,
// examples/nextjs-pages-router) sets one up: the app's server fetches the consent request with the admin API key
// (getOAuth2ConsentRequest) and the session with the browser's cookie (toSession), both through @ory/client-fetch (the
// SDK whose types the component takes), renders lib/elements-consent-app.jsx with them and a CSRF token, and its
// /api/consent route checks the session against the request's subject, accepts or rejects through OAuth2Api and answers
// the JSON `{ redirect_to }` the component follows (it posts with fetch, so a 302 would not do). The sign-in before it is gatehouse's built-in login (no urls.login), so the consent page sees a real session.
// The client is openid-client (discovery, code + PKCE, state/nonce checks, ID-token validation): it gets a code for
// the scopes the user kept, `access_denied` when the user rejects, and a remembered consent is not asked again (the
// consent request arrives with `skip: true` and the app accepts it without a page, as Hydra's consent apps must).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import { Configuration, OAuth2Api } from '@ory/client';
import * as fetchSdk from '@ory/client-fetch';
import { startGatehouse, database } from './lib/gatehouse.mjs';
import { createVerifiedIdentity } from './lib/sdk.mjs';
import { chromiumPages, skip } from './lib/elements-harness.mjs';
import { bundleApp } from './lib/bundle.mjs';

function cookies(req) {
  return Object.fromEntries((req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).filter(([k]) => k));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** JSON in a <script> element: `<` escaped, so no value can close the element. */
const scriptJson = (value) => JSON.stringify(value).replace(/</g, '\\u003c');

/** The ID-token claims a consent app gives for the granted scopes, from the identity's traits. */
function claimsFor(identity, scopes) {
  const claims = {};
  if (scopes.includes('email')) {
    claims.email = identity.traits.email;
    claims.email_verified = identity.verifiable_addresses?.some((a) => a.value === identity.traits.email && a.verified) ?? false;
  }
  if (scopes.includes('profile') && identity.traits.name) {
    claims.given_name = identity.traits.name.first;
    claims.family_name = identity.traits.name.last;
    claims.name = `${identity.traits.name.first} ${identity.traits.name.last}`;
  }
  return claims;
}

/**
 * The consent app, on a free loopback port named localhost (the host gatehouse's public URL names too, so the browser
 * sends gatehouse's session cookie to both; cookies are not scoped by port). `gatehouse()` gives the running server.
 * `seen` lists the consent requests the app was sent ({ skip, subject, requested_scope }), `posts` the bodies the
 * component posted (without the CSRF token), `errors` what went wrong in the app.
 */
async function startConsentApp(files, gatehouse) {
  const seen = [];
  const posts = [];
  const errors = [];
  // The admin key stays in this server: the browser only ever sees the consent request, the session and a CSRF token.
  const admin = () => new fetchSdk.Configuration({ basePath: gatehouse().publicUrl, headers: { Authorization: `Bearer ${gatehouse().key}` } });
  const oauth2 = () => new fetchSdk.OAuth2Api(admin());
  const identities = () => new fetchSdk.IdentityApi(admin());
  const sessionOf = (req) => new fetchSdk.FrontendApi(new fetchSdk.Configuration({ basePath: gatehouse().publicUrl })).toSession({ cookie: req.headers.cookie });
  const accept = async (request, grantScope, remember) => {
    const identity = await identities().getIdentity({ id: request.subject });
    return (await oauth2().acceptOAuth2ConsentRequest({
      consentChallenge: request.challenge,
      acceptOAuth2ConsentRequest: {
        grant_scope: grantScope,
        grant_access_token_audience: request.requested_access_token_audience,
        // No remember_for, as Ory's example: 0, a remembered consent that does not expire.
        remember,
        session: { id_token: claimsFor(identity, grantScope) },
      },
    })).redirect_to;
  };
  const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, origin);
      if (files[url.pathname]) {
        res.writeHead(200, { 'content-type': url.pathname.endsWith('.css') ? 'text/css' : 'text/javascript' }).end(files[url.pathname]);
      } else if (url.pathname === '/consent' && req.method === 'GET') {
        const request = await oauth2().getOAuth2ConsentRequest({ consentChallenge: url.searchParams.get('consent_challenge') });
        seen.push({ skip: request.skip, subject: request.subject, requested_scope: request.requested_scope });
        // A remembered consent (or a first-party client): accepted at once with what was asked for; Hydra never does
        // this itself, the consent app must.
        if (request.skip || request.client?.skip_consent) {
          res.writeHead(302, { location: await accept(request, request.requested_scope, false) }).end();
          return;
        }
        const session = await sessionOf(req);
        if (session.identity.id !== request.subject) throw new Error('the consent request is for another identity than the signed-in one');
        const csrfToken = randomBytes(32).toString('base64url');
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'set-cookie': `consent_csrf=${csrfToken}; Path=/; HttpOnly; SameSite=Lax`,
        }).end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Consent</title>'
          + '<link rel="stylesheet" href="/app.css">'
          + `<script type="application/json" id="consent-data">${scriptJson({ consentRequest: request, session, csrfToken, sdkUrl: gatehouse().publicUrl })}</script>`
          + '<script defer src="/app.js"></script></head><body><div id="root"></div></body></html>');
      } else if (url.pathname === '/api/consent' && req.method === 'POST') {
        const { csrf_token: token, ...body } = await readJson(req);
        const expected = Buffer.from(cookies(req).consent_csrf ?? '');
        if (typeof token !== 'string' || expected.length === 0 || Buffer.from(token).length !== expected.length || !timingSafeEqual(Buffer.from(token), expected)) {
          json(res, 403, { error: 'CSRF token missing or wrong' });
          return;
        }
        posts.push(body);
        const request = await oauth2().getOAuth2ConsentRequest({ consentChallenge: body.consent_challenge });
        if ((await sessionOf(req)).identity.id !== request.subject) throw new Error('the consent request is for another identity than the signed-in one');
        let redirectTo;
        if (body.action === 'accept') {
          // Only what was requested can be granted, whatever the form says.
          const granted = [body.grant_scope ?? []].flat().filter((s) => request.requested_scope.includes(s));
          redirectTo = await accept(request, granted, body.remember === true || body.remember === 'true');
        } else {
          redirectTo = (await oauth2().rejectOAuth2ConsentRequest({
            consentChallenge: request.challenge,
            rejectOAuth2Request: { error: 'access_denied', error_description: 'The resource owner denied the request' },
          })).redirect_to;
        }
        json(res, 200, { redirect_to: redirectTo });
      } else if (url.pathname === '/callback') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('callback');
      } else {
        res.writeHead(404).end();
      }
    } catch (err) {
      errors.push(err.response ? `${err.message}: ${err.response.status} ${await err.response.text().catch(() => '')}` : String(err));
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${server.address().port}`;
  return { origin, seen, posts, errors, close: () => new Promise((r) => server.close(r)) };
}

describe(`An OAuth2 consent app built on Ory Elements' Consent component against gatehouse, in Chromium (${database})`, { skip }, () => {
  let app;
  let gatehouse;
  let chromium;
  let oauth2;
  let email;
  let password;
  let identityId;

  before(async () => {
    const files = await bundleApp('elements-consent-app.jsx');
    app = await startConsentApp(files, () => gatehouse);
    gatehouse = await startGatehouse({
      publicHost: 'localhost',
      selfservice: { methods: { password: { config: { haveibeenpwned_enabled: false } } } },
      // No urls.login: gatehouse's own login signs the user in; the consent is the app's.
      urls: { consent: `${app.origin}/consent` },
    });
    oauth2 = new OAuth2Api(new Configuration({ basePath: gatehouse.publicUrl, accessToken: gatehouse.key }));
    ({ id: identityId, email, password } = await createVerifiedIdentity({ basePath: gatehouse.publicUrl, accessToken: gatehouse.key }, 'consent'));
    chromium = chromiumPages({ contextOptions: { locale: 'en-US' } });
  });

  after(async () => {
    await chromium?.close();
    await gatehouse?.stop();
    await app?.close();
  });

  /** A new client (each test its own, so a remembered consent belongs to one test) and openid-client's view of it. */
  async function newClient() {
    const client = (await oauth2.createOAuth2Client({
      oAuth2Client: {
        client_name: 'Photo App',
        redirect_uris: [`${app.origin}/callback`],
        scope: 'openid offline_access email profile',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    })).data;
    const config = await oidc.discovery(new URL(gatehouse.publicUrl), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret),
      { execute: [oidc.allowInsecureRequests] });
    return { client, config };
  }

  /** An authorization request for `scope` with PKCE, state and nonce. */
  async function authorization(config, scope) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${app.origin}/callback`, scope, state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const grant = (callback) => oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    return { url, state, grant };
  }

  /** A page in a context of its own (`chromiumPages`); `problems` collects page errors (uncaught exceptions in the app or
   * Elements). */
  async function newPage() {
    const { context, page } = await chromium.take();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    return { context, page, problems };
  }

  /** Opens the authorization URL, signs in on gatehouse's login page and waits for Elements' consent card. */
  async function signInToConsent(page, url) {
    await page.goto(url.toString());
    assert.match(page.url(), /\/ui\/login\?flow=/);
    await page.fill('input[name="identifier"]', email);
    await page.fill('input[name="password"]', password);
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${app.origin}/consent?`)), page.click('button[name="method"][value="password"]')]);
    await page.getByRole('heading', { name: 'Authorize Photo App' }).waitFor();
  }

  /** The scope switches Elements shows: { scope: checked }. */
  async function switches(page) {
    const all = page.getByTestId('ory/screen/consent/scope-checkbox');
    await all.first().waitFor();
    const out = {};
    for (const s of await all.all()) out[await s.getAttribute('value')] = (await s.getAttribute('aria-checked')) === 'true';
    return out;
  }

  /** Clicks one of the component's buttons and waits until the browser is at the client's redirect URI. */
  async function decide(page, name) {
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${app.origin}/callback`)), page.getByRole('button', { name }).click()]);
    return new URL(page.url());
  }

  it('shows the requested scopes for the signed-in user; Accept with all of them gives the client a code, tokens and the claims', async () => {
    const { context, page, problems } = await newPage();
    try {
      const { config } = await newClient();
      const { url, grant } = await authorization(config, 'openid offline_access email profile');
      await signInToConsent(page, url);
      assert.deepEqual(await switches(page), { openid: true, offline_access: true, email: true, profile: true });
      await page.getByText(`associated with your account ${email}`).waitFor();
      const challenge = await page.locator('#root').getAttribute('data-challenge');

      const tokens = await grant(await decide(page, 'Accept'));
      // What the component posted (besides the CSRF token the app checked): its form, as Ory's example route reads it.
      assert.deepEqual(app.posts.at(-1), {
        method: 'oauth2_consent', action: 'accept', consent_challenge: challenge, grant_scope: ['openid', 'offline_access', 'email', 'profile'], remember: false,
      });
      assert.equal(tokens.scope, 'openid offline_access email profile');
      assert.match(tokens.access_token, /^ory_at_/);
      assert.match(tokens.refresh_token, /^ory_rt_/);
      const claims = tokens.claims();
      assert.equal(claims.sub, identityId);
      assert.equal(claims.email, email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.name, 'Ada Lovelace');
      const introspected = (await oauth2.introspectOAuth2Token({ token: tokens.access_token })).data;
      assert.equal(introspected.active, true);
      assert.equal(introspected.scope, 'openid offline_access email profile');
      assert.equal(introspected.sub, identityId);
      assert.deepEqual(app.errors, []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('a scope switched off is not granted: not in the token, and not its claims', async () => {
    const { context, page, problems } = await newPage();
    try {
      const { config } = await newClient();
      const { url, grant } = await authorization(config, 'openid email profile');
      await signInToConsent(page, url);
      await page.getByTestId('ory/screen/consent/scope-checkbox').and(page.locator('[value="profile"]')).click();
      assert.deepEqual(await switches(page), { openid: true, email: true, profile: false });

      const tokens = await grant(await decide(page, 'Accept'));
      assert.deepEqual(app.posts.at(-1).grant_scope, ['openid', 'email']);
      assert.equal(tokens.scope, 'openid email');
      assert.equal(tokens.refresh_token, undefined); // offline_access was not asked for
      const claims = tokens.claims();
      assert.equal(claims.sub, identityId);
      assert.equal(claims.email, email);
      assert.equal(claims.name, undefined);
      assert.equal((await oauth2.introspectOAuth2Token({ token: tokens.access_token })).data.scope, 'openid email');
      assert.deepEqual(app.errors, []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('Reject sends access_denied to the client, which gets no tokens', async () => {
    const { context, page, problems } = await newPage();
    try {
      const { config } = await newClient();
      const { url, state, grant } = await authorization(config, 'openid email');
      await signInToConsent(page, url);
      const back = await decide(page, 'Reject');
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.equal(back.searchParams.get('state'), state);
      assert.equal(back.searchParams.get('code'), null);
      await assert.rejects(grant(back), (e) => e.error === 'access_denied');
      assert.equal(app.posts.at(-1).action, 'reject');
      assert.deepEqual(app.errors, []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('"Remember my decision": the next authorization arrives with skip and is accepted without the page; a new scope asks again', async () => {
    const { context, page, problems } = await newPage();
    try {
      const { config } = await newClient();
      const first = await authorization(config, 'openid email');
      await signInToConsent(page, first.url);
      await page.getByRole('checkbox', { name: 'Remember my decision' }).check();
      const firstTokens = await first.grant(await decide(page, 'Accept'));
      assert.equal(app.posts.at(-1).remember, true);
      assert.equal(firstTokens.scope, 'openid email');

      // The same browser (gatehouse's session and the remembered login) and the same scopes: no login form, no consent
      // page; the consent app was sent the request with skip: true and accepted it (with remember: false, as there is
      // nothing new to remember). Twice: accepting a skipped request must not replace the remembered decision, which
      // Hydra looks up among the consents that were not skipped.
      for (let round = 0; round < 2; round++) {
        const seenBefore = app.seen.length;
        const again = await authorization(config, 'openid email');
        await page.goto(again.url.toString());
        await page.waitForURL((u) => u.toString().startsWith(`${app.origin}/callback`));
        assert.deepEqual(app.seen.slice(seenBefore), [{ skip: true, subject: identityId, requested_scope: ['openid', 'email'] }]);
        const tokens = await again.grant(new URL(page.url()));
        assert.equal(tokens.scope, 'openid email');
        assert.equal(tokens.claims().sub, identityId);
        assert.equal(tokens.claims().email, email);
      }

      // A scope that was never granted is not covered by the remembered consent: the page is shown again.
      const third = await authorization(config, 'openid email profile');
      await page.goto(third.url.toString());
      await page.waitForURL((u) => u.toString().startsWith(`${app.origin}/consent?`));
      await page.getByRole('heading', { name: 'Authorize Photo App' }).waitFor();
      assert.equal(app.seen.at(-1).skip, false);
      assert.deepEqual(await switches(page), { openid: true, email: true, profile: true });
      assert.deepEqual(app.errors, []);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
