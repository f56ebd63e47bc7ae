// Passkeys from a single-page app on another origin, in headless Chromium with a virtual authenticator: the page
// (lib/passkey-app.mjs, bundled with esbuild) uses @ory/client-fetch to create browser flows, renders their nodes as a
// native form and loads the flow's script node — gatehouse's /.well-known/ory/webauthn.js, cross-origin, checked by the
// browser against the node's `integrity` (which needs the script's CORS answer). The functions that script defines run
// the ceremony and post the form to gatehouse, which answers with a redirect back to the app. The app origin is one of
// the relying party's `origins`, as Kratos configures an app served apart from the identity server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startGatehouse, database } from './lib/gatehouse.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

const schema = {
  $id: 'https://gatehouse.test/passkey-spa.schema.json',
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
          'ory.sh/kratos': { credentials: { password: { identifier: true }, passkey: { display_name: true } } },
        },
      },
      required: ['email'],
      additionalProperties: false,
    },
  },
};

/** Serves the app's page (at every path) and its bundle on a free loopback port, named localhost (WebAuthn wants a domain). */
async function startAppServer(bundle) {
  const page = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SPA</title><script src="/app.js"></script></head><body><main>app</main></body></html>';
  const server = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://localhost:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

describe(`Passkeys from an app on another origin with @ory/client-fetch and the served webauthn.js, in Chromium (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let app;
  let gatehouse;
  let browser;

  before(async () => {
    const result = await build({
      entryPoints: [path.join(here, 'lib', 'passkey-app.mjs')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'chrome120',
      write: false,
      logLevel: 'error',
    });
    app = await startAppServer(result.outputFiles[0].text);
    gatehouse = await startGatehouse({
      publicHost: 'localhost',
      schema,
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${app.origin}/done`,
        allowed_return_urls: [`${app.origin}/`, `${publicUrl}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          passkey: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl, app.origin] } } },
        },
        flows: { registration: { style: 'unified', after: { passkey: { hooks: [{ hook: 'session' }] } } } },
      }),
      publicCors: { enabled: true, allowed_origins: [app.origin] },
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.stop();
    await app?.close();
  });

  it('registers with a passkey, signs out, and signs in with it — all driven by the app', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = [];
      // The one expected failure the browser logs is toSession's 401 after signing out.
      page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(String(e)));
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      const base = gatehouse.publicUrl;

      // Registration: the flow's script node is gatehouse's webauthn.js, loaded cross-origin under its integrity hash.
      await page.goto(`${app.origin}/`);
      const registration = await page.evaluate(([b]) => window.renderFlow(b, 'registration'), [base]);
      assert.deepEqual(registration.scripts.map((s) => s.src), [`${base}/.well-known/ory/webauthn.js`]);
      assert.match(registration.scripts[0].integrity, /^sha(256|384|512)-/);
      assert.equal(registration.scripts[0].crossorigin, 'anonymous');
      assert.ok(registration.triggers.includes('oryPasskeyRegistration'), `triggers: ${registration.triggers}`);
      const email = `spa-passkey-${Date.now()}@example.com`;
      await page.fill('input[name="traits.email"]', email);
      // The function posts the form to gatehouse, which signs the browser in and sends it back to the app.
      await Promise.all([page.waitForURL(`${app.origin}/done`), page.evaluate(() => window.oryPasskeyRegistration())]);
      assert.deepEqual(await page.evaluate(([b]) => window.whoAmI(b), [base]), { email, methods: ['passkey'], aal: 'aal1' });
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0].rpId, 'localhost');

      // Out, and in again with the passkey button's function: no identifier typed.
      await page.evaluate(([b]) => window.logOut(b), [base]);
      assert.deepEqual(await page.evaluate(([b]) => window.whoAmI(b), [base]), { status: 401 });
      await page.goto(`${app.origin}/`);
      const login = await page.evaluate(([b]) => window.renderFlow(b, 'login'), [base]);
      assert.ok(login.triggers.includes('oryPasskeyLogin'), `triggers: ${login.triggers}`);
      await Promise.all([page.waitForURL(`${app.origin}/done`), page.evaluate(() => window.oryPasskeyLogin())]);
      assert.deepEqual(await page.evaluate(([b]) => window.whoAmI(b), [base]), { email, methods: ['passkey'], aal: 'aal1' });
      assert.ok((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount >= 2, 'the authenticator signed twice');
      assert.deepEqual(problems, [], 'no script, integrity or CORS errors');
    } finally {
      await context.close();
    }
  });

  it('without the app origin among the relying party origins, the ceremony is refused and nobody is signed in', async () => {
    const other = await startAppServer((await build({
      entryPoints: [path.join(here, 'lib', 'passkey-app.mjs')], bundle: true, platform: 'browser', format: 'iife', target: 'chrome120', write: false, logLevel: 'error',
    })).outputFiles[0].text);
    const strict = await startGatehouse({
      publicHost: 'localhost',
      schema,
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${other.origin}/done`,
        allowed_return_urls: [`${other.origin}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          passkey: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl] } } },
        },
        flows: { registration: { style: 'unified', after: { passkey: { hooks: [{ hook: 'session' }] } } } },
      }),
      publicCors: { enabled: true, allowed_origins: [other.origin] },
    });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      await page.goto(`${other.origin}/`);
      await page.evaluate(([b]) => window.renderFlow(b, 'registration'), [strict.publicUrl]);
      const email = `spa-wrong-origin-${Date.now()}@example.com`;
      await page.fill('input[name="traits.email"]', email);
      // The browser signs for the app's origin; gatehouse, not configured for it, answers the form with the flow again
      // (a redirect to the registration UI carrying the flow) and creates nobody.
      const [response] = await Promise.all([page.waitForNavigation(), page.evaluate(() => window.oryPasskeyRegistration())]);
      assert.ok(response, 'the form was posted');
      assert.ok(!page.url().startsWith(`${other.origin}/done`), `not sent back as signed in: ${page.url()}`);
      const found = await (await fetch(`${strict.adminUrl}/admin/identities?credentials_identifier=${encodeURIComponent(email)}`, { headers: { authorization: `Bearer ${strict.key}` } })).json();
      assert.deepEqual(found, [], 'no identity was created');
    } finally {
      await context.close();
      await strict.stop();
      await other.close();
    }
  });
});
