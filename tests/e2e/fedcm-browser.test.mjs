// FedCM in a real browser: headless Chromium runs Ory's documented FedCM script (docs/kratos/social-signin/fedcm.mdx)
// on an app page, cross-origin against gatehouse with CORS and cookies: fetch /self-service/fed-cm/parameters,
// navigator.credentials.get({identity}) with the parameters' config URL, client id and nonce, then POST the token to
// /self-service/fed-cm/token. The identity provider is a small FedCM IdP served here (/.well-known/web-identity, its
// config, accounts, client metadata and id_assertion endpoints, plus OpenID discovery and keys so gatehouse's google
// preset can verify what it signs). The browser's account chooser is driven over CDP: FedCm.enable,
// FedCm.dialogShown, FedCm.selectAccount.
// Origins: the app on http://localhost:<a>, gatehouse on http://localhost:<b> (same site: its Lax cookies go with the
// app's credentialed fetches, CORS decides the rest), the IdP on http://127.0.0.1:<c> (another site, as an IdP is).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { generateKeyPairSync, sign } from 'node:crypto';
import { chromium } from 'playwright-core';
import { startGatehouse, database, freePort } from './lib/gatehouse.mjs';

const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

const clientId = 'fedcm-rp';
const mapper = `
local claims = std.extVar('claims');
{ identity: { traits: { email: claims.email }, verified_addresses: [{ via: 'email', value: claims.email }] } }`;

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A FedCM identity provider on http://127.0.0.1:<port>: one signed-in account (`login`), ID tokens signed RS256 with a
 * key published at /jwks. Records every request. Resolves to { origin, configUrl, calls, close() }.
 */
async function startFedcmIdp({ login }) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'fedcm-1', use: 'sig', alg: 'RS256' };
  const signJwt = (claims) => {
    const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'fedcm-1' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), privateKey).toString('base64url')}`;
  };
  const calls = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, origin);
    const body = await readBody(req);
    calls.push({ method: req.method, path: url.pathname, headers: req.headers, body });
    const send = (status, value, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    switch (url.pathname) {
      case '/.well-known/web-identity':
        return send(200, { provider_urls: [`${origin}/fedcm.json`] });
      case '/fedcm.json':
        return send(200, {
          accounts_endpoint: '/accounts', client_metadata_endpoint: '/client_metadata', id_assertion_endpoint: '/assertion', login_url: '/login',
          branding: { background_color: '#1a73e8', color: '#ffffff' },
        });
      case '/accounts':
        return send(200, { accounts: [{ id: login, name: `User ${login}`, given_name: 'User', email: `${login}@idp.test`, approved_clients: [clientId] }] });
      case '/client_metadata':
        return send(200, { privacy_policy_url: `${origin}/privacy`, terms_of_service_url: `${origin}/terms` });
      case '/assertion': {
        const form = new URLSearchParams(body);
        if (form.get('client_id') !== clientId) return send(400, { error: { code: 'invalid_request' } });
        const params = form.get('params') ? JSON.parse(form.get('params')) : {};
        const nonce = form.get('nonce') || params.nonce;
        const now = Math.floor(Date.now() / 1000);
        const token = signJwt({
          iss: origin, aud: clientId, sub: form.get('account_id'), iat: now, exp: now + 300,
          email: `${form.get('account_id')}@idp.test`, email_verified: true, ...(nonce ? { nonce } : {}),
        });
        // The id_assertion answer is read by the app's origin: CORS with credentials, for that origin alone.
        return send(200, { token }, { 'access-control-allow-origin': req.headers.origin, 'access-control-allow-credentials': 'true' });
      }
      case '/.well-known/openid-configuration':
        return send(200, {
          issuer: origin, authorization_endpoint: `${origin}/authorize`, token_endpoint: `${origin}/token`, jwks_uri: `${origin}/jwks`,
          response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
        });
      case '/jwks':
        return send(200, { keys: [jwk] });
      case '/login':
        // Signing in at the IdP sets its FedCM login status (the Login Status API).
        res.writeHead(200, { 'content-type': 'text/html', 'set-login': 'logged-in' });
        return res.end('<!doctype html><title>IdP</title>signed in');
      default:
        return send(404, { error: 'not found' });
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { origin, configUrl: `${origin}/fedcm.json`, calls, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

/** The app's page on http://localhost:<port>. */
async function startApp() {
  const port = await freePort();
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><html><head><meta charset="utf-8"><title>App</title></head><body><button id="go">Sign in</button></body></html>');
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { origin: `http://localhost:${port}`, close: () => new Promise((r) => server.close(r)) };
}

describe(`FedCM in Chromium against gatehouse (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  const login = `fedcm${Date.now().toString(36)}`;
  let idp;
  let app;
  let gatehouse;
  let browser;

  before(async () => {
    idp = await startFedcmIdp({ login });
    app = await startApp();
    gatehouse = await startGatehouse({
      publicHost: 'localhost',
      publicCors: { enabled: true, allowed_origins: [app.origin], allow_credentials: true },
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${app.origin}/`,
        allowed_return_urls: [`${app.origin}/`, `${publicUrl}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          oidc: {
            enabled: true,
            config: {
              providers: [{
                id: 'google', provider: 'google', label: 'FedCM IdP', client_id: clientId, client_secret: 'unused-by-fedcm',
                issuer_url: idp.origin, mapper_url: `base64://${Buffer.from(mapper).toString('base64')}`, fedcm_config_url: idp.configUrl,
              }],
            },
          },
        },
        flows: { registration: { style: 'unified', after: { oidc: { hooks: [{ hook: 'session' }] } } } },
      }),
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.stop();
    await app?.close();
    await idp?.close();
  });

  it('Ory\'s FedCM script signs up through the browser\'s account chooser, and whoami sees the session cookie', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const consoleMessages = [];
      page.on('console', (m) => consoleMessages.push(`${m.type()}: ${m.text()}`));
      // Signed in at the IdP first (its login status), as a user of that IdP is.
      await page.goto(`${idp.origin}/login`);
      await page.goto(`${app.origin}/`);

      const cdp = await context.newCDPSession(page);
      const dialogs = [];
      cdp.on('FedCm.dialogShown', async (event) => {
        dialogs.push(event);
        await cdp.send('FedCm.selectAccount', { dialogId: event.dialogId, accountIndex: 0 });
      });
      await cdp.send('FedCm.enable', { disableRejectionDelay: true });

      const outcome = await page.evaluate(async (base) => {
        try {
          // Ory's documented script, with Accept: application/json to read the answer.
          const parameters = await (await fetch(`${base}/self-service/fed-cm/parameters`, { credentials: 'include' })).json();
          const credential = await navigator.credentials.get({
            identity: { providers: parameters.providers.map((p) => ({ configURL: p.config_url, clientId: p.client_id, nonce: p.nonce })) },
          });
          const res = await fetch(`${base}/self-service/fed-cm/token`, {
            credentials: 'include',
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify({ token: credential.token, csrf_token: parameters.csrf_token }),
          });
          const answer = await res.json();
          const whoami = await fetch(`${base}/sessions/whoami`, { credentials: 'include' });
          return { status: res.status, answer, whoami: whoami.status, whoamiIdentity: (await whoami.json()).identity?.id };
        } catch (err) {
          return { failed: `${err.name}: ${err.message}` };
        }
      }, gatehouse.publicUrl);

      const context_ = `console: ${consoleMessages.join('\n')}\nIdP calls: ${idp.calls.map((c) => `${c.method} ${c.path}`).join(', ')}`;
      assert.equal(outcome.failed, undefined, context_);
      assert.equal(dialogs.length, 1, context_);
      assert.deepEqual(dialogs[0].accounts.map((a) => a.email), [`${login}@idp.test`]);
      assert.equal(outcome.status, 200, `${JSON.stringify(outcome.answer)}\n${context_}`);
      assert.equal(outcome.answer.session.identity.traits.email, `${login}@idp.test`);
      assert.equal(outcome.whoami, 200);
      assert.equal(outcome.whoamiIdentity, outcome.answer.session.identity.id);

      // The browser asked the IdP for an assertion for gatehouse's nonce, from the app's origin.
      const assertion = idp.calls.find((c) => c.path === '/assertion');
      assert.equal(assertion.headers.origin, app.origin);
      const form = new URLSearchParams(assertion.body);
      assert.equal(form.get('client_id'), clientId);
      assert.equal(form.get('account_id'), login);
      // Chromium sends the nonce it was given (top level, or in params in later versions): gatehouse accepted the token
      // only because its nonce was the one the parameters issued to this browser.
      assert.match(form.get('nonce') || JSON.parse(form.get('params') ?? '{}').nonce || '', /^[A-Za-z0-9_-]{43}$/);
      const cookies = (await context.cookies(gatehouse.publicUrl)).map((c) => c.name);
      assert.ok(cookies.includes('ory_kratos_session'), `session cookie kept by the browser: ${cookies}`);
    } finally {
      await context.close();
    }
  });
});
