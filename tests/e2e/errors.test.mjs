// Self-service errors against the real gatehouse process: a browser navigation that fails is stored and sent with
// 303 to the configured error UI (selfservice.flows.error.ui_url?id=), which reads it back with @ory/client's
// FrontendApi.getFlowError; SDK (JSON) calls get the error envelope directly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Configuration, FrontendApi } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { expectHttpError } from './lib/sdk.mjs';
import { browserFrontend, csrfTokenOf } from './lib/frontend.mjs';

const errorUi = 'https://app.example.com/error';
const gatehouse = useGatehouse({
  selfservice: (publicUrl) => ({
    default_browser_return_url: `${publicUrl}/welcome`,
    allowed_return_urls: ['https://app.example.com/'],
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
    flows: { error: { ui_url: errorUi } },
  }),
});

const frontend = (basePath = gatehouse().publicUrl) => new FrontendApi(new Configuration({ basePath }));

const browserHeaders = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

/** What a browser does: navigates (HTML accepted), does not follow the redirect; returns the error id from Location. */
async function forwardedErrorId(path, init = {}) {
  const res = await fetch(`${gatehouse().publicUrl}${path}`, { redirect: 'manual', ...init, headers: { ...browserHeaders, ...init.headers } });
  assert.equal(res.status, 303, `expected 303 to the error UI, got ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get('location'));
  assert.equal(`${location.origin}${location.pathname}`, errorUi);
  const id = location.searchParams.get('id');
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  return id;
}

describe(`self-service errors (${database})`, () => {
  it('a refused return_to sends the browser to the error UI, and getFlowError returns what the SDK got directly', async () => {
    const evil = 'https://evil.example/';
    const direct = await expectHttpError(frontend().createBrowserLoginFlow({ returnTo: evil }), 400);
    assert.equal(direct.id, 'self_service_flow_return_to_forbidden');

    const id = await forwardedErrorId(`/self-service/login/browser?return_to=${encodeURIComponent(evil)}`);
    const { status, data } = await frontend().getFlowError({ id });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(data), ['id', 'error', 'created_at', 'updated_at']);
    assert.equal(data.id, id);
    assert.deepEqual(data.error, direct);
    assert.ok(!Number.isNaN(Date.parse(data.created_at)));

    // The admin listener answers 307 to the public route; the SDK follows it.
    const viaAdmin = await frontend(gatehouse().adminUrl).getFlowError({ id });
    assert.deepEqual(viaAdmin.data, data);
  });

  it('logout without a session and a forged form post are forwarded too; JSON calls are answered directly', async () => {
    const logoutId = await forwardedErrorId('/self-service/logout/browser');
    const { data: logout } = await frontend().getFlowError({ id: logoutId });
    assert.equal(logout.error.code, 401);
    await expectHttpError(frontend().createBrowserLogoutFlow(), 401);

    // A login form posted by another site (no CSRF cookie of this browser): Kratos's CSRF violation, for a person.
    const { api } = browserFrontend(gatehouse().publicUrl);
    const { data: flow } = await api.createBrowserLoginFlow();
    const form = new URLSearchParams({ csrf_token: csrfTokenOf(flow), method: 'password', identifier: 'a@example.com', password: 'x' });
    const csrfId = await forwardedErrorId(`/self-service/login?flow=${flow.id}`, {
      method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const { data: csrf } = await frontend().getFlowError({ id: csrfId });
    assert.equal(csrf.error.id, 'security_csrf_violation');
    assert.equal(csrf.error.code, 403);
  });

  it('stub:500 returns the stub error; unknown ids are 404', async () => {
    const { data: stub } = await frontend().getFlowError({ id: 'stub:500' });
    assert.equal(stub.error.code, 500);
    assert.equal(stub.error.reason, 'This is a stub error.');
    const missing = await expectHttpError(frontend().getFlowError({ id: '00000000-0000-4000-8000-000000000000' }), 404);
    assert.equal(missing.message, 'Unable to locate the resource');
    await expectHttpError(frontend().getFlowError({ id: 'not-a-uuid' }), 404);
  });
});
