// Passwordless registration and login by a one-time e-mail code (selfservice.methods.code.passwordless_enabled), as a
// native app drives them with @ory/client's FrontendApi: gatehouse runs `serve --watch-courier` and delivers the codes
// over SMTP to a real SMTP server (npm `smtp-server`) started by this file; the tests read the codes out of the mails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { useMailbox, waitForCode } from './lib/mailbox.mjs';
import { identityApi, uniqueEmail } from './lib/sdk.mjs';
import { nativeFrontend, rejection, allMessages } from './lib/frontend.mjs';

// The email is both the password and the code identifier, as in Kratos's quickstart for passwordless code.
const schema = {
  $id: 'https://gatehouse.test/e2e-code.schema.json',
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
            recovery: { via: 'email' },
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
    methods: { password: { config: { haveibeenpwned_enabled: false } }, code: { passwordless_enabled: true } },
    flows: {
      registration: { style: 'unified', after: { code: { hooks: [{ hook: 'session' }] } } },
      verification: { enabled: true },
    },
  }),
});

const admin = () => identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key });
const native = () => nativeFrontend(gatehouse().publicUrl);
const names = (flow) => flow.ui.nodes.map((n) => `${n.group}:${n.attributes.name}:${n.attributes.type}`);

async function registerByCode(email) {
  const api = native();
  const { data: flow } = await api.createNativeRegistrationFlow();
  assert.ok(names(flow).includes('code:method:submit'), names(flow).join());
  const sent = await rejection(api.updateRegistrationFlow({
    flow: flow.id, updateRegistrationFlowBody: { method: 'code', traits: { email } },
  }), 400);
  assert.equal(sent.state, 'sent_email');
  assert.ok(allMessages(sent).some((m) => m.id === 1040005), JSON.stringify(allMessages(sent)));
  const { code } = await waitForCode(mailbox(), email, { subject: 'Complete your account registration' });
  const { data: done } = await api.updateRegistrationFlow({
    flow: flow.id, updateRegistrationFlowBody: { method: 'code', traits: { email }, code },
  });
  return done;
}

describe(`passwordless code registration and login through real SMTP (${database})`, () => {
  it('registers by code: identity with a code credential, address verified, session token', async () => {
    const email = uniqueEmail('code-reg');
    const done = await registerByCode(email);
    assert.equal(typeof done.session_token, 'string');
    assert.equal(done.session.authentication_methods[0].method, 'code');
    const { data: identity } = await admin().getIdentity({ id: done.identity.id, includeCredential: ['code'] });
    assert.deepEqual(identity.credentials.code.identifiers, [email]);
    assert.deepEqual(identity.credentials.code.config.addresses, [{ channel: 'email', address: email }]);
    assert.equal(identity.verifiable_addresses[0].verified, true);
    const { data: whoami } = await native().toSession({ xSessionToken: done.session_token });
    assert.equal(whoami.identity.id, done.identity.id);
  });

  it('signs in by code: 400 sent_email with the code form, wrong code 4010008, right code a session (aal1, code)', async () => {
    const email = uniqueEmail('code-login');
    const registered = await registerByCode(email);
    const api = native();
    const { data: flow } = await api.createNativeLoginFlow();
    assert.ok(names(flow).includes('code:method:submit'), names(flow).join());

    const sent = await rejection(api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'code', identifier: email } }), 400);
    assert.equal(sent.state, 'sent_email');
    assert.deepEqual(allMessages(sent).map((m) => m.id), [1010014]);
    assert.deepEqual(names(sent), ['default:identifier:hidden', 'code:method:hidden', 'code:code:text', 'code:method:submit', 'code:resend:submit']);
    const { code } = await waitForCode(mailbox(), email, { subject: 'Login to your account' });

    const wrong = code === '000000' ? '111111' : '000000';
    const refused = await rejection(api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'code', identifier: email, code: wrong } }), 400);
    assert.deepEqual(allMessages(refused).map((m) => m.id), [4010008]);

    const { data: done } = await api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'code', identifier: email, code } });
    assert.equal(done.session.identity.id, registered.identity.id);
    assert.equal(done.session.authenticator_assurance_level, 'aal1');
    assert.deepEqual(done.session.authentication_methods.map((m) => [m.method, m.aal]), [['code', 'aal1']]);
    const { data: whoami } = await native().toSession({ xSessionToken: done.session_token });
    assert.equal(whoami.id, done.session.id);

    // Single use: the same code does not sign in again on a new flow.
    const { data: again } = await api.createNativeLoginFlow();
    await rejection(api.updateLoginFlow({ flow: again.id, updateLoginFlowBody: { method: 'code', identifier: email } }), 400);
    const reused = await rejection(api.updateLoginFlow({ flow: again.id, updateLoginFlowBody: { method: 'code', identifier: email, code } }), 400);
    assert.ok(allMessages(reused).some((m) => m.id === 4010008), JSON.stringify(allMessages(reused)));
  });

  it('an address without an account gets 4000035 and no mail', async () => {
    const ghost = uniqueEmail('code-ghost');
    const api = native();
    const { data: flow } = await api.createNativeLoginFlow();
    const answer = await rejection(api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'code', identifier: ghost } }), 400);
    assert.equal(answer.state, 'choose_method');
    assert.deepEqual(allMessages(answer).map((m) => m.id), [4000035]);
    await assert.rejects(waitForCode(mailbox(), ghost, { timeoutMs: 1_500 }), /no matching mail/);
  });
});
