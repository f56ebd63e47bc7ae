// FedCM as Ory documents it (docs/kratos/social-signin/fedcm.mdx), with @ory/client's createFedcmFlow and
// updateFedcmFlow against the real gatehouse process. The assertion a browser's navigator.credentials.get would return
// is the provider's ID token carrying the nonce of createFedcmFlow: here it comes from oidc-provider on loopback (an
// authorization code flow by openid-client, headless Chromium at the provider's login page), for the nonce the
// parameters handed out. Gatehouse's google preset points at that issuer, with fedcm_config_url set. The SDK runs in
// Node, which keeps no cookies: the anti-CSRF and session cookies are carried by hand, as a browser would.
// The browser's own FedCM dialog (CDP FedCm.*) is exercised in fedcm-browser.test.mjs.
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

const appRedirect = 'http://127.0.0.1:9/fedcm-app/callback';
const configUrl = 'https://accounts.idp.test/gsi/fedcm.json';

/** The cookies of a Set-Cookie list as one Cookie header, merged over `jar` (a Map name → value). */
function keepCookies(jar, setCookie) {
  for (const line of setCookie ?? []) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

describe(`FedCM with @ory/client (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let idp;
  let gatehouse;
  let browser;
  let frontend;
  let admin;

  before(async () => {
    const idpPort = await freePort();
    const issuer = `http://127.0.0.1:${idpPort}`;
    gatehouse = await startGatehouse({
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${publicUrl}/ui/welcome`,
        allowed_return_urls: [`${publicUrl}/`],
        methods: {
          password: { config: { haveibeenpwned_enabled: false } },
          oidc: {
            enabled: true,
            config: {
              providers: [{
                id: 'google', provider: 'google', label: 'Google', client_id: 'gatehouse-e2e', client_secret: 'e2e-client-secret-0123456789abcdef',
                issuer_url: issuer, scope: ['email'], mapper_url: `base64://${Buffer.from(mapper).toString('base64')}`, fedcm_config_url: configUrl,
              }],
            },
          },
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

  /** The provider's ID token for `login`, carrying `nonce`: what the IdP's id_assertion_endpoint hands the browser. */
  const idTokenFromProvider = (login, nonce) => idTokenFor(idp, browser, appRedirect, login, nonce);

  /** updateFedcmFlow, answering { status, data, error, setCookie } instead of throwing. */
  async function update(body, cookie) {
    try {
      const res = await frontend.updateFedcmFlow({ updateFedcmFlowBody: body }, { headers: cookie ? { Cookie: cookie } : {} });
      return { status: res.status, data: res.data, setCookie: res.headers['set-cookie'] };
    } catch (e) {
      if (!e.response) throw e;
      return { status: e.response.status, error: e.response.data.error, data: e.response.data };
    }
  }

  it('signs up with the provider\'s token for the parameters\' nonce, then signs in again; the session cookie works', async () => {
    const login = `fed${randomBytes(3).toString('hex')}`;
    const jar = new Map();
    const params = await frontend.createFedcmFlow();
    let cookie = keepCookies(jar, params.headers['set-cookie']);
    assert.equal(typeof params.data.csrf_token, 'string');
    assert.equal(params.data.providers.length, 1);
    const [provider] = params.data.providers;
    assert.equal(provider.config_url, configUrl);
    assert.equal(provider.client_id, 'gatehouse-e2e');
    assert.equal(typeof provider.nonce, 'string');

    const token = await idTokenFromProvider(login, provider.nonce);
    const signedUp = await update({ token, csrf_token: params.data.csrf_token, nonce: provider.nonce, transient_payload: { from: 'e2e' } }, cookie);
    assert.equal(signedUp.status, 200, JSON.stringify(signedUp.data));
    assert.equal(signedUp.data.session.identity.traits.email, `${login}@idp.test`);
    assert.deepEqual(signedUp.data.session.authentication_methods.map((m) => [m.method, m.provider]), [['oidc', 'google']]);
    assert.equal(signedUp.data.session_token, undefined);
    const oldCookie = cookie;
    cookie = keepCookies(jar, signedUp.setCookie);
    assert.ok(jar.has('ory_kratos_session'), 'the session cookie is set');
    const who = (await frontend.toSession({ cookie })).data;
    assert.equal(who.identity.id, signedUp.data.session.identity.id);

    // The same token again (with the cookie it was sent with): its nonce is used up.
    const replay = await update({ token, csrf_token: params.data.csrf_token }, oldCookie);
    assert.equal(replay.status, 403);
    assert.match(replay.error.reason, /already used/);

    // Later, in a browser without a session: the same identity signs in.
    const jar2 = new Map();
    const params2 = await frontend.createFedcmFlow();
    const cookie2 = keepCookies(jar2, params2.headers['set-cookie']);
    const signedIn = await update({ token: await idTokenFromProvider(login, params2.data.providers[0].nonce), csrf_token: params2.data.csrf_token }, cookie2);
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.data));
    assert.equal(signedIn.data.session.identity.id, signedUp.data.session.identity.id);
    const stored = (await admin.getIdentity({ id: signedUp.data.session.identity.id, includeCredential: ['oidc'] })).data;
    assert.deepEqual(stored.credentials.oidc.identifiers, [`google:${login}`]);
  });

  it('refuses a submit without the anti-CSRF cookie or token, and a token for another nonce, writing nothing', async () => {
    const login = `bad${randomBytes(3).toString('hex')}`;
    const params = await frontend.createFedcmFlow();
    const cookie = keepCookies(new Map(), params.headers['set-cookie']);
    const token = await idTokenFromProvider(login, params.data.providers[0].nonce);

    const noCookie = await update({ token, csrf_token: params.data.csrf_token });
    assert.equal(noCookie.status, 403);
    assert.equal(noCookie.error.id, 'security_csrf_violation');
    const wrongToken = await update({ token, csrf_token: 'not-the-csrf-token' }, cookie);
    assert.equal(wrongToken.error.id, 'security_csrf_violation');
    const otherNonce = await update({ token: await idTokenFromProvider(login, 'a-nonce-gatehouse-never-issued'), csrf_token: params.data.csrf_token }, cookie);
    assert.equal(otherNonce.status, 403);
    assert.match(otherNonce.error.reason, /not issued to this browser/);
    const tampered = await update({ token: `${token.split('.').slice(0, 2).join('.')}.${Buffer.from('x'.repeat(64)).toString('base64url')}`, csrf_token: params.data.csrf_token }, cookie);
    assert.equal(tampered.status, 403);
    assert.equal(tampered.error.reason, 'Could not verify id_token');
    assert.equal((await admin.listIdentities({ credentialsIdentifier: `${login}@idp.test` })).data.length, 0, 'nothing was written');

    // The nonce survived all of that: the right submit signs up.
    const ok = await update({ token, csrf_token: params.data.csrf_token }, cookie);
    assert.equal(ok.status, 200, JSON.stringify(ok.data));
    assert.equal((await admin.listIdentities({ credentialsIdentifier: `${login}@idp.test` })).data.length, 1);
  });
});
