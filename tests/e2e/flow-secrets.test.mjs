// Secrets are answer-only, through @ory/client as an app uses it: a native code recovery hands over no session token
// (Kratos's default 422 to the settings UI) and a submit's transient_payload is in that answer only — FrontendApi.getRecoveryFlow /
// getRegistrationFlow by id and a second submit reveal neither. Also what the SDK sees of the flow review's other
// findings: API flows refuse an Origin header and browser cookies, recovery refuses an email that is no address,
// registration refuses an identity schema that is not selectable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse } from './lib/gatehouse.mjs';
import { useMailbox, waitForCode } from './lib/mailbox.mjs';
import { uniqueEmail } from './lib/sdk.mjs';
import { nativeFrontend, newPassword, rejection, allMessages } from './lib/frontend.mjs';

const mailbox = useMailbox();
const gatehouse = useGatehouse({
  serveArgs: ['--watch-courier'],
  courier: () => ({
    smtp: { connection_uri: mailbox().connectionUri, from_address: 'accounts@gatehouse.test' },
    worker: { pull_wait: '200ms' },
  }),
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
    flows: {
      registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }] } } },
      recovery: { enabled: true },
    },
  }),
});

const native = () => nativeFrontend(gatehouse().publicUrl);

async function registerNative(email, password, transientPayload) {
  const api = native();
  const { data: flow } = await api.createNativeRegistrationFlow();
  const { data } = await api.updateRegistrationFlow({
    flow: flow.id,
    updateRegistrationFlowBody: { method: 'password', password, traits: { email }, transient_payload: transientPayload },
  });
  return { flow, data };
}

describe('secrets are answer-only', () => {
  it('a finished native code recovery reveals no session token: 422 to the settings UI, as Kratos by default', async () => {
    const email = uniqueEmail('secret-recovery');
    await registerNative(email, newPassword());
    const api = native();
    const { data: flow } = await api.createNativeRecoveryFlow();
    await api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', email } });
    const { code } = await waitForCode(mailbox(), email, { subject: 'Recover access to your account' });
    // Kratos's recoveryIssueSession without feature_flags.use_continue_with_transitions: a JSON request, native too,
    // is told to send a browser to the settings UI.
    const recovered = await rejection(api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', code } }), 422);
    assert.equal(recovered.error.id, 'browser_location_change_required');
    assert.ok(recovered.redirect_browser_to.startsWith(`${gatehouse().publicUrl}/ui/settings?flow=`), recovered.redirect_browser_to);
    assert.ok(!JSON.stringify(recovered).includes('ory_st_'), 'the answer holds no session token');

    const { data: fetched } = await api.getRecoveryFlow({ id: flow.id });
    assert.equal(fetched.state, 'passed_challenge');
    assert.equal(fetched.continue_with, undefined);
    assert.ok(!JSON.stringify(fetched).includes('ory_st_'), 'the fetched flow holds no session token');
    // Kratos's code Recover takes a submit without an email on a flow past choose_method as a code: the used one is wrong.
    const { data: again } = await api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', code } });
    assert.ok(!JSON.stringify(again).includes('ory_st_'), 'a second submit reveals no session token');
    assert.deepEqual(allMessages(again).map((m) => m.id), [4060006]);
    // With an email, the completed flow is replaced (retryRecoveryFlow): a 303 to the new flow's fetch route.
    const moved = await api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', email } }).then(
      (res) => assert.fail(`expected a 303, got ${res.status}`),
      (err) => err.response,
    );
    assert.equal(moved.status, 303);
    const next = new URL(moved.headers.location);
    assert.equal(`${next.origin}${next.pathname}`, `${gatehouse().publicUrl}/self-service/recovery/flows`);
    const { data: retried } = await api.getRecoveryFlow({ id: next.searchParams.get('id') });
    assert.notEqual(retried.id, flow.id);
    assert.equal(retried.state, 'choose_method');
    assert.deepEqual(allMessages(retried).map((m) => m.id), [4060001]);
    assert.ok(!JSON.stringify(retried).includes('ory_st_'), 'the new flow holds no session token');
  });

  it('a transient payload reaches the answer but not a later fetch of the flow', async () => {
    const marker = `transient-${Date.now()}-${Math.random()}`;
    const { flow, data } = await registerNative(uniqueEmail('secret-transient'), newPassword(), { marker });
    assert.ok(data.session_token);
    const { data: fetched } = await native().getRegistrationFlow({ id: flow.id });
    assert.equal(fetched.transient_payload, undefined);
    assert.ok(!JSON.stringify(fetched).includes(marker));
    assert.ok(!JSON.stringify(fetched).includes(data.session_token));
  });
});

describe('the flow review', () => {
  it('an API flow refuses a submit carrying an Origin header or browser cookies', async () => {
    const email = uniqueEmail('api-origin');
    const password = newPassword();
    await registerNative(email, password);
    const api = native();
    const { data: flow } = await api.createNativeLoginFlow();
    const body = { method: 'password', identifier: email, password };
    const origin = await rejection(api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: body }, { headers: { Origin: 'https://app.example.com' } }), 400);
    assert.match(origin.error.reason, /^The HTTP Request Header included the "Origin" key/);
    const cookie = await rejection(api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: body }, { headers: { Cookie: 'ory_kratos_session=x' } }), 400);
    assert.deepEqual(cookie.error.details['found cookies'], ['ory_kratos_session']);
    const { data: session } = await api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: body });
    assert.ok(session.session_token);
  });

  it('recovery refuses an email that is not an address, with message 4000040', async () => {
    const api = native();
    const { data: flow } = await api.createNativeRecoveryFlow();
    const refused = await rejection(api.updateRecoveryFlow({ flow: flow.id, updateRecoveryFlowBody: { method: 'code', email: 'not-an-email' } }), 400);
    const node = refused.ui.nodes.find((n) => n.attributes.name === 'email');
    assert.deepEqual(node.messages.map((m) => m.id), [4000040]);
    assert.equal(refused.state, 'choose_method');
  });

  it('registration refuses an identity schema that does not exist', async () => {
    const refused = await rejection(native().createNativeRegistrationFlow({ identitySchema: 'nope' }), 400);
    assert.equal(refused.error.reason, 'Requested identity schema "nope" does not exist.');
    const { data: flow } = await native().createNativeRegistrationFlow({ identitySchema: 'default' });
    assert.equal(flow.type, 'api');
  });
});
