// A one-time e-mail code as the second factor (selfservice.methods.code.mfa_enabled), driven by @ory/client's FrontendApi
// as a native app against the real gatehouse process, which delivers the code over SMTP (`serve --watch-courier`) to a
// real SMTP server (npm `smtp-server`) started by this file: password login → whoami 403 → aal2 login (the code is the only
// second factor and there is one address, so Kratos's fast login mails the code as the flow is created), read the code
// from the mail, submit it → whoami aal2 on the same session id; the code does not work twice.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { useMailbox, waitForCode } from './lib/mailbox.mjs';
import { uniqueEmail } from './lib/sdk.mjs';
import { nativeFrontend, newPassword, rejection, allMessages, passwordLogin } from './lib/frontend.mjs';

const schema = {
  $id: 'https://gatehouse.test/e2e-code-mfa.schema.json',
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
            credentials: { password: { identifier: true }, code: { identifier: true, via: 'email' } },
            verification: { via: 'email' },
          },
        },
      },
      required: ['email'],
      additionalProperties: false,
    },
  },
};

const mailbox = useMailbox();
const gatehouse = useGatehouse({
  schema,
  serveArgs: ['--watch-courier'],
  courier: () => ({
    smtp: { connection_uri: mailbox().connectionUri, from_address: 'accounts@gatehouse.test', from_name: 'Gatehouse E2E' },
    worker: { pull_wait: '200ms' },
  }),
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: { password: { config: { haveibeenpwned_enabled: false } }, code: { mfa_enabled: true } },
    flows: { registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }] } } } },
  }),
  session: { whoami: { required_aal: 'highest_available' } },
});

const native = () => nativeFrontend(gatehouse().publicUrl);

describe(`code as a second factor through real SMTP (${database})`, () => {
  it('password login → whoami 403 → code mailed as the aal2 flow is created → aal2 on the same session; the code works once', async () => {
    const api = native();
    const email = uniqueEmail('code-mfa');
    const password = newPassword();
    const { data: regFlow } = await api.createNativeRegistrationFlow();
    await api.updateRegistrationFlow({ flow: regFlow.id, updateRegistrationFlowBody: { method: 'password', password, traits: { email } } });

    const login = await passwordLogin(native(), email, password);
    const token = login.session_token;
    const refused = await rejection(api.toSession({ xSessionToken: token }), 403);
    assert.equal(refused.error.id, 'session_aal2_required');

    const { data: flow } = await api.createNativeLoginFlow({ aal: 'aal2', xSessionToken: token });
    assert.equal(flow.state, 'sent_email');
    assert.equal(flow.active, 'code');
    assert.ok(allMessages(flow).some((m) => m.id === 1010014));
    assert.equal(flow.ui.nodes.find((n) => n.attributes.name === 'address'), undefined);
    const chosen = flow.ui.nodes.find((n) => n.attributes.name === 'identifier');
    assert.equal(chosen.attributes.type, 'hidden');
    assert.equal(chosen.attributes.value, email);
    assert.deepEqual(chosen.meta.label, { id: 1010023, text: `Send code to ${email}`, type: 'info', context: { address: email, channel: 'email' } });
    const { code } = await waitForCode(mailbox(), email, { subject: 'Login to your account' });

    const { data: done } = await api.updateLoginFlow({
      flow: flow.id, xSessionToken: token, updateLoginFlowBody: { method: 'code', code, csrf_token: '' },
    });
    assert.equal(done.session.id, login.session.id);
    const { data: whoami } = await api.toSession({ xSessionToken: token });
    assert.equal(whoami.id, login.session.id);
    assert.equal(whoami.authenticator_assurance_level, 'aal2');
    assert.deepEqual(whoami.authentication_methods.map((m) => `${m.method}:${m.aal}`), ['password:aal1', 'code:aal2']);

    const again = await rejection(api.updateLoginFlow({
      flow: flow.id, xSessionToken: token, updateLoginFlowBody: { method: 'code', code, csrf_token: '' },
    }), 400);
    // The session is aal2 now: submitting the flow again is refused before anything else (Kratos's updateLoginFlow:
    // ErrAlreadyLoggedIn, on the flow as 4000001), and the session stays as it is.
    assert.deepEqual(again.ui.messages.map((m) => m.id), [4000001]);
    assert.match(again.ui.messages[0].text, /A valid session was detected/);
    const { data: still } = await api.toSession({ xSessionToken: token });
    assert.equal(still.id, login.session.id);
    assert.equal(still.authentication_methods.length, 2);
  });
});
