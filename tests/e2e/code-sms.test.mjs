// Passwordless sign-up and sign-in by SMS code (identity schema `credentials.code: {identifier: true, via: sms}`), driven
// by @ory/client's FrontendApi as a native app against the real gatehouse process, whose courier worker
// (`serve --watch-courier`) sends each SMS through Kratos's HTTP channel (`courier.channels: [{id: sms, type: http,
// request_config}]`) to a real HTTP receiver started by this file; the code is read from the request the receiver got.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { useMailbox } from './lib/mailbox.mjs';
import { nativeFrontend, rejection, allMessages } from './lib/frontend.mjs';
import { useSmsReceiver, uniquePhone } from './lib/sms.mjs';

const schema = {
  $id: 'https://gatehouse.test/e2e-code-sms.schema.json',
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    traits: {
      type: 'object',
      properties: {
        phone: {
          type: 'string',
          format: 'tel',
          title: 'Phone',
          'ory.sh/kratos': { credentials: { code: { identifier: true, via: 'sms' } } },
        },
      },
      required: ['phone'],
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
    methods: { password: { enabled: false }, code: { passwordless_enabled: true } },
    flows: { registration: { style: 'unified', after: { code: { hooks: [{ hook: 'session' }] } } } },
  }),
});

const native = () => nativeFrontend(gatehouse().publicUrl);

describe(`passwordless code by SMS through the courier's HTTP channel (${database})`, () => {
  it('sign up and sign in with a phone number; the codes arrive at the SMS provider', async () => {
    const api = native();
    const phone = uniquePhone();

    const { data: reg } = await api.createNativeRegistrationFlow();
    const sent = await rejection(api.updateRegistrationFlow({ flow: reg.id, updateRegistrationFlowBody: { method: 'code', traits: { phone } } }), 400);
    assert.equal(sent.state, 'sent_email');
    const regSms = await sms.waitForSms(phone, 'registration_code_valid');
    assert.equal(regSms.headers['x-api-key'], 'e2e-sms-key');
    assert.match(regSms.body.code, /^[0-9]{6}$/);
    assert.ok(regSms.body.text.includes(regSms.body.code));
    const { data: registered } = await api.updateRegistrationFlow({
      flow: reg.id, updateRegistrationFlowBody: { method: 'code', traits: { phone }, code: regSms.body.code },
    });
    assert.ok(registered.session_token);

    const { data: login } = await api.createNativeLoginFlow();
    const loginSent = await rejection(api.updateLoginFlow({ flow: login.id, updateLoginFlowBody: { method: 'code', identifier: phone, csrf_token: '' } }), 400);
    assert.equal(loginSent.state, 'sent_email');
    assert.ok(allMessages(loginSent).some((m) => m.id === 1010014));
    const loginSms = await sms.waitForSms(phone, 'login_code_valid');
    assert.ok(loginSms.body.text.includes(`${loginSms.body.code} is your sign-in code`));
    const { data: done } = await api.updateLoginFlow({
      flow: login.id, updateLoginFlowBody: { method: 'code', identifier: phone, code: loginSms.body.code, csrf_token: '' },
    });
    assert.equal(done.session.identity.id, registered.identity.id);
    assert.deepEqual(done.session.authentication_methods.map((m) => `${m.method}:${m.aal}`), ['code:aal1']);
    assert.equal(mailbox().messages.length, 0);
  });
});
