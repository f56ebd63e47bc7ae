// Passwordless sign-up and sign-in by SMS code (identity schema `credentials.code: {identifier: true, via: sms}`), driven
// by @ory/client's FrontendApi as a native app against the real gatehouse process, whose courier worker
// (`serve --watch-courier`) sends each SMS through Kratos's HTTP channel (`courier.channels: [{id: sms, type: http,
// request_config}]`) to a real HTTP receiver started by this file; the code is read from the request the receiver got.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { EventEmitter, once } from 'node:events';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { useMailbox } from './lib/mailbox.mjs';
import { nativeFrontend, rejection, allMessages } from './lib/frontend.mjs';

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

// What an SMS provider's API would take; `code` only for the test's convenience.
const body = `function(ctx) {
  to: ctx.recipient,
  text: ctx.body,
  template_type: ctx.template_type,
  code: if "login_code" in ctx.template_data then ctx.template_data.login_code else ctx.template_data.registration_code,
}`;

const received = [];
const arrivals = new EventEmitter(); // 'sms' on every request the receiver gets
let receiver;
before(async () => {
  receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(data) });
      arrivals.emit('sms');
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"sid":"SM1"}');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
after(() => new Promise((resolve) => receiver.close(resolve)));

async function waitForSms(to, templateType, skip = 0) {
  // The courier sends from the server's background worker: wait for the receiver's next request, at most 15 s in all.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const hits = received.filter((r) => r.body.to === to && r.body.template_type === templateType);
    if (hits.length > skip) return hits[hits.length - 1];
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no ${templateType} SMS to ${to}`);
    await once(arrivals, 'sms', { signal: AbortSignal.timeout(left) }).catch(() => {});
  }
}

const mailbox = useMailbox();
const gatehouse = useGatehouse({
  schema,
  serveArgs: ['--watch-courier'],
  courier: () => ({
    smtp: { connection_uri: mailbox().connectionUri, from_address: 'accounts@gatehouse.test' },
    worker: { pull_wait: '200ms' },
    channels: [{
      id: 'sms',
      type: 'http',
      request_config: {
        url: `http://127.0.0.1:${receiver.address().port}/messages`,
        method: 'POST',
        body: `base64://${Buffer.from(body).toString('base64')}`,
        auth: { type: 'api_key', config: { name: 'X-Api-Key', value: 'e2e-sms-key', in: 'header' } },
      },
    }],
  }),
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: { password: { enabled: false }, code: { passwordless_enabled: true } },
    flows: { registration: { style: 'unified', after: { code: { hooks: [{ hook: 'session' }] } } } },
  }),
});

const native = () => nativeFrontend(gatehouse().publicUrl);
const uniquePhone = () => `+49176${String(10_000_000 + Math.floor(Math.random() * 89_999_999))}`;

describe(`passwordless code by SMS through the courier's HTTP channel (${database})`, () => {
  it('sign up and sign in with a phone number; the codes arrive at the SMS provider', async () => {
    const api = native();
    const phone = uniquePhone();

    const { data: reg } = await api.createNativeRegistrationFlow();
    const sent = await rejection(api.updateRegistrationFlow({ flow: reg.id, updateRegistrationFlowBody: { method: 'code', traits: { phone } } }), 400);
    assert.equal(sent.state, 'sent_email');
    const regSms = await waitForSms(phone, 'registration_code_valid');
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
    const loginSms = await waitForSms(phone, 'login_code_valid');
    assert.ok(loginSms.body.text.includes(`${loginSms.body.code} is your sign-in code`));
    const { data: done } = await api.updateLoginFlow({
      flow: login.id, updateLoginFlowBody: { method: 'code', identifier: phone, code: loginSms.body.code, csrf_token: '' },
    });
    assert.equal(done.session.identity.id, registered.identity.id);
    assert.deepEqual(done.session.authentication_methods.map((m) => `${m.method}:${m.aal}`), ['code:aal1']);
    assert.equal(mailbox().messages.length, 0);
  });
});
