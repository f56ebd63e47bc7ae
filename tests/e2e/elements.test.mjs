// An app built on Ory Elements against gatehouse, in headless Chromium: lib/elements-app.jsx renders gatehouse's browser
// flows with @ory/elements-react's components (which submit them through @ory/client-fetch), served from another origin
// as Ory's docs set such an app up. The user clicks through Elements' own forms: registration in two steps, a refused
// and an accepted password, TOTP enrolment in settings and the second factor at the next sign-in, recovery by a mailed
// code that must step up to aal2 before settings, verification by code, and a passkey registered and used (by autofill)
// through the webauthn.js script node Elements loads (a virtual authenticator signs); and, with identifier-first login
// (the style Ory Network projects use), the password on the second screen, a code by mail, and backup codes created in
// settings and spent as the second factor.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import * as OTPAuth from 'otpauth';
import { startGatehouse, database } from './lib/gatehouse.mjs';
import { startMailbox, waitForCode } from './lib/mailbox.mjs';
import { identityApi, uniqueEmail } from './lib/sdk.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
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
      res.writeHead(200, { 'content-type': req.url.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(file);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page());
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://localhost:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const password = 'correct horse battery staple 42';

/** The app's bundle and stylesheet, built once for the file: { '/app.js': bytes, '/app.css': bytes }. */
async function buildApp() {
  const result = await build({
    entryPoints: [path.join(here, 'lib', 'elements-app.jsx')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    minify: true,
    outdir: 'out', // names the outputs (app.js, app.css); nothing is written
    write: false,
    logLevel: 'error',
  });
  const files = Object.fromEntries(result.outputFiles.map((f) => [`/${path.basename(f.path).replace('elements-app', 'app')}`, f.contents]));
  assert.deepEqual(Object.keys(files).sort(), ['/app.css', '/app.js']);
  return files;
}

/**
 * Registers before/after hooks that start the app, a mailbox, gatehouse (`methods` and `login` merged into the
 * selfservice config) and Chromium, and returns the helpers the tests use; `h.admin` is IdentityApi on the admin port.
 */
function harness({ methods = () => ({}), login = {} } = {}) {
  const h = {};
  before(async () => {
    h.app = await startApp(await buildApp(), () => h.gatehouse.publicUrl);
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
        methods: { password: { config: { haveibeenpwned_enabled: false } }, ...methods(publicUrl, app) },
        flows: {
          error: { ui_url: `${app}/error` },
          login: { ui_url: `${app}/login`, ...login },
          registration: {
            ui_url: `${app}/registration`,
            after: { password: { hooks: [{ hook: 'session' }] }, passkey: { hooks: [{ hook: 'session' }] } },
          },
          settings: { ui_url: `${app}/settings` },
          recovery: { enabled: true, use: 'code', ui_url: `${app}/recovery` },
          verification: { enabled: true, use: 'code', ui_url: `${app}/verification` },
        },
      }),
      publicCors: { enabled: true, allowed_origins: [app] },
    });
    h.admin = identityApi({ basePath: h.gatehouse.adminUrl, accessToken: h.gatehouse.key });
    h.browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await h.browser?.close();
    await h.gatehouse?.stop();
    await h.mailbox?.stop();
    await h.app?.close();
  });

  /** A new browser context and page; `problems` collects page errors (uncaught exceptions in the app or Elements). */
  h.newPage = async () => {
    const context = await h.browser.newContext();
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    return { context, page, problems };
  };

  /** The session the app's /home page shows: { email, aal, methods } or 'signed out'. */
  h.home = async (page) => {
    await page.waitForURL(`${h.app.origin}/home`);
    await page.waitForSelector('#root[data-state]');
    const text = await page.locator('#root').innerText();
    return text === 'signed out' ? text : JSON.parse(text);
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

  h.createIdentity = async (email, credentials) => {
    const { data } = await h.admin.createIdentity({ createIdentityBody: { schema_id: 'default', traits: { email }, credentials } });
    return data;
  };
  return h;
}

const skip = hasChromium ? false : `${chromiumPath} is not installed`;

describe(`An app built on Ory Elements (@ory/elements-react) against gatehouse, in Chromium (${database})`, { skip }, () => {
  const h = harness({
    methods: (publicUrl, app) => ({
      totp: { enabled: true, config: { issuer: 'Gatehouse E2E' } },
      passkey: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl, app] } } },
    }),
  });
  const { newPage, home, signOut, createIdentity } = h;

  /** Signs in with identifier and password through Elements' one-screen login form. */
  async function passwordLogin(page, email, secret) {
    await page.goto(`${h.app.origin}/login`);
    await page.fill('input[name="identifier"]', email);
    await page.fill('input[name="password"]', secret);
    await page.getByRole('button', { name: 'Sign in with password' }).click();
  }

  it('registers with a password in two steps, refuses a wrong password with its message, and signs in', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements');
      await page.goto(`${h.app.origin}/registration`);
      await page.fill('input[name="traits.email"]', email);
      await page.getByRole('button', { name: 'Sign up' }).click();
      // The second step: the email as a chip and a choice of the methods that can finish the registration.
      await page.getByTestId('ory/form/auth-picker/password').click();
      await page.fill('input[name="password"]', password);
      await page.getByRole('button', { name: 'Sign up' }).click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });

      await signOut(page);
      await passwordLogin(page, email, 'not the password at all');
      await page.getByText('The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.').waitFor();
      await page.fill('input[name="password"]', password);
      await page.getByRole('button', { name: 'Sign in with password' }).click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('enrols an authenticator app in settings, then asks for its code after the password at the next sign-in', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-totp');
      await createIdentity(email, { password: { config: { password } } });
      await passwordLogin(page, email, password);
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });

      await page.goto(`${h.app.origin}/settings`);
      const secret = await page.locator('input[name="totp_secret_key"]').inputValue();
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
      await page.fill('input[name="totp_code"]', totp.generate());
      await page.locator('button[name="method"][value="totp"]').click();
      await page.getByText('You currently have an authenticator app connected.').waitFor();
      const { data: identity } = await h.admin.getIdentity({ id: (await h.admin.listIdentities({ credentialsIdentifier: email })).data[0].id, includeCredential: ['totp'] });
      assert.match(identity.credentials.totp.config.totp_url, new RegExp(`secret=${secret}`));

      await signOut(page);
      await passwordLogin(page, email, password);
      // The app's login page now shows the second factor's form (gatehouse sent the browser to an aal2 login flow).
      await page.getByText('Please enter the code generated by your Authenticator App').waitFor();
      // The enrolment used this time step; the replay guard wants a later one, which the ±1 step window accepts.
      await page.fill('input[name="totp_code"]', totp.generate({ timestamp: Date.now() + 30_000 }));
      await page.locator('button[name="method"][value="totp"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal2', methods: ['password', 'totp'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('recovers an account by a mailed code, steps up with the second factor before settings, and sets a new password', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-recovery');
      const totp = new OTPAuth.TOTP({ issuer: 'Gatehouse E2E', label: email, secret: new OTPAuth.Secret(), digits: 6, period: 30 });
      await createIdentity(email, { password: { config: { password } }, totp: { config: { totp_url: totp.toString() } } });

      await page.goto(`${h.app.origin}/recovery`);
      await page.fill('input[name="email"]', email);
      await page.locator('button[name="method"][value="code"]').click();
      const { code } = await waitForCode(h.mailbox, email, { subject: 'Recover' });
      await page.fill('input[name="code"]', code);
      await page.locator('button[name="method"][value="code"]').click();
      // The recovered session is aal1; settings want the highest available level, so gatehouse answers the settings
      // flow with 403 session_aal2_required and the app follows it to the second factor.
      await page.getByText('Please enter the code generated by your Authenticator App').waitFor();
      await page.fill('input[name="totp_code"]', totp.generate());
      await page.locator('button[name="method"][value="totp"]').click();
      await page.waitForURL(new RegExp(`^${h.app.origin}/settings\\?flow=`));
      await page.fill('input[name="password"]', 'a new password after recovery');
      await page.locator('button[name="method"][value="password"]').click();
      await page.getByText('Your changes have been saved!').waitFor();

      await signOut(page);
      await passwordLogin(page, email, 'a new password after recovery');
      await page.getByText('Please enter the code generated by your Authenticator App').waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('verifies an email address by a mailed code', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-verify');
      const identity = await createIdentity(email, { password: { config: { password } } });
      assert.equal(identity.verifiable_addresses[0].verified, false);

      await page.goto(`${h.app.origin}/verification`);
      await page.fill('input[name="email"]', email);
      await page.locator('button[name="method"][value="code"]').click();
      const { code } = await waitForCode(h.mailbox, email, { subject: 'verify' });
      await page.fill('input[name="code"]', code);
      await page.locator('button[name="method"][value="code"]').click();
      await page.getByText('You successfully verified your email address.').waitFor();
      const { data } = await h.admin.getIdentity({ id: identity.id });
      assert.equal(data.verifiable_addresses[0].verified, true);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('registers with a passkey and signs in with it by autofill, through the script node Elements loads', async () => {
    const { context, page, problems } = await newPage();
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      const email = uniqueEmail('elements-passkey');
      await page.goto(`${h.app.origin}/registration`);
      await page.fill('input[name="traits.email"]', email);
      await page.getByRole('button', { name: 'Sign up' }).click();
      // Elements enables its passkey choice once the flow's script (gatehouse's webauthn.js) has loaded.
      await page.getByTestId('ory/form/auth-picker/passkey').click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['passkey'] });
      assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1);

      await signOut(page);
      // The login page's identifier field carries the passkey autofill (conditional mediation) that Elements starts
      // through the script's onload trigger; the virtual authenticator offers its one passkey at once, so the page signs
      // in without a click (the passkey button's path is passkey-spa.test.mjs's).
      await page.goto(`${h.app.origin}/login`);
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['passkey'] });
      assert.ok((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount >= 2, 'the authenticator signed twice');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe(`An app built on Ory Elements with identifier-first login, codes by mail and backup codes (${database})`, { skip }, () => {
  const h = harness({
    methods: () => ({ code: { passwordless_enabled: true }, lookup_secret: { enabled: true } }),
    login: { style: 'identifier_first' },
  });
  const { newPage, home, signOut, createIdentity } = h;

  /** The first screen of an identifier-first login: the identifier, then Elements' continue button. */
  async function identify(page, email) {
    await page.goto(`${h.app.origin}/login`);
    await page.fill('input[name="identifier"]', email);
    await page.locator('button[name="method"][value="identifier_first"]').click();
  }

  it('signs in identifier first: the address, then the password', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-first');
      await createIdentity(email, { password: { config: { password } } });
      await identify(page, email);
      await page.getByTestId('ory/form/auth-picker/password').click();
      await page.fill('input[name="password"]', password);
      await page.locator('button[name="method"][value="password"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('signs in by a code sent to the address', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-code');
      await createIdentity(email, { password: { config: { password } } });
      await identify(page, email);
      await page.getByTestId('ory/form/auth-picker/code').click();
      const { code } = await waitForCode(h.mailbox, email, { subject: 'Login' });
      await page.fill('input[name="code"]', code);
      await page.locator('button[name="method"][value="code"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['code'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('creates backup codes in settings, and one of them is the second factor at the next sign-in', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-lookup');
      await createIdentity(email, { password: { config: { password } } });
      const signInWithPassword = async () => {
        await identify(page, email);
        await page.getByTestId('ory/form/auth-picker/password').click();
        await page.fill('input[name="password"]', password);
        await page.locator('button[name="method"][value="password"]').click();
      };
      await signInWithPassword();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });

      await page.goto(`${h.app.origin}/settings`);
      await page.locator('button[name="lookup_secret_regenerate"]').click();
      await page.locator('button[name="lookup_secret_confirm"]').waitFor();
      const codes = await page.getByTestId('ory/screen/settings/group/recovery_code/codes').locator('p').allInnerTexts();
      assert.equal(codes.length, 12, `backup codes shown: ${codes}`);
      for (const c of codes) assert.match(c, /^[a-z0-9]{8}$/);
      await page.locator('button[name="lookup_secret_confirm"]').click();
      await page.getByText('Your changes have been saved!').waitFor();

      await signOut(page);
      await signInWithPassword();
      // The only second factor the account has, so Elements shows its form without a choice.
      await page.getByText('Please enter one of your 8-digit backup recovery codes').waitFor();
      await page.fill('input[name="lookup_secret"]', codes[0]);
      await page.locator('button[name="method"][value="lookup_secret"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal2', methods: ['password', 'lookup_secret'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
