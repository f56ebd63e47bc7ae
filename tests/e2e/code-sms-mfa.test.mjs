// A one-time code by SMS as the second factor (selfservice.methods.code.mfa_enabled), driven by @ory/client's FrontendApi
// as a native app against the real gatehouse process, whose courier worker (`serve --watch-courier`) sends the SMS
// through Kratos's HTTP channel to a real HTTP receiver (lib/sms.mjs). The identity has an e-mail address and a phone
// number that both take codes: the aal2 flow offers both addresses, the person picks the phone; a second aal2 flow
// created with `via=phone` sends the SMS at once (Kratos's fast login). Nothing is mailed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { useMailbox } from './lib/mailbox.mjs';
import { uniqueEmail } from './lib/sdk.mjs';
import { nativeFrontend, newPassword, rejection, allMessages, passwordLogin } from './lib/frontend.mjs';
import { useSmsReceiver, uniquePhone } from './lib/sms.mjs';

const schema = {
  $id: 'https://gatehouse.test/e2e-code-sms-mfa.schema.json',
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
          'ory.sh/kratos': { credentials: { password: { identifier: true }, code: { identifier: true, via: 'email' } } },
        },
        phone: {
          type: 'string',
          format: 'tel',
          title: 'Phone',
          'ory.sh/kratos': { credentials: { code: { identifier: true, via: 'sms' } } },
        },
      },
      required: ['email', 'phone'],
      additionalProperties: false,
    },
  },
};

const sms = useSmsReceiver();
const mailbox = useMailbox();
const gatehouse = useGatehouse({
  schema,
  serveArgs: ['--watch-courier'],
  courier: () => ({
    smtp: { connection_uri: mailbox().connectionUri, from_address: 'accounts@gatehouse.test' },
    worker: { pull_wait: '200ms' },
    channels: [sms.channel()],
  }),
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: { password: { config: { haveibeenpwned_enabled: false } }, code: { mfa_enabled: true } },
    flows: { registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }] } } } },
  }),
  session: { whoami: { required_aal: 'highest_available' } },
});

const native = () => nativeFrontend(gatehouse().publicUrl);

/** Submits the SMS's code on the aal2 flow and checks the session reached aal2 with password + code. */
async function finishWithSms(api, flow, token, sessionId, phone, skip) {
  const text = await sms.waitForSms(phone, 'login_code_valid', skip);
  assert.match(text.body.code, /^[0-9]{6}$/);
  assert.ok(text.body.text.includes(text.body.code));
  const { data: done } = await api.updateLoginFlow({
    flow: flow.id, xSessionToken: token, updateLoginFlowBody: { method: 'code', code: text.body.code, csrf_token: '' },
  });
  assert.equal(done.session.id, sessionId);
  const { data: whoami } = await api.toSession({ xSessionToken: token });
  assert.equal(whoami.id, sessionId);
  assert.equal(whoami.authenticator_assurance_level, 'aal2');
  assert.deepEqual(whoami.authentication_methods.map((m) => `${m.method}:${m.aal}`), ['password:aal1', 'code:aal2']);
}

describe(`code by SMS as a second factor through the courier's HTTP channel (${database})`, () => {
  it('password login → whoami 403 → pick the phone among both addresses → SMS code → aal2; then via=phone sends at once', async () => {
    const api = native();
    const email = uniqueEmail('code-sms-mfa');
    const phone = uniquePhone();
    const password = newPassword();
    const { data: regFlow } = await api.createNativeRegistrationFlow();
    await api.updateRegistrationFlow({ flow: regFlow.id, updateRegistrationFlowBody: { method: 'password', password, traits: { email, phone } } });

    // Two addresses take codes, so the aal2 flow lets the person choose (no fast login).
    const first = await passwordLogin(native(), email, password);
    const refused = await rejection(api.toSession({ xSessionToken: first.session_token }), 403);
    assert.equal(refused.error.id, 'session_aal2_required');
    const { data: choose } = await api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: first.session_token });
    assert.equal(choose.state, 'choose_method');
    const offered = choose.ui.nodes.filter((n) => n.attributes.name === 'address');
    assert.deepEqual(offered.map((n) => [n.attributes.value, n.meta.label.context.channel]).sort(), [[phone, 'sms'], [email, 'email']].sort());
    const sent = await rejection(api.updateLoginFlow({
      flow: choose.id, xSessionToken: first.session_token, updateLoginFlowBody: { method: 'code', address: phone, csrf_token: '' },
    }), 400);
    assert.equal(sent.state, 'sent_email');
    assert.ok(allMessages(sent).some((m) => m.id === 1010014));
    await finishWithSms(api, choose, first.session_token, first.session.id, phone, 0);

    // `via=phone` names the trait whose value is the address: the SMS goes out as the flow is created.
    const second = await passwordLogin(native(), email, password);
    const { data: fast } = await api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: second.session_token, via: 'phone' });
    assert.equal(fast.state, 'sent_email');
    assert.equal(fast.active, 'code');
    const chosen = fast.ui.nodes.find((n) => n.attributes.name === 'identifier');
    assert.equal(chosen.attributes.type, 'hidden');
    assert.equal(chosen.attributes.value, phone);
    assert.equal(chosen.meta.label.context.channel, 'sms');
    await finishWithSms(api, fast, second.session_token, second.session.id, phone, 1);

    // On an aal1 session, a `via` trait the identity has no value for is refused (400); nothing is mailed in all of this.
    const third = await passwordLogin(native(), email, password);
    const wrong = await rejection(api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: third.session_token, via: 'nickname' }), 400);
    assert.match(JSON.stringify(wrong), /No value found for trait nickname/);
    assert.equal(mailbox().messages.length, 0);
  });
});
