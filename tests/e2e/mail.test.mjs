// Verification, recovery and settings with real mail: gatehouse runs `serve --watch-courier` and its courier worker
// delivers over SMTP to a real SMTP server (npm `smtp-server`) started by this file on 127.0.0.1; the tests read the
// codes out of the delivered mails and complete the flows through @ory/client's FrontendApi, then check the result
// through the admin APIs (IdentityApi, CourierApi).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Configuration, CourierApi, CourierMessageStatus } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { useMailbox, waitForCode } from './lib/mailbox.mjs';
import { identityApi, uniqueEmail, expectHttpError } from './lib/sdk.mjs';
import { nativeFrontend, browserFrontend, newPassword, rejection, csrfTokenOf, allMessages } from './lib/frontend.mjs';

const fromAddress = 'accounts@gatehouse.test';
// Registered first, so the SMTP server is listening before gatehouse starts (before() hooks run in order).
const mailbox = useMailbox();
const gatehouse = useGatehouse({
  serveArgs: ['--watch-courier'],
  courier: () => ({
    smtp: { connection_uri: mailbox().connectionUri, from_address: fromAddress, from_name: 'Gatehouse E2E' },
    worker: { pull_wait: '200ms' },
  }),
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
    flows: {
      // As Kratos's quickstart: without show_verification_ui no registration answer names the verification flow.
      registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }, { hook: 'show_verification_ui' }] } } },
      verification: { enabled: true },
      recovery: { enabled: true },
    },
  }),
});

const admin = () => identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key });
const courierAdmin = () => new CourierApi(new Configuration({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key }));
const native = () => nativeFrontend(gatehouse().publicUrl);
const browser = () => browserFrontend(gatehouse().publicUrl);

const verifySubject = 'Please verify your email address';
const recoverSubject = 'Recover access to your account';

async function registerNative(email, password, traits = {}) {
  const api = native();
  const { data: flow } = await api.createNativeRegistrationFlow();
  const res = await api.updateRegistrationFlow({
    flow: flow.id, updateRegistrationFlowBody: { method: 'password', password, traits: { email, ...traits } },
  });
  assert.equal(res.status, 200);
  return res.data;
}

async function loginNative(identifier, password) {
  const api = native();
  const { data: flow } = await api.createNativeLoginFlow();
  return api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'password', identifier, password } });
}

function addressOf(identity, value) {
  const address = identity.verifiable_addresses.find((a) => a.value === value);
  assert.ok(address, `verifiable address ${value} in ${JSON.stringify(identity.verifiable_addresses)}`);
  return address;
}

describe(`verification by code from a delivered mail (${database})`, () => {
  it('registration mails a code; updateVerificationFlow with the show_verification_ui flow verifies the address', async () => {
    const email = uniqueEmail('verify');
    const registered = await registerNative(email, newPassword());
    const show = registered.continue_with?.find((c) => c.action === 'show_verification_ui');
    assert.ok(show, `continue_with has show_verification_ui: ${JSON.stringify(registered.continue_with)}`);
    assert.equal(show.flow.verifiable_address, email);
    assert.equal(typeof show.flow.id, 'string');
    assert.equal(addressOf((await admin().getIdentity({ id: registered.identity.id })).data, email).verified, false);

    const { message, code } = await waitForCode(mailbox(), email, { subject: verifySubject });
    assert.deepEqual(message.envelopeTo, [email]);
    assert.deepEqual(message.to, [email]);
    assert.equal(message.from, fromAddress);
    assert.equal(message.envelopeFrom, fromAddress);
    assert.ok(message.html.includes(code), 'the HTML part carries the code too');
    const link = /https?:\/\/\S+/.exec(message.text)?.[0];
    assert.ok(link?.startsWith(`${gatehouse().publicUrl}/self-service/verification?`), `verification link in ${message.text}`);
    assert.equal(new URL(link).searchParams.get('flow'), show.flow.id);

    const api = native();
    const wrong = code === '000000' ? '111111' : '000000';
    // Kratos answers a wrong code with the flow and its message as a plain 200.
    const { data: refused } = await api.updateVerificationFlow({
      flow: show.flow.id, updateVerificationFlowBody: { method: 'code', code: wrong },
    });
    assert.ok(allMessages(refused).some((m) => m.id === 4070006), JSON.stringify(allMessages(refused)));
    assert.equal(addressOf((await admin().getIdentity({ id: registered.identity.id })).data, email).verified, false);

    const { data: done } = await api.updateVerificationFlow({
      flow: show.flow.id, updateVerificationFlowBody: { method: 'code', code },
    });
    assert.equal(done.id, show.flow.id);
    assert.equal(done.state, 'passed_challenge');
    assert.ok(allMessages(done).some((m) => m.id === 1080002), JSON.stringify(allMessages(done)));

    const { data: identity } = await admin().getIdentity({ id: registered.identity.id });
    const address = addressOf(identity, email);
    assert.equal(address.verified, true);
    assert.equal(address.status, 'completed');
    assert.ok(Date.parse(address.verified_at) > 0, `verified_at ${address.verified_at}`);
  });

  it('a new native verification flow: submit the email, the mailed code verifies an admin-created identity', async () => {
    const email = uniqueEmail('verify-later');
    const { data: created } = await admin().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email } },
    });
    assert.equal(addressOf(created, email).verified, false);

    const api = native();
    const { data: flow } = await api.createNativeVerificationFlow();
    assert.equal(flow.type, 'api');
    const { data: sent } = await api.updateVerificationFlow({
      flow: flow.id, updateVerificationFlowBody: { method: 'code', email: email.toUpperCase() },
    });
    assert.equal(sent.state, 'sent_email');
    assert.ok(sent.ui.nodes.some((n) => n.attributes?.name === 'code'), 'the flow now asks for the code');

    const { code } = await waitForCode(mailbox(), email, { subject: verifySubject });
    const { data: done } = await api.updateVerificationFlow({ flow: flow.id, updateVerificationFlowBody: { method: 'code', code } });
    assert.equal(done.state, 'passed_challenge');
    const address = addressOf((await admin().getIdentity({ id: created.id })).data, email);
    assert.equal(address.verified, true);
    assert.equal(address.status, 'completed');
  });
});

describe(`settings profile updates (${database})`, () => {
  it('native: the traits change is visible to the admin API; invalid traits are 400 and change nothing', async () => {
    const email = uniqueEmail('settings-native');
    const { session_token: token, identity } = await registerNative(email, newPassword());
    const api = native();
    const { data: flow } = await api.createNativeSettingsFlow({ xSessionToken: token });
    assert.equal(flow.identity.id, identity.id);
    const traits = { email, name: { first: 'Grace', last: 'Hopper' } };
    const { data: updated } = await api.updateSettingsFlow({
      flow: flow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'profile', traits },
    });
    assert.equal(updated.state, 'success');
    assert.deepEqual((await admin().getIdentity({ id: identity.id })).data.traits, traits);

    const { data: second } = await api.createNativeSettingsFlow({ xSessionToken: token });
    const refused = await rejection(api.updateSettingsFlow({
      flow: second.id, xSessionToken: token,
      updateSettingsFlowBody: { method: 'profile', traits: { email, name: { first: 'Grace', last: 'Hopper' }, nickname: 'Amazing' } },
    }), 400);
    assert.equal(refused.id, second.id);
    assert.ok(allMessages(refused).some((m) => m.type === 'error'), JSON.stringify(allMessages(refused)));
    assert.deepEqual((await admin().getIdentity({ id: identity.id })).data.traits, traits);
  });

  it('browser: with the cookie and csrf_token the traits change; a changed email gets a verification mail', async () => {
    const email = uniqueEmail('settings-browser');
    const password = newPassword();
    const { api, jar } = browser();
    const { data: reg } = await api.createBrowserRegistrationFlow();
    const { data: registered } = await api.updateRegistrationFlow({
      flow: reg.id, updateRegistrationFlowBody: { method: 'password', csrf_token: csrfTokenOf(reg), password, traits: { email } },
    });
    assert.ok(jar.has('ory_kratos_session'), `session cookie set: ${[...jar.keys()]}`);
    const identityId = registered.identity.id;

    const { data: flow } = await api.createBrowserSettingsFlow();
    assert.equal(flow.type, 'browser');
    assert.equal(flow.identity.id, identityId);
    const invalid = await rejection(api.updateSettingsFlow({
      flow: flow.id, updateSettingsFlowBody: { method: 'profile', csrf_token: csrfTokenOf(flow), traits: { email: 'not an email' } },
    }), 400);
    const emailNode = invalid.ui.nodes.find((n) => n.attributes?.name === 'traits.email');
    assert.ok(emailNode.messages.some((m) => m.id === 4000040), JSON.stringify(emailNode.messages));
    assert.deepEqual((await admin().getIdentity({ id: identityId })).data.traits, { email });

    const noCsrf = await rejection(api.updateSettingsFlow({
      flow: flow.id, updateSettingsFlowBody: { method: 'profile', traits: { email, name: { first: 'No' } } },
    }), 403);
    assert.equal(noCsrf.error.id, 'security_csrf_violation');

    const newEmail = uniqueEmail('settings-browser-new');
    const traits = { email: newEmail, name: { first: 'Ada', last: 'Lovelace' } };
    const { data: updated } = await api.updateSettingsFlow({
      flow: flow.id, updateSettingsFlowBody: { method: 'profile', csrf_token: csrfTokenOf(flow), traits },
    });
    assert.equal(updated.state, 'success');
    const { data: identity } = await admin().getIdentity({ id: identityId });
    assert.deepEqual(identity.traits, traits);
    assert.deepEqual(identity.verifiable_addresses.map((a) => a.value), [newEmail]);
    assert.equal(identity.verifiable_addresses[0].verified, false);

    // The new address is mailed a verification code, and it is now the login identifier.
    await waitForCode(mailbox(), newEmail, { subject: verifySubject });
    assert.equal((await loginNative(newEmail, password)).status, 200);
    await rejection(loginNative(email, password), 400);
  });
});

describe(`recovery (${database})`, () => {
  it('native recovery by a mailed code: 422 to the settings UI (Kratos\'s default), the recovered session exists', async () => {
    const email = uniqueEmail('recover');
    const oldPassword = newPassword();
    const { identity } = await registerNative(email, oldPassword);

    const api = native();
    const { data: flow } = await api.createNativeRecoveryFlow();
    assert.equal(flow.type, 'api');
    const { data: sent } = await api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', email } });
    assert.equal(sent.state, 'sent_email');

    const { message, code } = await waitForCode(mailbox(), email, { subject: recoverSubject });
    assert.equal(message.from, fromAddress);
    const wrong = code === '000000' ? '111111' : '000000';
    const { data: refused } = await api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', code: wrong } });
    assert.ok(allMessages(refused).some((m) => m.id === 4060006), JSON.stringify(allMessages(refused)));

    // Without feature_flags.use_continue_with_transitions Kratos answers a JSON submit of the right code, on a native
    // flow too, with 422 naming the settings UI; the session it made is not handed over.
    const recovered = await rejection(api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', code } }), 422);
    assert.equal(recovered.error.id, 'browser_location_change_required');
    assert.ok(recovered.redirect_browser_to.startsWith(`${gatehouse().publicUrl}/ui/settings?flow=`), recovered.redirect_browser_to);
    const { data: done } = await api.getRecoveryFlow({ id: flow.id });
    assert.equal(done.state, 'passed_challenge');
    const { data: sessions } = await admin().listIdentitySessions({ id: identity.id });
    assert.ok(sessions.some((s) => s.authentication_methods[0].method === 'code_recovery'), JSON.stringify(sessions));

    // The code was used up: submitted again it is a wrong one (Kratos's code Recover, past choose_method: recoveryUseCode).
    const { data: again } = await api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', code } });
    assert.equal(again.state, 'passed_challenge');
    assert.deepEqual(again.ui.messages.map((m) => m.id), [4060006]);
  });

  it('an unknown address gets the same answer and no mail', async () => {
    const api = native();
    const { data: flow } = await api.createNativeRecoveryFlow();
    const nobody = uniqueEmail('nobody');
    const { data: sent } = await api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', email: nobody } });
    assert.equal(sent.state, 'sent_email');
    // A known address submitted afterwards is mailed; by then a mail to the unknown one would have been sent too.
    const email = uniqueEmail('recover-known');
    await registerNative(email, newPassword());
    const { data: other } = await api.createNativeRecoveryFlow();
    await api.updateRecoveryFlow({ flow: other.id, updateRecoveryFlowBody: { method: 'code', email } });
    await waitForCode(mailbox(), email, { subject: recoverSubject });
    assert.ok(!mailbox().messages.some((m) => m.envelopeTo.includes(nobody)), 'nothing was mailed to the unknown address');
    assert.deepEqual((await courierAdmin().listCourierMessages({ recipient: nobody })).data, [], 'nor queued');
  });

  it('admin recovery link: GET it as a browser → 303 to the settings UI with a session cookie', async () => {
    const email = uniqueEmail('admin-link');
    const { identity } = await registerNative(email, newPassword());
    const { data: link } = await admin().createRecoveryLinkForIdentity({ createRecoveryLinkForIdentityBody: { identity_id: identity.id } });
    assert.ok(link.recovery_link.startsWith(`${gatehouse().publicUrl}/self-service/recovery?`), link.recovery_link);
    assert.ok(Date.parse(link.expires_at) > Date.now());

    const { api, http, jar } = browser();
    const res = await http.get(link.recovery_link, {
      headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, validateStatus: () => true,
    });
    assert.equal(res.status, 303, JSON.stringify(res.data));
    const location = new URL(res.headers.location);
    assert.equal(`${location.origin}${location.pathname}`, `${gatehouse().publicUrl}/ui/settings`);
    const settingsFlowId = location.searchParams.get('flow');
    assert.ok(settingsFlowId, res.headers.location);
    assert.ok(jar.has('ory_kratos_session'), `session cookie set: ${[...jar.keys()]}`);

    const { data: whoami } = await api.toSession();
    assert.equal(whoami.identity.id, identity.id);
    assert.equal(whoami.authentication_methods[0].method, 'link_recovery');
    const { data: settings } = await api.getSettingsFlow({ id: settingsFlowId });
    assert.equal(settings.identity.id, identity.id);
    assert.ok(allMessages(settings).some((m) => m.id === 1060001), JSON.stringify(allMessages(settings)));

    // The link works once.
    const again = await browser().http.get(link.recovery_link, {
      headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, validateStatus: () => true,
    });
    assert.ok(again.status < 500, `status ${again.status}`);
    assert.ok(!(again.headers.location ?? '').includes('/ui/settings'), `not to the settings UI: ${again.headers.location}`);
    assert.ok(!again.headers['set-cookie']?.some((c) => c.startsWith('ory_kratos_session=')), 'no second session');
  });

  it('admin recovery code: api and browser (SPA) flows answer 422 to the settings UI, the SPA with a cookie', async () => {
    const email = uniqueEmail('admin-code');
    const { identity } = await registerNative(email, newPassword());

    const { data: apiCode } = await admin().createRecoveryCodeForIdentity({
      createRecoveryCodeForIdentityBody: { identity_id: identity.id, flow_type: 'api' },
    });
    assert.match(apiCode.recovery_code, /^\d{6}$/);
    const apiFlowId = new URL(apiCode.recovery_link).searchParams.get('flow');
    const api = native();
    const recovered = await rejection(api.updateRecoveryFlow({
      flow: apiFlowId, updateRecoveryFlowBody: { method: 'code', code: apiCode.recovery_code },
    }), 422);
    assert.equal(recovered.error.id, 'browser_location_change_required');
    assert.equal((await api.getRecoveryFlow({ id: apiFlowId })).data.state, 'passed_challenge');

    const { data: browserCode } = await admin().createRecoveryCodeForIdentity({
      createRecoveryCodeForIdentityBody: { identity_id: identity.id },
    });
    const browserFlowId = new URL(browserCode.recovery_link).searchParams.get('flow');
    const b = browser();
    const { data: flow } = await b.api.getRecoveryFlow({ id: browserFlowId });
    assert.equal(flow.type, 'browser');
    const body = await rejection(b.api.updateRecoveryFlow({
      flow: browserFlowId, updateRecoveryFlowBody: { method: 'code', code: browserCode.recovery_code, csrf_token: csrfTokenOf(flow) },
    }), 422);
    assert.equal(body.error.id, 'browser_location_change_required');
    assert.ok(body.redirect_browser_to.startsWith(`${gatehouse().publicUrl}/ui/settings?flow=`), body.redirect_browser_to);
    assert.ok(b.jar.has('ory_kratos_session'), `session cookie set: ${[...b.jar.keys()]}`);
    assert.equal((await b.api.toSession()).data.identity.id, identity.id);

    await expectHttpError(admin().createRecoveryCodeForIdentity({
      createRecoveryCodeForIdentityBody: { identity_id: '00000000-0000-4000-8000-000000000000' },
    }), 404);
  });
});

describe(`courier admin API (${database})`, () => {
  it('listCourierMessages and getCourierMessage show the delivered mails with status sent, body and subject redacted (no --dev)', async () => {
    const email = uniqueEmail('courier');
    await registerNative(email, newPassword());
    const { message, code } = await waitForCode(mailbox(), email, { subject: verifySubject });
    const { data: recovery } = await native().createNativeRecoveryFlow();
    await native().updateRecoveryFlow({ flow: recovery.id, updateRecoveryFlowBody: { method: 'code', email } });
    const { message: recoveryMail } = await waitForCode(mailbox(), email, { subject: recoverSubject });

    // The SMTP server has the mail; the worker marks it sent right after the server accepted it.
    let listed;
    for (const deadline = Date.now() + 10_000; ;) {
      ({ data: listed } = await courierAdmin().listCourierMessages({ recipient: email }));
      if (listed.length === 2 && listed.every((m) => m.status === 'sent')) break;
      assert.ok(Date.now() < deadline, `messages not marked sent: ${JSON.stringify(listed)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Newest first.
    assert.deepEqual(listed.map((m) => m.template_type), ['recovery_code_valid', 'verification_code_valid']);
    // The server runs without --dev: as in Kratos, bodies and subjects (codes, links) are redacted in the admin API;
    // the mails themselves (read from the SMTP server above) carried them.
    assert.ok(recoveryMail.subject.length > 0 && message.subject.length > 0);
    for (const m of listed) {
      assert.equal(m.subject, '<redacted-unless-dev-mode>');
      assert.equal(m.body, '<redacted-unless-dev-mode>');
      assert.ok(!JSON.stringify(m).includes(code), 'no field shows the delivered code');
    }
    const item = listed[1];
    assert.equal(item.recipient, email);
    assert.equal(item.type, 'email');
    assert.equal(item.template_type, 'verification_code_valid');
    assert.equal(item.send_count, 1);

    const { data: got } = await courierAdmin().getCourierMessage({ id: item.id });
    assert.equal(got.id, item.id);
    assert.equal(got.status, 'sent');
    assert.equal(got.subject, '<redacted-unless-dev-mode>');
    assert.equal(got.body, '<redacted-unless-dev-mode>');
    assert.equal(got.dispatches.length, 1);
    assert.equal(got.dispatches[0].status, 'success');
    assert.equal(got.dispatches[0].message_id, item.id);

    const { data: sent } = await courierAdmin().listCourierMessages({ status: CourierMessageStatus.Sent, pageSize: 1000 });
    assert.ok(sent.every((m) => m.status === 'sent'));
    for (const m of listed) assert.ok(sent.some((s) => s.id === m.id), `${m.id} listed with status=sent`);
    const { data: queued } = await courierAdmin().listCourierMessages({ status: CourierMessageStatus.Queued, recipient: email });
    assert.deepEqual(queued, []);
    await expectHttpError(courierAdmin().getCourierMessage({ id: '00000000-0000-4000-8000-000000000000' }), 404);
  });
});
