// Self-service registration, login, sessions, logout and settings through @ory/client's FrontendApi, and the session
// admin API through IdentityApi, against the real gatehouse process: native apps (session tokens) and browsers (a
// cookie jar on the SDK's axios instance, with CSRF).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import axios from 'axios';
import { Configuration, FrontendApi, ListSessionsExpandEnum, GetSessionExpandEnum } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail, expectHttpError, nextPageToken } from './lib/sdk.mjs';
import {
  nativeFrontend as nativeFrontendFor, browserFrontend as browserFrontendFor, newPassword, rejection, csrfTokenOf,
} from './lib/frontend.mjs';

const gatehouse = useGatehouse({
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    allowed_return_urls: ['https://app.example.com/'],
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
    flows: {
      registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }] } } },
    },
  }),
});

const admin = () => identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key });

function nativeFrontend() {
  return nativeFrontendFor(gatehouse().publicUrl);
}

function browserFrontend() {
  return browserFrontendFor(gatehouse().publicUrl);
}

async function registerNative(email, password) {
  const api = nativeFrontend();
  const { data: flow } = await api.createNativeRegistrationFlow();
  assert.equal(flow.type, 'api');
  const res = await api.updateRegistrationFlow({
    flow: flow.id,
    updateRegistrationFlowBody: { method: 'password', password, traits: { email } },
  });
  assert.equal(res.status, 200);
  return res.data;
}

async function loginNative(identifier, password) {
  const api = nativeFrontend();
  const { data: flow } = await api.createNativeLoginFlow();
  assert.equal(flow.type, 'api');
  const res = await api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'password', identifier, password } });
  assert.equal(res.status, 200);
  return res.data;
}

describe(`native registration, login and sessions (${database})`, () => {
  it('registration with the session hook returns a token; login adds a second session; both show up everywhere', async () => {
    const email = uniqueEmail('native');
    const password = newPassword();
    const registered = await registerNative(email, password);
    assert.equal(typeof registered.session_token, 'string');
    assert.ok(registered.session_token.length > 0);
    assert.equal(registered.identity.traits.email, email);
    assert.equal(registered.session.identity.id, registered.identity.id);
    assert.equal(registered.session.active, true);
    const identityId = registered.identity.id;

    const frontend = nativeFrontend();
    const { data: whoami } = await frontend.toSession({ xSessionToken: registered.session_token });
    assert.equal(whoami.id, registered.session.id);
    assert.equal(whoami.identity.id, identityId);
    assert.equal(whoami.authenticator_assurance_level, 'aal1');

    const login = await loginNative(email.toUpperCase(), password);
    assert.equal(typeof login.session_token, 'string');
    assert.notEqual(login.session_token, registered.session_token);
    assert.notEqual(login.session.id, registered.session.id);
    assert.equal(login.session.identity.id, identityId);
    assert.equal(login.session.authentication_methods[0].method, 'password');

    // listMySessions shows the caller's other sessions, not the current one.
    const { data: mine } = await frontend.listMySessions({ xSessionToken: login.session_token });
    assert.deepEqual(mine.map((s) => s.id), [registered.session.id]);

    // Admin listing, one per page, following rel=next until there is none: both sessions are found, none twice.
    const seen = new Map();
    let pageToken;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 100, 'paging terminates');
      const res = await admin().listSessions({
        expand: [ListSessionsExpandEnum.Devices, ListSessionsExpandEnum.Identity], active: true, pageSize: 1, pageToken,
      });
      assert.equal(res.status, 200);
      assert.ok(res.data.length <= 1);
      for (const s of res.data) {
        assert.ok(!seen.has(s.id), `session ${s.id} listed twice`);
        assert.equal(s.active, true);
        assert.ok(s.identity?.id, 'identity expanded');
        assert.ok(Array.isArray(s.devices), 'devices expanded');
        seen.set(s.id, s);
      }
      pageToken = nextPageToken(res.headers.link);
      if (!pageToken) break;
    }
    for (const id of [registered.session.id, login.session.id]) {
      assert.ok(seen.has(id), `session ${id} is listed`);
      assert.equal(seen.get(id).identity.id, identityId);
    }

    const { data: got } = await admin().getSession({ id: login.session.id, expand: [GetSessionExpandEnum.Devices, GetSessionExpandEnum.Identity] });
    assert.equal(got.id, login.session.id);
    assert.equal(got.identity.id, identityId);
    assert.equal(got.identity.traits.email, email);
    assert.ok(got.devices.length >= 1, JSON.stringify(got.devices));
    assert.equal(typeof got.devices[0].id, 'string');
    assert.equal(typeof got.devices[0].user_agent, 'string');

    const { data: extended } = await admin().extendSession({ id: login.session.id });
    assert.equal(extended.id, login.session.id);
    assert.ok(Date.parse(extended.expires_at) >= Date.parse(got.expires_at), `${extended.expires_at} >= ${got.expires_at}`);

    const { data: perIdentity } = await admin().listIdentitySessions({ id: identityId });
    assert.deepEqual(perIdentity.map((s) => s.id).sort(), [registered.session.id, login.session.id].sort());

    // Disabling one session revokes its token; the other keeps working.
    assert.equal((await admin().disableSession({ id: login.session.id })).status, 204);
    const envelope = await expectHttpError(frontend.toSession({ xSessionToken: login.session_token }), 401);
    assert.equal(envelope.reason, 'No valid session credentials found in the request.', 'Kratos\'s whoami 401');
    assert.equal((await frontend.toSession({ xSessionToken: registered.session_token })).data.id, registered.session.id);
    const { data: activeOnly } = await admin().listIdentitySessions({ id: identityId, active: true });
    assert.deepEqual(activeOnly.map((s) => s.id), [registered.session.id]);

    // Deleting all of the identity's sessions revokes the remaining token.
    assert.equal((await admin().deleteIdentitySessions({ id: identityId })).status, 204);
    await expectHttpError(frontend.toSession({ xSessionToken: registered.session_token }), 401);
    assert.deepEqual((await admin().listIdentitySessions({ id: identityId })).data, []);
    await expectHttpError(admin().listIdentitySessions({ id: '00000000-0000-4000-8000-000000000000' }), 404);
  });

  it('deactivating the identity with patchIdentity ends its sessions for toSession; logging in again is refused', async () => {
    const email = uniqueEmail('deactivate');
    const password = newPassword();
    const { session_token: token, identity } = await registerNative(email, password);
    const frontend = nativeFrontend();
    assert.equal((await frontend.toSession({ xSessionToken: token })).status, 200);

    const { data: patched } = await admin().patchIdentity({
      id: identity.id, jsonPatch: [{ op: 'replace', path: '/state', value: 'inactive' }],
    });
    assert.equal(patched.state, 'inactive');
    await expectHttpError(frontend.toSession({ xSessionToken: token }), 401);

    const { data: flow } = await frontend.createNativeLoginFlow();
    const refused = await rejection(frontend.updateLoginFlow({
      flow: flow.id, updateLoginFlowBody: { method: 'password', identifier: email, password },
    }), 400);
    assert.ok(refused.ui.messages.some((m) => m.id === 4010011), JSON.stringify(refused.ui.messages));

    // Reactivated, the identity's existing session works again (Kratos checks the identity's state on each request).
    await admin().patchIdentity({ id: identity.id, jsonPatch: [{ op: 'replace', path: '/state', value: 'active' }] });
    assert.equal((await frontend.toSession({ xSessionToken: token })).data.identity.id, identity.id);
  });

  it('a wrong password and an unknown identifier both give 400 with message 4000006 on the flow', async () => {
    const email = uniqueEmail('wrong');
    await registerNative(email, newPassword());
    const frontend = nativeFrontend();
    for (const [identifier, password] of [[email, 'not-the-password-123'], [uniqueEmail('nobody'), 'not-the-password-123']]) {
      const { data: flow } = await frontend.createNativeLoginFlow();
      const body = await rejection(frontend.updateLoginFlow({
        flow: flow.id, updateLoginFlowBody: { method: 'password', identifier, password },
      }), 400);
      assert.equal(body.id, flow.id, 'the answer is the flow');
      assert.equal(body.ui.messages.length, 1, JSON.stringify(body.ui.messages));
      assert.equal(body.ui.messages[0].id, 4000006);
      assert.equal(body.ui.messages[0].type, 'error');
      const identifierNode = body.ui.nodes.find((n) => n.attributes?.name === 'identifier');
      assert.equal(identifierNode.attributes.value, identifier, 'the identifier is kept');
      const passwordNode = body.ui.nodes.find((n) => n.attributes?.name === 'password');
      assert.ok(!passwordNode.attributes.value, 'the password is never echoed');
    }
  });

  it('manageSessions disables sessions in bulk: whoami (also a cached one) stops answering at once', async () => {
    const password = newPassword();
    const first = await registerNative(uniqueEmail('bulk'), password);
    const second = await registerNative(uniqueEmail('bulk'), password);
    const keep = await registerNative(uniqueEmail('bulk'), password);
    const frontend = nativeFrontend();
    for (const r of [first, second, keep]) {
      await frontend.toSession({ xSessionToken: r.session_token });
      await frontend.toSession({ xSessionToken: r.session_token });
    }
    const { data } = await admin().manageSessions({
      manageSessionsBody: { action: 'disable', sessions: [first.session.id, second.session.id] },
    });
    assert.deepEqual(data, { processed: 2, more: false });
    for (const r of [first, second]) await expectHttpError(frontend.toSession({ xSessionToken: r.session_token }), 401);
    const { data: still } = await frontend.toSession({ xSessionToken: keep.session_token });
    assert.equal(still.id, keep.session.id);

    const { data: deleted } = await admin().manageSessions({
      manageSessionsBody: { action: 'delete', identities: [keep.identity.id] },
    });
    assert.deepEqual(deleted, { processed: 1, more: false });
    await expectHttpError(frontend.toSession({ xSessionToken: keep.session_token }), 401);
    await expectHttpError(admin().manageSessions({ manageSessionsBody: { action: 'disable', sessions: ['*'] } }), 400);
  });

  it('registering an email twice gives 400 with message 4000007', async () => {
    const email = uniqueEmail('twice');
    await registerNative(email, newPassword());
    const frontend = nativeFrontend();
    const { data: flow } = await frontend.createNativeRegistrationFlow();
    const body = await rejection(frontend.updateRegistrationFlow({
      flow: flow.id, updateRegistrationFlowBody: { method: 'password', password: newPassword(), traits: { email } },
    }), 400);
    const messages = [...(body.ui.messages ?? []), ...body.ui.nodes.flatMap((n) => n.messages)];
    assert.ok(messages.some((m) => m.id === 4000007), JSON.stringify(messages));
  });
});

describe(`browser registration, session cookie and logout (${database})`, () => {
  it('register with the CSRF token sets a session cookie; toSession uses it; logout ends it', async () => {
    const { api, http, jar } = browserFrontend();
    const { data: flow } = await api.createBrowserRegistrationFlow();
    assert.equal(flow.type, 'browser');
    assert.ok([...jar.keys()].some((k) => k.startsWith('csrf_token')), `CSRF cookie set: ${[...jar.keys()]}`);
    const csrf = csrfTokenOf(flow);

    const email = uniqueEmail('browser');
    const res = await api.updateRegistrationFlow({
      flow: flow.id,
      updateRegistrationFlowBody: { method: 'password', csrf_token: csrf, password: newPassword(), traits: { email } },
    });
    assert.equal(res.status, 200);
    assert.equal(res.data.identity.traits.email, email);
    assert.equal(res.data.session_token, undefined, 'browsers get a cookie, not a token');
    assert.ok(jar.has('ory_kratos_session'), `session cookie set: ${[...jar.keys()]}`);

    const { data: whoami } = await api.toSession();
    assert.equal(whoami.identity.id, res.data.identity.id);
    assert.equal(whoami.id, res.data.session.id);

    const { data: logout } = await api.createBrowserLogoutFlow();
    assert.equal(typeof logout.logout_token, 'string');
    const logoutUrl = new URL(logout.logout_url);
    assert.equal(logoutUrl.origin, gatehouse().publicUrl);
    assert.equal(logoutUrl.pathname, '/self-service/logout');
    assert.equal(logoutUrl.searchParams.get('token'), logout.logout_token);

    // A GET of the logout URL as a page navigation (browsers send text/html first) is a 303 to the default return URL.
    const done = await http.get(logout.logout_url, { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, validateStatus: () => true });
    assert.equal(done.status, 303);
    assert.equal(done.headers.location, `${gatehouse().publicUrl}/welcome`);
    assert.ok(!jar.has('ory_kratos_session'), 'the session cookie is cleared');
    await expectHttpError(api.toSession(), 401);
    assert.equal((await admin().getSession({ id: res.data.session.id })).data.active, false, 'the session is revoked on the server');
  });

  it('browser login, then updateLogoutFlow({token}) through the SDK answers 204 and ends the session', async () => {
    const email = uniqueEmail('browser-login');
    const password = newPassword();
    await registerNative(email, password);

    const { api, jar } = browserFrontend();
    const { data: flow } = await api.createBrowserLoginFlow();
    const res = await api.updateLoginFlow({
      flow: flow.id, updateLoginFlowBody: { method: 'password', csrf_token: csrfTokenOf(flow), identifier: email, password },
    });
    assert.equal(res.status, 200);
    assert.ok(jar.has('ory_kratos_session'));
    const sessionId = res.data.session.id;
    assert.equal((await api.toSession()).data.id, sessionId);

    const { data: logout } = await api.createBrowserLogoutFlow();
    const out = await api.updateLogoutFlow({ token: logout.logout_token });
    assert.equal(out.status, 204, 'the SDK accepts JSON, so Kratos answers 204 instead of redirecting');
    await expectHttpError(api.toSession(), 401);
    assert.equal((await admin().getSession({ id: sessionId })).data.active, false);
  });

  it('a browser submit without the CSRF token is 403 security_csrf_violation and creates nothing', async () => {
    const { api, jar } = browserFrontend();
    const { data: flow } = await api.createBrowserRegistrationFlow();
    const email = uniqueEmail('nocsrf');
    const body = await rejection(api.updateRegistrationFlow({
      flow: flow.id, updateRegistrationFlowBody: { method: 'password', password: newPassword(), traits: { email } },
    }), 403);
    assert.equal(body.error.id, 'security_csrf_violation');
    assert.equal(body.error.code, 403);
    assert.ok(!jar.has('ory_kratos_session'));
    const { data: found } = await admin().listIdentities({ credentialsIdentifier: email });
    assert.deepEqual(found, []);

    // A wrong token is refused the same way; the right one still works afterwards.
    const wrong = await rejection(api.updateRegistrationFlow({
      flow: flow.id, updateRegistrationFlowBody: { method: 'password', csrf_token: 'x'.repeat(32), password: newPassword(), traits: { email } },
    }), 403);
    assert.equal(wrong.error.id, 'security_csrf_violation');
    const ok = await api.updateRegistrationFlow({
      flow: flow.id, updateRegistrationFlowBody: { method: 'password', csrf_token: csrfTokenOf(flow), password: newPassword(), traits: { email } },
    });
    assert.equal(ok.status, 200);
  });
});

describe(`settings (${database})`, () => {
  it('a native profile update succeeds and the admin API sees it; invalid traits are 400 and change nothing', async () => {
    const email = uniqueEmail('settings');
    const { session_token: token, identity } = await registerNative(email, newPassword());
    const frontend = nativeFrontend();

    const { data: flow } = await frontend.createNativeSettingsFlow({ xSessionToken: token });
    assert.equal(flow.type, 'api');
    assert.equal(flow.identity.id, identity.id);
    const traits = { email, name: { first: 'Ada', last: 'Lovelace' } };
    const { data: updated } = await frontend.updateSettingsFlow({
      flow: flow.id, xSessionToken: token, updateSettingsFlowBody: { method: 'profile', traits },
    });
    assert.equal(updated.state, 'success');
    assert.deepEqual(updated.identity.traits, traits);
    assert.ok(updated.ui.messages.some((m) => m.id === 1050001), JSON.stringify(updated.ui.messages));
    assert.deepEqual((await admin().getIdentity({ id: identity.id })).data.traits, traits);

    const { data: second } = await frontend.createNativeSettingsFlow({ xSessionToken: token });
    const refused = await rejection(frontend.updateSettingsFlow({
      flow: second.id, xSessionToken: token, updateSettingsFlowBody: { method: 'profile', traits: { email: 'nope', name: { first: 'Eve' } } },
    }), 400);
    assert.equal(refused.id, second.id);
    const emailNode = refused.ui.nodes.find((n) => n.attributes?.name === 'traits.email');
    assert.ok(emailNode.messages.some((m) => m.id === 4000040 && m.type === 'error'), JSON.stringify(emailNode.messages));
    const after = (await admin().getIdentity({ id: identity.id })).data;
    assert.deepEqual(after.traits, traits);
    assert.deepEqual(after.verifiable_addresses.map((a) => a.value), [email]);

    // Without a session there is no settings flow.
    const noSession = await expectHttpError(frontend.createNativeSettingsFlow({ xSessionToken: 'ory_st_not-a-token' }), 401);
    assert.equal(noSession.id, 'session_inactive');
  });
});

describe(`profile-first registration (Kratos's default style) (${database})`, () => {
  // Called inside the suite, so this second server (with the default registration style) lives only for it.
  const profileFirst = useGatehouse({
    selfservice: {
      methods: { password: { config: { haveibeenpwned_enabled: false } } },
      flows: { registration: { after: { password: { hooks: [{ hook: 'session' }] } } } },
    },
  });

  it('method=profile returns the credential step; method=password then creates the identity and a session', async () => {
    const base = profileFirst().publicUrl;
    const frontend = new FrontendApi(new Configuration({ basePath: base }), base, axios.create({ maxRedirects: 0 }));
    const { data: flow } = await frontend.createNativeRegistrationFlow();
    const methods = flow.ui.nodes.filter((n) => n.attributes?.name === 'method').map((n) => n.attributes.value);
    assert.deepEqual(methods, ['profile'], 'the first step offers only the profile submit');

    const email = uniqueEmail('two-step');
    const traits = { email, name: { first: 'Two', last: 'Step' } };
    // As Kratos's profile strategy (showCredentialsSelection): the credential step comes as a 400 with the flow, no active method.
    const step = await rejection(frontend.updateRegistrationFlow({ flow: flow.id, updateRegistrationFlowBody: { method: 'profile', traits } }), 400);
    assert.equal(step.id, flow.id);
    assert.equal(step.active, undefined);
    assert.ok(step.ui.nodes.some((n) => n.attributes?.name === 'password'), 'the second step asks for the password');

    const { data: done } = await frontend.updateRegistrationFlow({
      flow: flow.id, updateRegistrationFlowBody: { method: 'password', password: newPassword(), traits },
    });
    assert.deepEqual(done.identity.traits, traits);
    assert.equal(typeof done.session_token, 'string');
    const { data: whoami } = await frontend.toSession({ xSessionToken: done.session_token });
    assert.equal(whoami.identity.id, done.identity.id);
    const { data: stored } = await identityApi({ basePath: profileFirst().adminUrl, accessToken: profileFirst().key }).getIdentity({ id: done.identity.id });
    assert.deepEqual(stored.traits, traits);
  });
});
