// Recovery codes (lookup_secret) through @ory/client's FrontendApi as a native app (session tokens), against the real
// gatehouse process: generate codes in settings, confirm them, sign in with the password → whoami 403 → aal2 login with a
// recovery code → whoami aal2 on the same session id; the same code is refused the second time (4000012) and the
// reveal shows it as used. Codes are kept hashed: the admin API shows only used_at, a fetched flow only placeholders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail } from './lib/sdk.mjs';
import { nativeFrontend as nativeFrontendFor, newPassword, rejection, passwordLogin } from './lib/frontend.mjs';

const gatehouse = useGatehouse({
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: {
      password: { config: { haveibeenpwned_enabled: false } },
      lookup_secret: { enabled: true },
    },
    flows: {
      registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }] } } },
    },
  }),
  session: { whoami: { required_aal: 'highest_available' } },
});

const frontend = () => nativeFrontendFor(gatehouse().publicUrl);
const admin = () => identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key });
const node = (flow, name) => flow.ui.nodes.find((n) => n.attributes.name === name || n.attributes.id === name);
const group = (flow) => flow.ui.nodes.filter((n) => n.group === 'lookup_secret').map((n) => n.attributes.name ?? n.attributes.id);

describe(`Recovery codes for a native app (${database})`, () => {
  it('generate → confirm, then password login → whoami 403 → aal2 login with a recovery code on the same session; codes work once', async () => {
    const api = frontend();
    const email = uniqueEmail('lookup');
    const password = newPassword();
    const { data: regFlow } = await api.createNativeRegistrationFlow();
    const { data: registered } = await api.updateRegistrationFlow({
      flow: regFlow.id, updateRegistrationFlowBody: { method: 'password', password, traits: { email } },
    });
    const firstToken = registered.session_token;

    const { data: settings } = await api.createNativeSettingsFlow({ xSessionToken: firstToken });
    assert.deepEqual(group(settings), ['lookup_secret_regenerate']);
    const early = await rejection(api.updateSettingsFlow({
      flow: settings.id, xSessionToken: firstToken, updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_confirm: true },
    }), 400);
    assert.ok(early.ui.messages.some((m) => m.text === 'You must (re-)generate recovery backup codes before you can save them.'));

    const { data: generated } = await api.updateSettingsFlow({
      flow: settings.id, xSessionToken: firstToken, updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_regenerate: true },
    });
    assert.deepEqual(group(generated), ['lookup_secret_codes', 'lookup_secret_confirm']);
    const list = node(generated, 'lookup_secret_codes').attributes.text;
    assert.equal(list.id, 1050015);
    const codes = list.context.secrets.map((s) => s.context.secret);
    assert.equal(new Set(codes).size, 12);
    for (const c of codes) assert.match(c, /^[a-z0-9]{8}$/);

    // Fetching the flow again does not show the codes (only their hashes are kept).
    const { data: fetched } = await api.getSettingsFlow({ id: settings.id, xSessionToken: firstToken });
    assert.ok(node(fetched, 'lookup_secret_codes').attributes.text.context.secrets.every((s) => s.text === '********'));
    assert.ok(!JSON.stringify(fetched).includes(codes[0]));

    const { data: saved } = await api.updateSettingsFlow({
      flow: settings.id, xSessionToken: firstToken, updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_confirm: true },
    });
    assert.equal(saved.state, 'success');
    assert.deepEqual(group(saved), ['lookup_secret_reveal', 'lookup_secret_disable']);

    const { data: identity } = await admin().getIdentity({ id: registered.identity.id, includeCredential: ['lookup_secret'] });
    assert.equal(identity.credentials.lookup_secret.config.recovery_codes.length, 12);
    assert.ok(!JSON.stringify(identity).includes(codes[0]));

    const login = await passwordLogin(frontend(), email, password);
    const token = login.session_token;
    const refused = await rejection(api.toSession({ xSessionToken: token }), 403);
    assert.equal(refused.error.id, 'session_aal2_required');

    const { data: aal2 } = await api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: token });
    assert.deepEqual(aal2.ui.nodes.map((n) => n.attributes.name), ['lookup_secret', 'method']);
    const bad = await rejection(api.updateLoginFlow({
      flow: aal2.id, xSessionToken: token, updateLoginFlowBody: { method: 'lookup_secret', lookup_secret: 'zzzzzzzz' },
    }), 400);
    assert.ok(bad.ui.messages.some((m) => m.id === 4000016));
    const { data: done } = await api.updateLoginFlow({
      flow: aal2.id, xSessionToken: token, updateLoginFlowBody: { method: 'lookup_secret', lookup_secret: codes[5] },
    });
    assert.equal(done.session.id, login.session.id);
    const { data: whoami } = await api.toSession({ xSessionToken: token });
    assert.equal(whoami.id, login.session.id);
    assert.equal(whoami.authenticator_assurance_level, 'aal2');
    assert.deepEqual(whoami.authentication_methods.map((m) => `${m.method}:${m.aal}`), ['password:aal1', 'lookup_secret:aal2']);

    const other = await passwordLogin(frontend(), email, password);
    const { data: again } = await api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: other.session_token });
    const reused = await rejection(api.updateLoginFlow({
      flow: again.id, xSessionToken: other.session_token, updateLoginFlowBody: { method: 'lookup_secret', lookup_secret: codes[5] },
    }), 400);
    assert.ok(reused.ui.messages.some((m) => m.id === 4000012));

    const { data: revealFlow } = await api.createNativeSettingsFlow({ xSessionToken: token });
    const { data: revealed } = await api.updateSettingsFlow({
      flow: revealFlow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'lookup_secret', lookup_secret_reveal: true },
    });
    const secrets = node(revealed, 'lookup_secret_codes').attributes.text.context.secrets;
    assert.equal(secrets[5].id, 1050014);
    assert.equal(secrets.filter((s) => s.id === 1050014).length, 1);
  });
});
