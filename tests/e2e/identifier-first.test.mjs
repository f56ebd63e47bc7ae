// Identifier-first login (selfservice.flows.login.style: identifier_first) as a native app drives it with @ory/client:
// updateLoginFlow with method identifier_first answers 400 with the second screen, then method password signs in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail } from './lib/sdk.mjs';
import { nativeFrontend, rejection, allMessages, newPassword } from './lib/frontend.mjs';

const gatehouse = useGatehouse({
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
    flows: { login: { style: 'identifier_first' } },
  }),
});

const node = (flow, name) => flow.ui.nodes.find((n) => n.attributes?.name === name);

describe('identifier-first login with @ory/client', () => {
  it('signs in with the identifier, then the password, through updateLoginFlow', async () => {
    const email = uniqueEmail('idfirst');
    const password = newPassword();
    await identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key }).createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email }, credentials: { password: { config: { password } } } },
    });
    const api = nativeFrontend(gatehouse().publicUrl);

    const { data: flow } = await api.createNativeLoginFlow();
    assert.equal(node(flow, 'identifier').group, 'identifier_first');
    assert.equal(node(flow, 'method').attributes.value, 'identifier_first');
    assert.equal(node(flow, 'password'), undefined);

    const second = await rejection(api.updateLoginFlow({
      flow: flow.id,
      updateLoginFlowBody: { method: 'identifier_first', identifier: email },
    }), 400);
    assert.equal(second.id, flow.id);
    assert.equal(second.active, 'identifier_first');
    assert.deepEqual(allMessages(second), []);
    assert.equal(node(second, 'identifier').attributes.type, 'hidden');
    assert.equal(node(second, 'identifier').attributes.value, email);
    assert.equal(node(second, 'password').attributes.autocomplete, 'current-password');
    assert.deepEqual(second.ui.nodes.filter((n) => n.attributes.name === 'method').map((n) => n.attributes.value), ['password']);

    const unknown = await rejection(api.updateLoginFlow({
      flow: (await api.createNativeLoginFlow()).data.id,
      updateLoginFlowBody: { method: 'identifier_first', identifier: uniqueEmail('nobody') },
    }), 400);
    assert.deepEqual(node(unknown, 'identifier').messages.map((m) => m.id), [4000037]);

    const { data: done } = await api.updateLoginFlow({
      flow: flow.id,
      updateLoginFlowBody: { method: 'password', identifier: email, password },
    });
    assert.ok(done.session_token);
    assert.equal(done.session.identity.traits.email, email);
    const { data: whoami } = await api.toSession({ xSessionToken: done.session_token });
    assert.equal(whoami.authentication_methods[0].method, 'password');
  });
});
