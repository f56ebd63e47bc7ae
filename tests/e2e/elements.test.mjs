// An app built on Ory Elements against gatehouse, in headless Chromium: lib/elements-app.jsx renders gatehouse's browser
// flows with @ory/elements-react's components (which submit them through @ory/client-fetch), served from another origin
// as Ory's docs set such an app up. The user clicks through Elements' own forms: registration in two steps and its
// refusals (worded by Elements from each message's id and context), a refused return_to on the app's error page, a
// refused and an accepted password, TOTP enrolment in settings and the second factor at the next sign-in, recovery by a
// mailed code that must step up to aal2 before settings, verification by code, a passkey registered and used (by
// autofill) through the webauthn.js script node Elements loads (a virtual authenticator signs), passkeys added and
// removed in settings, and the refresh login a privileged settings change asks for. The harness is
// lib/elements-harness.mjs; elements-identifier-first.test.mjs runs the same app with identifier-first login.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { database } from './lib/gatehouse.mjs';
import { waitForCode } from './lib/mailbox.mjs';
import { uniqueEmail } from './lib/sdk.mjs';
import { harness, password, skip } from './lib/elements-harness.mjs';

describe(`An app built on Ory Elements (@ory/elements-react) against gatehouse, in Chromium (${database})`, { skip }, () => {
  const h = harness({
    methods: (publicUrl, app) => ({
      totp: { enabled: true, config: { issuer: 'Gatehouse E2E' } },
      passkey: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl, app] } } },
    }),
  });
  const { newPage, home, signOut, createIdentity, passwordLogin } = h;

  /** Registers through Elements' two steps, choosing the passkey (the page's virtual authenticator makes it). */
  async function registerWithPasskey(page, email) {
    await page.goto(`${h.app.origin}/registration`);
    await page.fill('input[name="traits.email"]', email);
    await page.getByRole('button', { name: 'Sign up' }).click();
    // Elements enables its passkey choice once the flow's script (gatehouse's webauthn.js) has loaded.
    await page.getByTestId('ory/form/auth-picker/passkey').click();
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

  it("renders a refused registration's messages with their values: a short password, an address already in use", async () => {
    const { context, page, problems } = await newPage();
    try {
      const taken = uniqueEmail('elements-taken');
      await createIdentity(taken, { password: { config: { password } } });
      const register = async (email, secret) => {
        await page.goto(`${h.app.origin}/registration`);
        await page.fill('input[name="traits.email"]', email);
        await page.getByRole('button', { name: 'Sign up' }).click();
        await page.getByTestId('ory/form/auth-picker/password').click();
        await page.fill('input[name="password"]', secret);
        await page.getByRole('button', { name: 'Sign up' }).click();
      };
      // Elements words each message itself from its id and context, so the context must carry what its text uses.
      await register(uniqueEmail('elements-short'), 'short');
      assert.equal(await page.getByTestId('ory/message/4000032').innerText(), 'The password must be at least 8 characters long, but got 5.');
      await register(taken, password);
      // Without selfservice.flows.registration.login_hints, Kratos's plain duplicate message.
      assert.equal(await page.getByTestId('ory/message/4000007').innerText(), 'An account with the same identifier (email, phone, username, ...) exists already.');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('shows a refused return_to on the app error page, rendered by Elements from getFlowError', async () => {
    const { context, page, problems } = await newPage();
    try {
      // A login that would end on another site: gatehouse refuses it and forwards the browser to the error UI.
      await page.goto(`${h.gatehouse.publicUrl}/self-service/login/browser?return_to=${encodeURIComponent('https://evil.example/')}`);
      await page.waitForURL(new RegExp(`^${h.app.origin}/error\\?id=`));
      await page.waitForSelector('#root[data-error]');
      const body = await page.locator('#root').innerText();
      // Elements shows the error's reason and its id (for support) — Kratos's words for a return_to off the list.
      assert.match(body, /Requested return_to URL "https:\/\/evil\.example\/" is not allowed\./, body);
      assert.match(body, new RegExp(`ID: ${await page.locator('#root').getAttribute('data-error')}`), body);
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
      await h.saved(page, () => page.locator('button[name="method"][value="password"]').click());

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
      const { cdp, authenticatorId } = await h.authenticator(context, page);
      const email = uniqueEmail('elements-passkey');
      await registerWithPasskey(page, email);
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

  it('manages passkeys in settings: adds a second one, removes the first, and keeps the last', async () => {
    const { context, page, problems } = await newPage();
    try {
      const { cdp, authenticatorId } = await h.authenticator(context, page);
      const email = uniqueEmail('elements-keys');
      await registerWithPasskey(page, email);
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['passkey'] });
      const [first] = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

      // The authenticator forgets the first key (as a new device would not have it), so the registration's exclude list
      // lets it make a second one for the same account.
      await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
      await page.goto(`${h.app.origin}/settings`);
      const removeButtons = page.locator('button[name="passkey_remove"]');
      // The only passkey of an account without a password cannot be removed: gatehouse disables its button, as Kratos
      // does (Elements 1.2.1 draws it enabled anyway), and refuses the removal, changing nothing.
      await removeButtons.waitFor();
      const flow = await page.evaluate(async ([base, id]) => (await fetch(`${base}/self-service/settings/flows?id=${id}`, { credentials: 'include' })).json(), [h.gatehouse.publicUrl, new URL(page.url()).searchParams.get('flow')]);
      assert.deepEqual(flow.ui.nodes.filter((n) => n.attributes.name === 'passkey_remove').map((n) => n.attributes.disabled), [true]);
      await removeButtons.click();
      // Kratos's words, on a new default-group `webauthn_remove` node (its ParseError for a field the form lacks), which
      // Elements draws in each settings section.
      await page.getByText('unable to remove this security key because it would lock you out of your account').first().waitFor();
      assert.equal(await removeButtons.count(), 1);
      await h.saved(page, () => page.locator('button[name="passkey_register_trigger"]').click());
      await removeButtons.nth(1).waitFor();
      const [second] = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
      // Each remove button's value is its key's id in hex, as Kratos writes it.
      const ids = await removeButtons.evaluateAll((buttons) => buttons.map((b) => b.value));
      const hex = (b64) => Buffer.from(b64, 'base64').toString('hex');
      assert.deepEqual([...ids].sort(), [hex(first.credentialId), hex(second.credentialId)].sort());
      // Elements names each key from its remove node's label context: the authenticator's name by AAGUID, "unnamed" for
      // one gatehouse's list does not know (Chromium's virtual authenticator among them).
      const settings = await page.evaluate(async ([base, id]) => (await fetch(`${base}/self-service/settings/flows?id=${id}`, { credentials: 'include' })).json(), [h.gatehouse.publicUrl, new URL(page.url()).searchParams.get('flow')]);
      const names = settings.ui.nodes.filter((n) => n.attributes.name === 'passkey_remove').map((n) => n.meta.label.context.display_name);
      assert.deepEqual(names, ['unnamed', 'unnamed']);
      assert.equal(await page.getByText('unnamed', { exact: true }).count(), 2);

      await h.saved(page, () => removeButtons.nth(ids.indexOf(hex(first.credentialId))).click());
      await page.waitForFunction((kept) => [...document.querySelectorAll('button[name="passkey_remove"]')].map((b) => b.value).join() === kept, hex(second.credentialId));

      // The key kept is the one the authenticator holds: autofill signs in with it.
      await signOut(page);
      await page.goto(`${h.app.origin}/login`);
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['passkey'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe(`An app built on Ory Elements: a settings change that needs a recent sign-in (${database})`, { skip }, () => {
  // Every session is older than a millisecond, so every privileged settings change is refused with
  // session_refresh_required. (What happens after the refresh — the paused change resumed — needs a session younger than
  // the limit, which only a fake clock makes deterministic: SettingsContinuity's xunit tests.)
  const h = harness({ settings: { privileged_session_max_age: '1ms' } });

  /** A GET of gatehouse's public API with the browser context's cookies, from outside the page (which may be navigating). */
  async function getAs(context, pathAndQuery) {
    const cookie = (await context.cookies(h.gatehouse.publicUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    return (await fetch(`${h.gatehouse.publicUrl}${pathAndQuery}`, { headers: { cookie, accept: 'application/json' } })).json();
  }

  /** Polls `condition` every 100 ms until it holds (10 s at most). */
  async function until(condition, what) {
    for (const deadline = Date.now() + 10_000; !(await condition());) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('follows session_refresh_required to the refresh login, which signs the same session in again', async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const email = uniqueEmail('elements-refresh');
      await h.createIdentity(email, { password: { config: { password } } });
      await h.passwordLogin(page, email, password);
      assert.deepEqual(await h.home(page), { email, aal: 'aal1', methods: ['password'] });
      const before = await getAs(context, '/sessions/whoami');

      await page.goto(`${h.app.origin}/settings`);
      const settingsFlow = new URL(page.url()).searchParams.get('flow');
      await page.fill('input[name="password"]', 'a newer password for this account');
      await page.locator('button[name="method"][value="password"]').click();
      // The JSON submit is refused (403 session_refresh_required); Elements follows its redirect_browser_to, a login
      // flow with refresh=true whose return_to is the submit URL itself, as Kratos's reauthenticate builds it.
      await page.waitForURL(new RegExp(`^${h.app.origin}/login\\?flow=`));
      const refresh = await getAs(context, `/self-service/login/flows?id=${new URL(page.url()).searchParams.get('flow')}`);
      assert.equal(refresh.refresh, true);
      assert.equal(refresh.return_to, `${h.gatehouse.publicUrl}/self-service/settings?flow=${settingsFlow}`);
      // Elements' refresh screen knows the account: only the password is asked for.
      assert.equal(await page.locator('input[name="identifier"]').getAttribute('type'), 'hidden');
      await page.fill('input[name="password"]', password);
      await page.locator('button[name="method"][value="password"]').click();
      await until(async () => new Date((await getAs(context, '/sessions/whoami')).authenticated_at) > new Date(before.authenticated_at), 'the session to be authenticated again');
      const after = await getAs(context, '/sessions/whoami');
      assert.equal(after.id, before.id, 'the same session, authenticated again');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
