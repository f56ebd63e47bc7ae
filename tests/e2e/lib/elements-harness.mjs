// The harness of the Ory Elements end-to-end tests (elements.test.mjs, elements-identifier-first.test.mjs,
// elements-account.test.mjs, elements-oauth2.test.mjs): the app of lib/elements-app.jsx bundled with esbuild
// (lib/bundle.mjs) and served from its own origin, a mailbox, gatehouse configured for the app, optionally a real OpenID
// provider (lib/idp.mjs), and headless Chromium.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { chromium } from 'playwright-core';
import { startGatehouse, database } from './gatehouse.mjs';
import { startMailbox } from './mailbox.mjs';
import { identityApi } from './sdk.mjs';
import { bundleApp } from './bundle.mjs';
import { startIdp, freePort } from './idp.mjs';

export const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

const schema = {
  $id: 'https://gatehouse.test/elements.schema.json',
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    traits: {
      type: 'object',
      properties: {
        email: {
          type: 'string',
          format: 'email',
          title: 'E-Mail',
          'ory.sh/kratos': {
            credentials: {
              password: { identifier: true },
              code: { identifier: true, via: 'email' },
              totp: { account_name: true },
              webauthn: { identifier: true },
              passkey: { display_name: true },
            },
            verification: { via: 'email' },
            recovery: { via: 'email' },
          },
        },
      },
      required: ['email'],
      additionalProperties: false,
    },
  },
};

/** Serves the app (its page at every path, the bundle and its stylesheet) on a free loopback port, named localhost. */
async function startApp(files, gatehouseUrl) {
  const page = () => '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elements app</title>'
    + `<link rel="stylesheet" href="/app.css"><script>window.GATEHOUSE_URL = ${JSON.stringify(gatehouseUrl())};</script>`
    + '<script defer src="/app.js"></script></head><body><div id="root"></div></body></html>';
  const server = createServer((req, res) => {
    const file = files[req.url];
    if (file) {
      // Cacheable, so the browser compiles Elements' 8 MB bundle once per context rather than on every page.
      res.writeHead(200, { 'content-type': req.url.endsWith('.css') ? 'text/css' : 'text/javascript', 'cache-control': 'max-age=3600' });
      res.end(file);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page());
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://localhost:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

export const password = 'correct horse battery staple 42';

/**
 * Runs in every page of the app's tests. react-intl leaves a message's placeholder as it is when the message's context
 * lacks its value (in production builds without a console error): any "{name}" text on a page is logged as an error,
 * which the test's `problems` then holds.
 */
function reportPlaceholders() {
  const seen = new Set();
  const check = () => {
    // textContent, not innerText: no layout on every batch of React's changes.
    for (const m of document.body?.textContent.matchAll(/\{[a-z_]+\}/g) ?? []) {
      if (!seen.has(m[0])) { seen.add(m[0]); console.error(`unfilled message placeholder ${m[0]}`); }
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
}

/** The upstream provider of the social sign-in tests: lib/idp.mjs's oidc-provider, its verified address the trait. */
function socialProvider(port) {
  const mapper = `local claims = std.extVar('claims');
{ identity: { traits: { email: claims.email }, verified_addresses: [{ via: 'email', value: claims.email }] } }`;
  return {
    id: 'test-idp',
    provider: 'generic',
    label: 'Test IdP',
    client_id: 'gatehouse-e2e',
    client_secret: 'e2e-client-secret-0123456789abcdef',
    issuer_url: `http://127.0.0.1:${port}`,
    scope: ['email'],
    mapper_url: `base64://${Buffer.from(mapper).toString('base64')}`,
  };
}

/**
 * Headless Chromium for the Elements files: one browser, launched at the first `take()`, and a new throw-away context
 * (its own cookies) for each page a test takes; `context.close()` ends it. A test that needs two users at once takes
 * two.
 */
export function chromiumPages({ contextOptions = {}, initScript } = {}) {
  let browser;
  return {
    /** A page in a context of its own: { context, page }. */
    async take() {
      browser ??= await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
      const context = await browser.newContext(contextOptions);
      if (initScript) await context.addInitScript(initScript);
      const page = await context.newPage();
      return { context, page };
    },
    async close() {
      await browser?.close();
    },
  };
}

/**
 * Registers before/after hooks that start the app, a mailbox, gatehouse (`methods`, `login`, `registration`, `settings`,
 * `recovery` and `verification` merged into the selfservice config) and Chromium, and returns the helpers the tests use;
 * `h.admin` is IdentityApi on the admin port.
 */
export function harness({ methods = () => ({}), login = {}, registration = {}, settings = {}, recovery = {}, verification = {}, idp = false } = {}) {
  const h = {};
  before(async () => {
    const idpPort = idp ? await freePort() : null;
    h.app = await startApp(await bundleApp('elements-app.jsx'), () => h.gatehouse.publicUrl);
    h.mailbox = await startMailbox();
    const app = h.app.origin;
    h.gatehouse = await startGatehouse({
      publicHost: 'localhost',
      schema,
      serveArgs: ['--watch-courier'],
      courier: () => ({ smtp: { connection_uri: h.mailbox.connectionUri, from_address: 'accounts@gatehouse.test' } }),
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${app}/home`,
        allowed_return_urls: [`${app}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          ...(idp ? { oidc: { enabled: true, config: { providers: [socialProvider(idpPort)] } } } : {}),
          ...methods(publicUrl, app),
        },
        flows: {
          error: { ui_url: `${app}/error` },
          login: { ui_url: `${app}/login`, ...login },
          registration: {
            ui_url: `${app}/registration`,
            after: { password: { hooks: [{ hook: 'session' }] }, passkey: { hooks: [{ hook: 'session' }] }, oidc: { hooks: [{ hook: 'session' }] } },
            ...registration,
          },
          settings: { ui_url: `${app}/settings`, ...settings },
          recovery: { enabled: true, use: 'code', ui_url: `${app}/recovery`, ...recovery },
          verification: { enabled: true, use: 'code', ui_url: `${app}/verification`, ...verification },
        },
      }),
      publicCors: { enabled: true, allowed_origins: [app] },
    });
    h.admin = identityApi({ basePath: h.gatehouse.adminUrl, accessToken: h.gatehouse.key });
    if (idp) h.idp = await startIdp({ port: idpPort, redirectUris: [`${h.gatehouse.publicUrl}/self-service/methods/oidc/callback/test-idp`] });
    h.chromium = chromiumPages({ initScript: reportPlaceholders });
  });

  after(async () => {
    await h.chromium?.close();
    await h.idp?.close();
    await h.gatehouse?.stop();
    await h.mailbox?.stop();
    await h.app?.close();
  });

  /**
   * A page in a context of its own (`chromiumPages`); `problems` collects page errors (uncaught exceptions in the app or
   * Elements), the app's console errors (react-intl reports some messages whose context lacks a value), and any unfilled
   * "{name}" placeholder shown on the app's pages, but not the browser's own line for each 4xx answer, which the flows
   * expect.
   */
  h.newPage = async () => {
    const { context, page } = await h.chromium.take();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => {
      // Only the app's pages: the upstream provider's dev pages ask for web fonts this machine cannot reach.
      if (m.type() !== 'error' || !page.url().startsWith(h.app.origin)) return;
      if (!m.text().startsWith('Failed to load resource: the server responded with a status of 4')) problems.push(m.text());
    });
    return { context, page, problems };
  };

  /** The session the app's /home page shows: { email, aal, methods } or 'signed out'. */
  h.home = async (page) => {
    await page.waitForURL(`${h.app.origin}/home`);
    await page.waitForSelector('#root[data-state]');
    const text = await page.locator('#root').innerText();
    return text === 'signed out' ? text : JSON.parse(text);
  };

  /** Signs in with identifier and password through Elements' one-screen login form (not identifier-first). */
  h.passwordLogin = async (page, email, secret) => {
    await page.goto(`${h.app.origin}/login`);
    await page.fill('input[name="identifier"]', email);
    await page.fill('input[name="password"]', secret);
    await page.locator('button[name="method"][value="password"]').click();
  };

  /**
   * Runs `act` (a click that submits a settings form) and waits for gatehouse's answer to that submission, and then for
   * Elements' "saved" toast. The answer, not the toast alone, marks this submission's end: a toast of an earlier change on
   * the same page may still be showing. Elements posts its own forms with fetch (a 200 with the flow); the WebAuthn
   * script submits the form natively, which gatehouse answers with a 303 back to the app's settings page.
   */
  h.saved = async (page, act) => {
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/self-service/settings');
    await act();
    const answer = await answered;
    if (answer.status() === 303) assert.match(answer.headers().location, new RegExp(`^${h.app.origin}/settings\\?flow=`));
    else assert.equal(answer.status(), 200, `settings answered ${answer.status()}: ${await answer.text()}`);
    await page.getByText('Your changes have been saved!').last().waitFor();
  };

  /** Signs the browser out as an app does: a logout URL from gatehouse, then that URL. */
  h.signOut = async (page) => {
    await page.evaluate(async (base) => {
      const res = await fetch(`${base}/self-service/logout/browser`, { credentials: 'include', headers: { accept: 'application/json' } });
      const { logout_url: url } = await res.json();
      await fetch(url, { credentials: 'include', headers: { accept: 'application/json' } });
    }, h.gatehouse.publicUrl);
    await page.goto(`${h.app.origin}/home`);
    assert.equal(await h.home(page), 'signed out');
  };

  /**
   * Gives the page a virtual authenticator through the DevTools protocol: a platform passkey authenticator (resident
   * keys, user verification) or, with `securityKey`, a USB key without either. Resolves to { cdp, authenticatorId }.
   */
  h.authenticator = async (context, page, { securityKey = false } = {}) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const options = securityKey
      ? { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false, automaticPresenceSimulation: true }
      : { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true };
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options });
    return { cdp, authenticatorId };
  };

  /** At the upstream provider's dev pages: `login` with any password, then consent (asked the first time only). */
  h.atProvider = async (page, login) => {
    await page.waitForURL((u) => u.origin === h.idp.issuer);
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'anything');
    await page.click('button[type=submit]');
    await page.waitForLoadState();
    if (new URL(page.url()).origin === h.idp.issuer) await page.click('button[type=submit]'); // consent
  };

  h.createIdentity = async (email, credentials) => {
    const { data } = await h.admin.createIdentity({ createIdentityBody: { schema_id: 'default', traits: { email }, credentials } });
    return data;
  };
  return h;
}

/**
 * The `skip` option of the Elements files' describe blocks. They need Chromium, and they run once, on SQLite: they check
 * the UI kit against gatehouse's HTTP answers, which the database does not change, while every flow they click through
 * runs on PostgreSQL too in the API-level e2e files and in xunit. On PostgreSQL they would add ~3.5 minutes of the CI
 * machine's two cores (91 + 75 + 47 s at two files at a time), a seventh of the whole run.
 */
export const skip = !hasChromium
  ? `${chromiumPath} is not installed`
  : database === 'postgres' ? 'the Ory Elements tests run on SQLite only (the answers they check do not depend on the database)' : false;
