// TOTP and AAL step-up through @ory/client's FrontendApi as a native app (session tokens), against the real gatehouse
// process: register with a password, enrol an authenticator app in settings (codes computed here with the `otpauth`
// npm package from the secret the settings flow shows), sign in with the password → whoami 403 session_aal2_required
// (session.whoami.required_aal: highest_available) → aal2 login with a TOTP code → whoami aal2 on the same session id.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail } from './lib/sdk.mjs';
import { nativeFrontend as nativeFrontendFor, newPassword, rejection, passwordLogin } from './lib/frontend.mjs';

const gatehouse = useGatehouse({
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: {
      password: { config: { haveibeenpwned_enabled: false } },
      totp: { enabled: true, config: { issuer: 'Gatehouse E2E' } },
    },
    flows: {
      registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }] } } },
    },
  }),
  session: { whoami: { required_aal: 'highest_available' } },
});

const frontend = () => nativeFrontendFor(gatehouse().publicUrl);
const admin = () => identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key });

/** The code an authenticator app shows for `secret`, `steps` periods from now. */
function code(secret, steps = 0) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  return totp.generate({ timestamp: Date.now() + steps * 30_000 });
}

const node = (flow, name) => flow.ui.nodes.find((n) => n.attributes.name === name || n.attributes.id === name);

describe(`TOTP and step-up for a native app (${database})`, () => {
  it('enrols TOTP, then password login → whoami 403 → aal2 login with TOTP → whoami aal2 on the same session', async () => {
    const api = frontend();
    const email = uniqueEmail('totp');
    const password = newPassword();
    const { data: regFlow } = await api.createNativeRegistrationFlow();
    const { data: registered } = await api.updateRegistrationFlow({
      flow: regFlow.id, updateRegistrationFlowBody: { method: 'password', password, traits: { email } },
    });
    const firstToken = registered.session_token;

    // Settings: the enrolment nodes, the secret as text, the QR code as a PNG data URI.
    const { data: settings } = await api.createNativeSettingsFlow({ xSessionToken: firstToken });
    const qr = node(settings, 'totp_qr');
    assert.equal(qr.type, 'img');
    assert.match(qr.attributes.src, /^data:image\/png;base64,/);
    const secretNode = node(settings, 'totp_secret_key');
    assert.equal(secretNode.attributes.text.id, 1050006);
    const secret = secretNode.attributes.text.text;
    assert.equal(node(settings, 'totp_code').attributes.required, true);

    const wrong = await rejection(api.updateSettingsFlow({
      flow: settings.id, xSessionToken: firstToken, updateSettingsFlowBody: { method: 'totp', totp_code: code(secret, 10) },
    }), 400);
    assert.ok(node(wrong, 'totp_code').messages.some((m) => m.id === 4000008), JSON.stringify(node(wrong, 'totp_code')));

    const { data: saved } = await api.updateSettingsFlow({
      flow: settings.id, xSessionToken: firstToken, updateSettingsFlowBody: { method: 'totp', totp_code: code(secret) },
    });
    assert.equal(saved.state, 'success');
    assert.ok(node(saved, 'totp_unlink'));
    const { data: enrolledSession } = await api.toSession({ xSessionToken: firstToken });
    assert.equal(enrolledSession.authenticator_assurance_level, 'aal2');

    // Admin view, as Kratos shows it.
    const { data: identity } = await admin().getIdentity({ id: registered.identity.id, includeCredential: ['totp'] });
    assert.deepEqual(Object.keys(identity.credentials.totp.config), ['totp_url']);
    assert.match(identity.credentials.totp.config.totp_url, /^otpauth:\/\/totp\/Gatehouse%20E2E:/);

    // A fresh password login is aal1 only; whoami refuses it and points to the aal2 login.
    const login = await passwordLogin(frontend(), email, password);
    const token = login.session_token;
    assert.equal(login.session.authenticator_assurance_level, 'aal1');
    const refused = await rejection(api.toSession({ xSessionToken: token }), 403);
    assert.equal(refused.error.id, 'session_aal2_required');
    assert.equal(refused.redirect_browser_to, `${gatehouse().publicUrl}/self-service/login/browser?aal=aal2`);

    // The aal2 login flow offers TOTP only and upgrades the same session.
    const { data: aal2 } = await api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: token });
    assert.equal(aal2.requested_aal, 'aal2');
    assert.deepEqual(aal2.ui.nodes.map((n) => n.attributes.name), ['totp_code', 'method']);
    const bad = await rejection(api.updateLoginFlow({
      flow: aal2.id, xSessionToken: token, updateLoginFlowBody: { method: 'totp', totp_code: code(secret, 10) },
    }), 400);
    assert.ok(bad.ui.messages.some((m) => m.id === 4000008));
    // The enrolment spent the current step's code; the next step's code is within the accepted window.
    const used = code(secret, 1);
    const { data: done } = await api.updateLoginFlow({
      flow: aal2.id, xSessionToken: token, updateLoginFlowBody: { method: 'totp', totp_code: used },
    });
    assert.equal(done.session.id, login.session.id);
    assert.equal(done.session.authenticator_assurance_level, 'aal2');

    const { data: whoami } = await api.toSession({ xSessionToken: token });
    assert.equal(whoami.id, login.session.id);
    assert.equal(whoami.authenticator_assurance_level, 'aal2');
    assert.deepEqual(whoami.authentication_methods.map((m) => `${m.method}:${m.aal}`), ['password:aal1', 'totp:aal2']);

    // The same code does not work twice.
    const other = await passwordLogin(frontend(), email, password);
    const { data: again } = await api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: other.session_token });
    const replay = await rejection(api.updateLoginFlow({
      flow: again.id, xSessionToken: other.session_token, updateLoginFlowBody: { method: 'totp', totp_code: used },
    }), 400);
    assert.ok(replay.ui.messages.some((m) => m.id === 4000008));
  });

  it('an aal2 login without a session is 401 session_aal1_required', async () => {
    const err = await rejection(frontend().createNativeLoginFlow({ aal: 'aal2' }), 401);
    assert.equal(err.error.id, 'session_aal1_required');
  });
});
