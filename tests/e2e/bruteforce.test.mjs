// Brute-force protection on the real process through @ory/client: 429 + Retry-After after N wrong passwords for an
// account, per client address behind a trusted proxy, other users unaffected, and the counters shared by two
// `gatehouse serve` processes on one database (PostgreSQL when GATEHOUSE_E2E_DB=postgres).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import axios from 'axios';
import { Configuration, FrontendApi } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, expectHttpError, uniqueEmail } from './lib/sdk.mjs';

const password = 'a-long-and-unguessable-passphrase-17';
const gatehouse = useGatehouse({
  gatehouse: {
    trusted_proxies: ['127.0.0.1'],
    rate_limits: {
      login_per_identifier: { limit: 3, window: '10m', progressive_delay: '0s' },
      login_per_address: { limit: 5, window: '10m' },
    },
  },
});

/** A native-app FrontendApi; `forwardedFor` plays a client behind the trusted proxy (127.0.0.1). */
function frontend(publicUrl, forwardedFor) {
  const http = axios.create({ maxRedirects: 0, headers: forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {} });
  return new FrontendApi(new Configuration({ basePath: publicUrl }), publicUrl, http);
}

async function createUser() {
  const email = uniqueEmail('bf');
  await identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key }).createIdentity({
    createIdentityBody: { schema_id: 'default', traits: { email }, credentials: { password: { config: { password } } } },
  });
  return email;
}

async function login(api, identifier, secret) {
  const { data: flow } = await api.createNativeLoginFlow();
  return api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'password', identifier, password: secret } });
}

async function expectWrongPassword(api, identifier) {
  let err;
  try { await login(api, identifier, 'not-the-password'); } catch (e) { err = e; }
  assert.equal(err?.response?.status, 400, JSON.stringify(err?.response?.data ?? err?.message));
  assert.ok(err.response.data.ui.messages.some((m) => m.id === 4000006));
}

async function expectTooManyRequests(promise, messageId, limit) {
  const envelope = await expectHttpError(promise, 429);
  assert.equal(envelope.id, 'rate_limit_exceeded');
  assert.equal(envelope.details.limit, limit);
  assert.equal(envelope.details.message.id, messageId);
  return envelope;
}

async function retryAfterOf(promise) {
  try { await promise; } catch (e) { return e.response?.headers?.['retry-after']; }
  assert.fail('expected a refusal');
}

describe(`brute-force protection (${database})`, () => {
  it('after 3 wrong passwords the account answers 429 with Retry-After, even to the right password; others sign in', async () => {
    const api = frontend(gatehouse().publicUrl);
    const victim = await createUser();
    const other = await createUser();
    for (let i = 0; i < 3; i++) await expectWrongPassword(api, victim);

    const envelope = await expectTooManyRequests(login(api, victim, password), 4290001, 'login_per_identifier');
    assert.ok(envelope.details.retry_after_seconds > 500 && envelope.details.retry_after_seconds <= 600);
    const retryAfter = Number(await retryAfterOf(login(api, victim, password)));
    assert.ok(retryAfter > 500 && retryAfter <= 600, `Retry-After: ${retryAfter}`);

    const { data } = await login(api, other, password);
    assert.match(data.session_token, /^ory_st_/);
    const { data: session } = await api.toSession({ xSessionToken: data.session_token });
    assert.equal(session.identity.traits.email, other);
  });

  it('failed logins are limited per client address behind a trusted proxy', async () => {
    const attacker = frontend(gatehouse().publicUrl, '203.0.113.50');
    const user = await createUser();
    for (let i = 0; i < 5; i++) await expectWrongPassword(attacker, uniqueEmail('spray'));
    await expectTooManyRequests(login(attacker, user, password), 4290002, 'login_per_address');
    const { data } = await login(frontend(gatehouse().publicUrl, '203.0.113.51'), user, password);
    assert.match(data.session_token, /^ory_st_/);
  });

  it('two serve processes on one database share the counters', async () => {
    const replica = await gatehouse().replica();
    const first = frontend(gatehouse().publicUrl);
    const second = frontend(replica.publicUrl);
    const victim = await createUser();
    await expectWrongPassword(first, victim);
    await expectWrongPassword(second, victim);
    await expectWrongPassword(first, victim);
    // Each process has seen fewer than 3 failures, together 3: both refuse.
    await expectTooManyRequests(login(second, victim, password), 4290001, 'login_per_identifier');
    await expectTooManyRequests(login(first, victim, password), 4290001, 'login_per_identifier');
    // Concurrent guesses through both processes at a fresh account: at most 3 are compared.
    const fresh = await createUser();
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => login(i % 2 ? first : second, fresh, `wrong-${i}`)));
    const statuses = results.map((r) => r.reason?.response?.status);
    assert.equal(statuses.filter((s) => s === 400).length, 3, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 9, JSON.stringify(statuses));
    await replica.stop();
  });
});
