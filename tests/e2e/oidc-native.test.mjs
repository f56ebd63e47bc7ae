// Native sign-in with an ID token (Kratos's ProcessIDToken): an app gets an ID token from the provider itself — here
// openid-client as the app, against oidc-provider on loopback, with headless Chromium at the provider's login page and a
// nonce of the app's choosing — and submits it with @ory/client's updateLoginFlow / updateRegistrationFlow
// ({method: 'oidc', provider, id_token, id_token_nonce}) to an API flow. Gatehouse's google and apple presets point at
// the local issuer; the answer carries the session token.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { Configuration, FrontendApi, IdentityApi } from '@ory/client';
import { startGatehouse, database } from './lib/gatehouse.mjs';
import { startIdp, freePort, idTokenFromProvider as idTokenFor } from './lib/idp.mjs';

const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

const mapper = `
local claims = std.extVar('claims');
{ identity: { traits: { email: claims.email }, verified_addresses: [{ via: 'email', value: claims.email }] } }`;

// Where the "app" wants the code: a loopback redirect nobody serves; the browser's request is caught there.
const appRedirect = 'http://127.0.0.1:9/native-app/callback';

describe(`Native sign-in with an ID token from a real OpenID provider (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let idp;
  let gatehouse;
  let browser;
  let frontend;
  let admin;

  before(async () => {
    const idpPort = await freePort();
    const issuer = `http://127.0.0.1:${idpPort}`;
    const preset = (id, provider) => ({
      id, provider, label: id, client_id: 'gatehouse-e2e', client_secret: 'e2e-client-secret-0123456789abcdef',
      issuer_url: issuer, scope: ['email'], mapper_url: `base64://${Buffer.from(mapper).toString('base64')}`,
    });
    gatehouse = await startGatehouse({
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${publicUrl}/ui/welcome`,
        allowed_return_urls: [`${publicUrl}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          oidc: { enabled: true, config: { providers: [preset('google', 'google'), preset('apple', 'apple'), preset('corp', 'generic')] } },
        },
        flows: { registration: { style: 'unified', after: { oidc: { hooks: [{ hook: 'session' }] } } } },
      }),
    });
    idp = await startIdp({ port: idpPort, redirectUris: [appRedirect] });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    frontend = new FrontendApi(new Configuration({ basePath: gatehouse.publicUrl }));
    admin = new IdentityApi(new Configuration({ basePath: gatehouse.adminUrl, accessToken: gatehouse.key }));
  });

  after(async () => {
    await browser?.close();
    await idp?.close();
    await gatehouse?.stop();
  });

  /** What a native app does with the provider's SDK: an authorization code flow with its own nonce, for an ID token. */
  const idTokenFromProvider = (login, nonce) => idTokenFor(idp, browser, appRedirect, login, nonce);

  it('signs up with a google ID token and its nonce, then signs in again with a new one', async () => {
    const login = `nat${randomBytes(3).toString('hex')}`;
    const nonce = randomBytes(16).toString('hex');
    const idToken = await idTokenFromProvider(login, nonce);

    const flow = (await frontend.createNativeRegistrationFlow()).data;
    const registered = (await frontend.updateRegistrationFlow({
      flow: flow.id, updateRegistrationFlowBody: { method: 'oidc', provider: 'google', id_token: idToken, id_token_nonce: nonce },
    })).data;
    assert.equal(typeof registered.session_token, 'string');
    assert.equal(registered.identity.traits.email, `${login}@idp.test`);
    const who = (await frontend.toSession({ xSessionToken: registered.session_token })).data;
    assert.deepEqual(who.authentication_methods.map((m) => [m.method, m.provider]), [['oidc', 'google']]);
    const stored = (await admin.getIdentity({ id: registered.identity.id, includeCredential: ['oidc'] })).data;
    assert.deepEqual(stored.credentials.oidc.identifiers, [`google:${login}`]);
    assert.equal(stored.credentials.oidc.config.providers[0].initial_id_token, idToken);

    // Again, later, through a login flow: the same identity.
    const nonce2 = randomBytes(16).toString('hex');
    const login2 = (await frontend.createNativeLoginFlow()).data;
    const signedIn = (await frontend.updateLoginFlow({
      flow: login2.id, updateLoginFlowBody: { method: 'oidc', provider: 'google', id_token: await idTokenFromProvider(login, nonce2), id_token_nonce: nonce2 },
    })).data;
    assert.equal(signedIn.session.identity.id, registered.identity.id);
  });

  it('signs in with an apple ID token, and refuses a wrong nonce, a forged token and a provider without native sign-in', async () => {
    const login = `app${randomBytes(3).toString('hex')}`;
    const nonce = randomBytes(16).toString('hex');
    const idToken = await idTokenFromProvider(login, nonce);
    const submit = async (body) => {
      const flow = (await frontend.createNativeLoginFlow()).data;
      try {
        return { data: (await frontend.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'oidc', ...body } })).data };
      } catch (e) {
        if (!e.response) throw e;
        return { status: e.response.status, error: e.response.data.error };
      }
    };

    const wrongNonce = await submit({ provider: 'apple', id_token: idToken, id_token_nonce: 'not-the-nonce' });
    assert.equal(wrongNonce.status, 502);
    assert.equal(wrongNonce.error.reason, 'The supplied nonce does not match the nonce from the id_token');
    const [header, payload] = idToken.split('.');
    const forged = await submit({ provider: 'apple', id_token: `${header}.${payload}.${Buffer.from('x'.repeat(64)).toString('base64url')}`, id_token_nonce: nonce });
    assert.equal(forged.status, 403);
    assert.equal(forged.error.reason, 'Could not verify id_token');
    const generic = await submit({ provider: 'corp', id_token: idToken, id_token_nonce: nonce });
    assert.equal(generic.status, 502);
    assert.equal(generic.error.reason, 'The provider generic does not support id_token verification');
    assert.equal((await admin.listIdentities({ credentialsIdentifier: `${login}@idp.test` })).data.length, 0, 'nothing was written');

    const ok = await submit({ provider: 'apple', id_token: idToken, id_token_nonce: nonce });
    assert.equal(typeof ok.data?.session_token, 'string', JSON.stringify(ok));
    assert.equal(ok.data.session.identity.traits.email, `${login}@idp.test`);
    assert.deepEqual(ok.data.session.authentication_methods.map((m) => m.provider), ['apple']);
  });
});
