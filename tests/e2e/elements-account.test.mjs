// The Elements app of elements.test.mjs (lib/elements-app.jsx on its own origin, in headless Chromium) through what an
// account does after it exists: a registration whose show_verification_ui hook sends the browser to the verification
// page, a passwordless registration by a mailed code, a social sign-up that collides with an existing account and links
// to it after a sign-in (Kratos's account linking, message 1010016), a profile and a password changed in settings, an
// authenticator app removed there, (with code.mfa_enabled) a mailed code as the second factor, (with login_hints) a
// refused registration naming how the existing account signs in (4000028), and (with use: link) recovery and
// verification by mailed link, the recovered settings page wording how long the password may be changed, and passkeys
// on an identifier-first login's first screen. The user clicks Elements' own forms; a real OpenID provider
// (lib/idp.mjs) is the social account.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { database } from './lib/gatehouse.mjs';
import { waitForCode } from './lib/mailbox.mjs';
import { uniqueEmail } from './lib/sdk.mjs';
import { harness, password, skip } from './lib/elements-harness.mjs';

describe(`An app built on Ory Elements: verification after registration, code registration, account linking, profile and factors in settings (${database})`, { skip }, () => {
  const h = harness({
    methods: () => ({
      code: { passwordless_enabled: true },
      totp: { enabled: true, config: { issuer: 'Gatehouse E2E' } },
    }),
    registration: {
      after: {
        password: { hooks: [{ hook: 'session' }, { hook: 'show_verification_ui' }] },
        code: { hooks: [{ hook: 'session' }] },
        oidc: { hooks: [{ hook: 'session' }] },
      },
    },
    idp: true,
  });
  const { newPage, home, signOut, createIdentity, atProvider, passwordLogin } = h;

  /** The app's settings page with a new flow, once its requests have settled (see the link recovery test below). */
  async function openSettings(page) {
    await page.goto(`${h.app.origin}/settings`);
    await page.waitForLoadState('networkidle');
  }

  /** Elements' registration's first step: the address, then the choice of method. */
  async function startRegistration(page, email) {
    await page.goto(`${h.app.origin}/registration`);
    await page.fill('input[name="traits.email"]', email);
    await page.locator('button[name="method"][value="profile"]').click();
  }

  it('registers with a password and is sent on to verify the address (show_verification_ui), where the mailed code verifies it', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-show-verification');
      await startRegistration(page, email);
      await page.getByTestId('ory/form/auth-picker/password').click();
      await page.fill('input[name="password"]', password);
      await page.getByRole('button', { name: 'Sign up' }).click();
      // The answer's continue_with names the verification flow the registration started (its code already mailed);
      // Elements follows its URL, gatehouse's verification ui_url with ?flow=.
      await page.waitForURL(new RegExp(`^${h.app.origin}/verification\\?flow=`));
      const { code } = await waitForCode(h.mailbox, email, { subject: 'verify' });
      await page.fill('input[name="code"]', code);
      await page.locator('button[name="method"][value="code"]').click();
      await page.getByText('You successfully verified your email address.').waitFor();
      const { data: [identity] } = await h.admin.listIdentities({ credentialsIdentifier: email });
      assert.equal(identity.verifiable_addresses[0].verified, true);
      // The registration signed the browser in (the session hook ran before show_verification_ui).
      await page.goto(`${h.app.origin}/home`);
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('registers without a password, by a code mailed to the address, and signs in by code later', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-code-registration');
      await startRegistration(page, email);
      await page.getByTestId('ory/form/auth-picker/code').click();
      const { code } = await waitForCode(h.mailbox, email, { subject: 'Complete your account registration' });
      await page.fill('input[name="code"]', code);
      await page.locator('button[name="method"][value="code"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['code'] });
      const { data: [{ id }] } = await h.admin.listIdentities({ credentialsIdentifier: email });
      const { data: identity } = await h.admin.getIdentity({ id, includeCredential: ['password'] });
      // As in Kratos, the address is a password identifier (the schema says so) without a password.
      assert.deepEqual(identity.credentials.password.config, {}, 'no password was set');
      assert.equal(identity.verifiable_addresses[0].verified, true, 'the code proved the address');

      await signOut(page);
      await page.goto(`${h.app.origin}/login`);
      await page.fill('input[name="identifier"]', email);
      await page.locator('button[name="method"][value="code"]').click();
      const { code: second } = await waitForCode(h.mailbox, email, { subject: 'Login' });
      await page.fill('input[name="code"]', second);
      await page.locator('button[name="method"][value="code"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['code'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('links a social sign-up to the existing account with its address once the user signs in to that account', async () => {
    const login = `linking${Date.now().toString(36)}`;
    const email = `${login}@idp.test`;
    const existing = await createIdentity(email, { password: { config: { password } } });
    const { context, page, problems } = await newPage();
    try {
      await page.goto(`${h.app.origin}/registration`);
      await page.locator('button[name="provider"][value="test-idp"]').click();
      await atProvider(page, login);
      // The new identity would collide with the existing account: gatehouse sends the browser to a login flow that says
      // so (1010016, worded by Elements from its context) and asks the user to sign in to that account.
      await page.waitForURL(new RegExp(`^${h.app.origin}/login\\?flow=`));
      await page.getByText(`that email is already used by another account`, { exact: false }).waitFor();
      // Elements puts the flow's one hidden identifier into each method's form.
      for (const input of await page.locator('input[name="identifier"]').all()) {
        assert.equal(await input.getAttribute('type'), 'hidden');
        assert.equal(await input.inputValue(), email);
      }
      // The existing account's ways to sign in, as Elements offers them: its password or a code to its address.
      await page.getByTestId('ory/form/auth-picker/password').click();
      await page.fill('input[name="password"]', password);
      await page.locator('button[name="method"][value="password"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });
      const { data } = await h.admin.getIdentity({ id: existing.id, includeCredential: ['oidc'] });
      assert.deepEqual(data.credentials.oidc.identifiers, [`test-idp:${login}`]);
      const { data: all } = await h.admin.listIdentities({ credentialsIdentifier: email });
      assert.equal(all.length, 1, 'no second identity was made');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }

    // The social account now signs in to the existing identity.
    const other = await newPage();
    try {
      await other.page.goto(`${h.app.origin}/login`);
      await other.page.locator('button[name="provider"][value="test-idp"]').click();
      await atProvider(other.page, login);
      assert.deepEqual(await home(other.page), { email, aal: 'aal1', methods: ['oidc'] });
      assert.deepEqual(other.problems, []);
    } finally {
      await other.context.close();
    }
  });

  it('changes the address in the profile and the password in settings, then signs in with both', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-profile');
      const identity = await createIdentity(email, { password: { config: { password } } });
      await passwordLogin(page, email, password);
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });

      const moved = uniqueEmail('elements-profile-moved');
      await openSettings(page);
      await page.fill('input[name="traits.email"]', moved);
      await h.saved(page, () => page.locator('button[name="method"][value="profile"]').click());
      const { data } = await h.admin.getIdentity({ id: identity.id });
      assert.equal(data.traits.email, moved);
      assert.deepEqual(data.verifiable_addresses.map((a) => [a.value, a.verified]), [[moved, false]]);

      // A new settings flow, so the profile's success message is gone and the password's is the one waited for.
      await openSettings(page);
      await page.fill('input[name="password"]', 'a new password from settings');
      await h.saved(page, () => page.locator('button[name="method"][value="password"]').click());

      await signOut(page);
      await passwordLogin(page, email, 'a new password from settings');
      await page.getByText('The provided credentials are invalid', { exact: false }).waitFor();
      await passwordLogin(page, moved, password);
      await page.getByText('The provided credentials are invalid', { exact: false }).waitFor();
      await passwordLogin(page, moved, 'a new password from settings');
      assert.deepEqual(await home(page), { email: moved, aal: 'aal1', methods: ['password'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('removes the authenticator app in settings, after which the password alone signs in', async () => {
    const { context, page, problems } = await newPage();
    try {
      const email = uniqueEmail('elements-totp-unlink');
      const totp = new OTPAuth.TOTP({ issuer: 'Gatehouse E2E', label: email, secret: new OTPAuth.Secret(), digits: 6, period: 30 });
      const identity = await createIdentity(email, { password: { config: { password } }, totp: { config: { totp_url: totp.toString() } } });
      await passwordLogin(page, email, password);
      await page.getByText('Please enter the code generated by your Authenticator App').waitFor();
      await page.fill('input[name="totp_code"]', totp.generate());
      await page.locator('button[name="method"][value="totp"]').click();
      assert.deepEqual(await home(page), { email, aal: 'aal2', methods: ['password', 'totp'] });

      await openSettings(page);
      await h.saved(page, () => page.locator('button[name="totp_unlink"]').click());
      const { data } = await h.admin.getIdentity({ id: identity.id, includeCredential: ['totp'] });
      assert.equal(data.credentials?.totp, undefined);

      await signOut(page);
      await passwordLogin(page, email, password);
      assert.deepEqual(await home(page), { email, aal: 'aal1', methods: ['password'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe(`An app built on Ory Elements: a mailed code as the second factor (code.mfa_enabled), and login hints (${database})`, { skip }, () => {
  const h = harness({ methods: () => ({ code: { mfa_enabled: true } }), registration: { login_hints: true } });

  it('refuses a registration with an address in use by naming how that account signs in (4000028, login_hints)', async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const email = uniqueEmail('elements-hints');
      await h.createIdentity(email, { password: { config: { password } } });
      await page.goto(`${h.app.origin}/registration`);
      await page.fill('input[name="traits.email"]', email);
      await page.locator('button[name="method"][value="profile"]').click();
      await page.fill('input[name="password"]', 'another password for the same address');
      await page.locator('button[name="method"][value="password"]').click();
      // 4000028 as Elements shows it: the address and the way the existing account signs in.
      await page.getByText(`You tried signing in with ${email} which is already in use by another account. You can sign in using your password.`).waitFor();
      const { data } = await h.admin.listIdentities({ credentialsIdentifier: email });
      assert.equal(data.length, 1, 'nothing was created');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('asks for a code mailed to the address after the password, as the app follows session_aal2_required', async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const email = uniqueEmail('elements-code-mfa');
      await h.createIdentity(email, { password: { config: { password } } });
      await h.passwordLogin(page, email, password);
      // The address is a second factor the account has (whoami wants the highest available level), so the aal1 login
      // goes on to an aal2 login flow; with one address and no other second factor, its code is mailed at once.
      await page.waitForURL(new RegExp(`^${h.app.origin}/login\\?flow=`));
      const { code } = await waitForCode(h.mailbox, email, { subject: 'Login' });
      await page.fill('input[name="code"]', code);
      await page.locator('button[name="method"][value="code"]').click();
      assert.deepEqual(await h.home(page), { email, aal: 'aal2', methods: ['password', 'code'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe(`An app built on Ory Elements: recovery and verification by mailed link (use: link) (${database})`, { skip }, () => {
  // The link method is off unless enabled (Kratos's default since codes replaced it).
  const h = harness({ methods: () => ({ link: { enabled: true } }), recovery: { use: 'link' }, verification: { use: 'link' } });

  /** The link in the first mail to `address` whose subject contains `subject`. */
  async function mailedLink(address, subject) {
    const message = await h.mailbox.waitFor((m) => m.envelopeTo.includes(address) && m.subject.includes(subject), 10_000);
    const link = /https?:\/\/\S+token=\S+/.exec(message.text)?.[0];
    assert.ok(link, `a link with a token in: ${message.text}`);
    return link;
  }

  it('recovers an account by the mailed link, which signs the browser in to settings, and sets a new password there', async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const email = uniqueEmail('elements-recovery-link');
      await h.createIdentity(email, { password: { config: { password } } });
      await page.goto(`${h.app.origin}/recovery`);
      await page.fill('input[name="email"]', email);
      await page.locator('button[name="method"][value="link"]').click();
      await page.getByText('An email containing a recovery link has been sent', { exact: false }).waitFor();
      // The link is gatehouse's; it signs the browser in and sends it to the app's settings page with a new flow.
      await page.goto(await mailedLink(email, 'Recover'));
      await page.waitForURL(new RegExp(`^${h.app.origin}/settings\\?flow=`));
      // 1060001 as Elements words it, the minutes left computed from the message's privileged_session_expires_at_unix
      // (privileged_session_max_age: an hour by default, as in Kratos).
      await page.getByText('set up an alternative login method (e.g. social sign in) within the next 60 minutes.', { exact: false }).waitFor();
      // Typed once the page's requests have settled (Elements' settings page fetches the logout URL as it mounts): in two
      // runs of about fifteen, a password typed at once was followed by a click that sent nothing.
      await page.waitForLoadState('networkidle');
      await page.fill('input[name="password"]', 'a new password after the link');
      await h.saved(page, () => page.locator('button[name="method"][value="password"]').click());

      await h.signOut(page);
      await h.passwordLogin(page, email, 'a new password after the link');
      assert.deepEqual(await h.home(page), { email, aal: 'aal1', methods: ['password'] });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('verifies an address by the mailed link, which ends on the app verification page saying so', async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const email = uniqueEmail('elements-verification-link');
      const identity = await h.createIdentity(email, { password: { config: { password } } });
      await page.goto(`${h.app.origin}/verification`);
      await page.fill('input[name="email"]', email);
      await page.locator('button[name="method"][value="link"]').click();
      await page.getByText('An email containing a verification link has been sent', { exact: false }).waitFor();
      await page.goto(await mailedLink(email, 'verify'));
      await page.waitForURL(new RegExp(`^${h.app.origin}/verification\\?flow=`));
      await page.getByText('You successfully verified your email address.').waitFor();
      const { data } = await h.admin.getIdentity({ id: identity.id });
      assert.equal(data.verifiable_addresses[0].verified, true);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe(`An app built on Ory Elements: passkeys with identifier-first login (${database})`, { skip }, () => {
  const h = harness({
    methods: (publicUrl, app) => ({
      passkey: { enabled: true, config: { rp: { id: 'localhost', display_name: 'Gatehouse e2e', origins: [publicUrl, app] } } },
    }),
    login: { style: 'identifier_first' },
  });

  it('registers with a passkey, then signs in with it from the first screen, and a password account still types its address first', async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const { cdp, authenticatorId } = await h.authenticator(context, page);
      const email = uniqueEmail('elements-first-passkey');
      await page.goto(`${h.app.origin}/registration`);
      await page.fill('input[name="traits.email"]', email);
      await page.locator('button[name="method"][value="profile"]').click();
      await page.getByTestId('ory/form/auth-picker/passkey').click();
      assert.deepEqual(await h.home(page), { email, aal: 'aal1', methods: ['passkey'] });

      await h.signOut(page);
      // The first screen of an identifier-first login offers the passkey before any address is typed (the identifier
      // field's autofill, started by the flow script's onload trigger); the authenticator answers with its one passkey.
      await page.goto(`${h.app.origin}/login`);
      assert.deepEqual(await h.home(page), { email, aal: 'aal1', methods: ['passkey'] });
      assert.ok((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount >= 2, 'the authenticator signed twice');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }

    // A browser without the passkey: the address first, then the password of an account that has one.
    const other = await h.newPage();
    try {
      const email = uniqueEmail('elements-first-password');
      await h.createIdentity(email, { password: { config: { password } } });
      await other.page.goto(`${h.app.origin}/login`);
      await other.page.fill('input[name="identifier"]', email);
      await other.page.locator('button[name="method"][value="identifier_first"]').click();
      // The account has no passkey, so its password is the only way on and Elements asks for it without a choice.
      await other.page.fill('input[name="password"]', password);
      await other.page.locator('button[name="method"][value="password"]').click();
      assert.deepEqual(await h.home(other.page), { email, aal: 'aal1', methods: ['password'] });
      assert.deepEqual(other.problems, []);
    } finally {
      await other.context.close();
    }
  });
});
