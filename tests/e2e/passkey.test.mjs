// Passkeys in a real browser: headless Chromium with a virtual platform authenticator (Chrome DevTools Protocol
// WebAuthn.addVirtualAuthenticator) registers through gatehouse's built-in pages with a passkey, signs out, and signs
// in with the passkey (by autofill, then by its button) — the page's buttons run the served /.well-known/ory/webauthn.js, whose answers the server
// verifies. Then a security key (the webauthn method, a second factor): added in settings, and stepped up with after a
// password sign-in. The public URL is http://localhost:<port> (a secure context, and a domain WebAuthn accepts as RP id).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { chromium } from 'playwright-core';
import { startGatehouse, database } from './lib/gatehouse.mjs';

const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

const schema = {
  $id: 'https://gatehouse.test/passkey.schema.json',
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
          'ory.sh/kratos': { credentials: { password: { identifier: true }, webauthn: { identifier: true }, passkey: { display_name: true } } },
        },
      },
      required: ['email'],
      additionalProperties: false,
    },
  },
};

/** A browser context whose pages talk to a virtual platform authenticator (resident keys, user verification). */
async function withAuthenticator(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  // Failed loads are reported by URL (the browser asks for /favicon.ico, which the pages do not serve).
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`); });
  page.on('pageerror', (e) => problems.push(String(e)));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { context, page, cdp, authenticatorId, problems };
}

describe(`Passkeys through the built-in pages, in Chromium with a virtual authenticator (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let gatehouse;
  let browser;

  before(async () => {
    gatehouse = await startGatehouse({
      publicHost: 'localhost',
      schema,
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${publicUrl}/ui/welcome`,
        allowed_return_urls: [`${publicUrl}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          passkey: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl] } } },
          webauthn: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl] } } },
        },
        flows: { registration: { style: 'unified', after: { passkey: { hooks: [{ hook: 'session' }] }, password: { hooks: [{ hook: 'session' }] } } } },
      }),
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.stop();
  });

  it('registers with a passkey, signs out, and signs in with the passkey without typing anything', async () => {
    const { context, page, cdp, authenticatorId, problems } = await withAuthenticator(browser);
    try {
      const email = `passkey-${Date.now()}@example.com`;
      await page.goto(`${gatehouse.publicUrl}/self-service/registration/browser`);
      assert.match(page.url(), /\/ui\/registration\?flow=/);
      await page.fill('input[name="traits.email"]', email);
      const signUp = page.locator('button[data-webauthn-trigger="oryPasskeyRegistration"]');
      await signUp.waitFor({ state: 'visible' }); // shown once the page's script found WebAuthn
      await Promise.all([page.waitForURL(/\/ui\/welcome/), signUp.click()]);
      assert.match(await page.textContent('main'), new RegExp(email.replace(/[.]/g, '\\.')));
      assert.match(await page.textContent('main'), /passkey/);

      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0].isResidentCredential, true);
      assert.equal(credentials[0].rpId, 'localhost');

      // Sign out through the page's link, which lands on the sign-in page. There, autofill (a conditional-mediation
      // request for the identifier field) is answered by the virtual authenticator at once, as a user picking the
      // offered passkey: the form submits itself and the browser is signed in without typing anything. (No page.goto
      // here: it would race that self-submitting form, and one of the two navigations would be aborted.)
      await Promise.all([page.waitForURL(/\/ui\/login/), page.click('text=Log out')]);
      await page.waitForURL(/\/ui\/welcome/);
      assert.match(await page.textContent('main'), new RegExp(email.replace(/[.]/g, '\\.')));

      // Again without autofill (a browser that has no conditional mediation): the "Sign in with passkey" button.
      await page.addInitScript(() => { window.PublicKeyCredential.isConditionalMediationAvailable = async () => false; });
      await Promise.all([page.waitForURL(/\/ui\/login/), page.click('text=Log out')]);
      await page.goto(`${gatehouse.publicUrl}/self-service/login/browser`);
      assert.match(page.url(), /\/ui\/login\?flow=/);
      assert.equal(await page.getAttribute('input[name="identifier"]', 'autocomplete'), 'username webauthn');
      assert.equal(await page.getAttribute('input[name="passkey_login"]', 'data-webauthn-onload'), 'oryPasskeyLoginAutocompleteInit');
      const signIn = page.locator('button[data-webauthn-trigger="oryPasskeyLogin"]');
      await signIn.waitFor({ state: 'visible' });
      await Promise.all([page.waitForURL(/\/ui\/welcome/), signIn.click()]);
      assert.match(await page.textContent('main'), new RegExp(email.replace(/[.]/g, '\\.')));

      const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0];
      assert.ok(after.signCount >= 2, `the authenticator signed twice: ${after.signCount}`);
      const identities = await (await fetch(`${gatehouse.adminUrl}/admin/identities?credentials_identifier=${encodeURIComponent(Buffer.from(after.userHandle, 'base64').toString())}`, {
        headers: { authorization: `Bearer ${gatehouse.key}` },
      })).json();
      assert.equal(identities.length, 1, 'the passkey user handle names the account');
      assert.equal(identities[0].traits.email, email);
      assert.deepEqual(problems.filter((p) => !/Passkey|WebAuthn|credential|aborted|Abort/i.test(p)), [], 'no script errors or CSP violations');
    } finally {
      await context.close();
    }
  });

  it('adds a security key in settings as a second factor, then steps up to aal2 with it after a password sign-in', async () => {
    const { context, page, cdp, authenticatorId, problems } = await withAuthenticator(browser);
    try {
      const email = `key-${Date.now()}@example.com`;
      const password = `e2e-${Math.random().toString(36).slice(2)}-Passphrase!`;
      await page.goto(`${gatehouse.publicUrl}/self-service/registration/browser`);
      await page.fill('input[name="traits.email"]', email);
      await page.fill('input[name="password"]', password);
      await Promise.all([page.waitForURL(/\/ui\/welcome/), page.click('button[name="method"][value="password"]')]);

      await page.goto(`${gatehouse.publicUrl}/self-service/settings/browser`);
      assert.match(page.url(), /\/ui\/settings\?flow=/);
      await page.fill('input[name="webauthn_register_displayname"]', 'My key');
      const add = page.locator('button[data-webauthn-trigger="oryWebAuthnRegistration"]');
      await add.waitFor({ state: 'visible' });
      await Promise.all([page.waitForURL(/\/ui\/settings\?flow=/), page.waitForEvent('load'), add.click()]);
      await page.locator('button[name="webauthn_remove"]').waitFor();
      assert.match(await page.textContent('button[name="webauthn_remove"]'), /My key/);
      assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1);

      // Out, and in again with the password: the identity has a second factor, so the page asks for the key.
      await page.goto(`${gatehouse.publicUrl}/ui/welcome`);
      await Promise.all([page.waitForURL(/\/ui\/login/), page.click('text=Log out')]);
      await page.goto(`${gatehouse.publicUrl}/self-service/login/browser`);
      await page.fill('input[name="identifier"]', email);
      await page.fill('input[name="password"]', password);
      await Promise.all([page.waitForURL(/\/ui\/login\?flow=/), page.click('button[name="method"][value="password"]')]);
      const stepUp = page.locator('button[data-webauthn-trigger="oryWebAuthnLogin"]');
      await stepUp.waitFor({ state: 'visible' });
      await Promise.all([page.waitForURL(/\/ui\/welcome/), stepUp.click()]);
      assert.match(await page.textContent('main'), /aal2/);
      assert.match(await page.textContent('main'), /webauthn/);
      assert.deepEqual(problems.filter((p) => !/Passkey|WebAuthn|credential|aborted|Abort/i.test(p)), [], 'no script errors or CSP violations');
    } finally {
      await context.close();
    }
  });

  it('a browser without WebAuthn gets a clear text instead of passkey buttons, and the password still works', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.addInitScript(() => { delete window.PublicKeyCredential; });
      await page.goto(`${gatehouse.publicUrl}/self-service/login/browser`);
      await page.locator('.webauthn-unsupported').waitFor({ state: 'visible' });
      assert.equal(await page.locator('button[data-webauthn-trigger]').isVisible(), false);
      assert.ok(await page.locator('button[name="method"][value="password"]').isVisible());
    } finally {
      await context.close();
    }
  });
});

// Identifier-first login (selfservice.flows.login.style: identifier_first) with passkeys and passwordless security keys:
// the first screen offers passkeys as autofill on the identifier; the second shows the passkey button to an account with
// a passkey and "Sign in with hardware key" to one with a passwordless security key (Kratos's idfirst screens).
describe(`Identifier-first login with passkeys and security keys, in Chromium with a virtual authenticator (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let gatehouse;
  let browser;

  before(async () => {
    gatehouse = await startGatehouse({
      publicHost: 'localhost',
      schema,
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${publicUrl}/ui/welcome`,
        allowed_return_urls: [`${publicUrl}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          passkey: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl] } } },
          webauthn: { enabled: true, config: { passwordless: true, rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl] } } },
        },
        flows: {
          login: { style: 'identifier_first' },
          registration: { style: 'unified', after: { passkey: { hooks: [{ hook: 'session' }] }, webauthn: { hooks: [{ hook: 'session' }] } } },
        },
      }),
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.stop();
  });

  const escaped = (email) => new RegExp(email.replace(/[.]/g, '\\.'));

  it('signs in with a passkey by autofill on the first screen, then by the button on the second', async () => {
    const { context, page, problems } = await withAuthenticator(browser);
    try {
      const email = `idfirst-passkey-${Date.now()}@example.com`;
      await page.goto(`${gatehouse.publicUrl}/self-service/registration/browser`);
      await page.fill('input[name="traits.email"]', email);
      const signUp = page.locator('button[data-webauthn-trigger="oryPasskeyRegistration"]');
      await signUp.waitFor({ state: 'visible' });
      await Promise.all([page.waitForURL(/\/ui\/welcome/), signUp.click()]);

      // The first screen, where signing out lands: autofill answers at once, as a user picking the offered passkey;
      // no second screen. (No page.goto: it would race the self-submitting form.)
      await Promise.all([page.waitForURL(/\/ui\/login/), page.click('text=Log out')]);
      await page.waitForURL(/\/ui\/welcome/);
      assert.match(await page.textContent('main'), escaped(email));
      assert.match(await page.textContent('main'), /passkey/);

      // Without autofill: the identifier, "Continue", then the passkey button on the second screen.
      await page.addInitScript(() => { window.PublicKeyCredential.isConditionalMediationAvailable = async () => false; });
      await Promise.all([page.waitForURL(/\/ui\/login/), page.click('text=Log out')]);
      await page.goto(`${gatehouse.publicUrl}/self-service/login/browser`);
      assert.match(page.url(), /\/ui\/login\?flow=/);
      assert.equal(await page.getAttribute('input[name="identifier"]', 'autocomplete'), 'username webauthn');
      assert.equal(await page.locator('button[data-webauthn-trigger="oryPasskeyLogin"]').count(), 0, 'no passkey button before the identifier');
      assert.equal(await page.locator('input[name="password"]').count(), 0);
      await page.fill('input[name="identifier"]', email);
      await Promise.all([page.waitForURL(/\/ui\/login\?flow=/), page.waitForEvent('load'), page.click('button[name="method"][value="identifier_first"]')]);
      assert.match(await page.textContent('.identifier-first'), escaped(email));
      assert.equal(await page.locator('input[name="password"]').count(), 0, 'the account has no password');
      const signIn = page.locator('button[data-webauthn-trigger="oryPasskeyLogin"]');
      await signIn.waitFor({ state: 'visible' });
      await Promise.all([page.waitForURL(/\/ui\/welcome/), signIn.click()]);
      assert.match(await page.textContent('main'), escaped(email));
      assert.deepEqual(problems.filter((p) => !/Passkey|WebAuthn|credential|aborted|Abort/i.test(p)), [], 'no script errors or CSP violations');
    } finally {
      await context.close();
    }
  });

  it('signs in with a passwordless security key from the second screen', async () => {
    const { context, page, problems } = await withAuthenticator(browser);
    try {
      const email = `idfirst-key-${Date.now()}@example.com`;
      await page.goto(`${gatehouse.publicUrl}/self-service/registration/browser`);
      await page.fill('input[name="traits.email"]', email);
      await page.fill('input[name="webauthn_register_displayname"]', 'Desk key');
      const signUp = page.locator('button[data-webauthn-trigger="oryWebAuthnRegistration"]');
      await signUp.waitFor({ state: 'visible' });
      await Promise.all([page.waitForURL(/\/ui\/welcome/), signUp.click()]);

      await page.addInitScript(() => { window.PublicKeyCredential.isConditionalMediationAvailable = async () => false; });
      await Promise.all([page.waitForURL(/\/ui\/login/), page.click('text=Log out')]);
      await page.goto(`${gatehouse.publicUrl}/self-service/login/browser`);
      await page.fill('input[name="identifier"]', email);
      await Promise.all([page.waitForURL(/\/ui\/login\?flow=/), page.waitForEvent('load'), page.click('button[name="method"][value="identifier_first"]')]);
      assert.equal(await page.locator('button[data-webauthn-trigger="oryPasskeyLogin"]').count(), 0, 'the account has no passkey');
      // "Sign in with hardware key" names the account (no script needed); the next page asks for its key.
      await Promise.all([page.waitForURL(/\/ui\/login\?flow=/), page.waitForEvent('load'), page.click('button[name="method"][value="webauthn"]')]);
      const key = page.locator('button[data-webauthn-trigger="oryWebAuthnLogin"]');
      await key.waitFor({ state: 'visible' });
      await Promise.all([page.waitForURL(/\/ui\/welcome/), key.click()]);
      assert.match(await page.textContent('main'), escaped(email));
      assert.match(await page.textContent('main'), /webauthn/);
      assert.deepEqual(problems.filter((p) => !/Passkey|WebAuthn|credential|aborted|Abort/i.test(p)), [], 'no script errors or CSP violations');
    } finally {
      await context.close();
    }
  });
});
