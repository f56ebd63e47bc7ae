// Small helpers around @ory/client for the tests.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Configuration, IdentityApi, MetadataApi } from '@ory/client';
import { newPassword } from './frontend.mjs';

/**
 * The two ways an app reaches the admin API: the admin listener (self-hosted Kratos on :4434) and `/admin` on the
 * public listener (Ory Network's single base URL). Both with the API key as the Bearer token.
 */
export function targets(server) {
  return [
    { name: 'admin listener', basePath: server.adminUrl, accessToken: server.key },
    { name: 'public listener (Ory Network style)', basePath: server.publicUrl, accessToken: server.key },
  ];
}

export function identityApi({ basePath, accessToken }) {
  return new IdentityApi(new Configuration({ basePath, accessToken }));
}

export function metadataApi({ basePath, accessToken }) {
  return new MetadataApi(new Configuration({ basePath, accessToken }));
}

/**
 * Creates Ada Lovelace through the admin API (`target` as for identityApi): a unique address with `prefix`, verified,
 * and a new password. Resolves to { id, email, password } (the OAuth2 tests sign her in and read her claims).
 */
export async function createVerifiedIdentity(target, prefix) {
  const email = uniqueEmail(prefix);
  const password = newPassword();
  const { data } = await identityApi(target).createIdentity({
    createIdentityBody: {
      schema_id: 'default',
      traits: { email, name: { first: 'Ada', last: 'Lovelace' } },
      verifiable_addresses: [{ value: email, via: 'email', verified: true, status: 'completed' }],
      credentials: { password: { config: { password } } },
    },
  });
  return { id: data.id, email, password };
}

/** A unique email address for this run. */
export function uniqueEmail(prefix = 'user') {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** Awaits a promise that must reject with an HTTP error from the SDK; checks status and the Kratos envelope. */
export async function expectHttpError(promise, status) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.data)}`);
  } catch (e) {
    err = e;
  }
  if (err instanceof assert.AssertionError) throw err;
  assert.ok(err.response, `expected an HTTP error response, got ${err}`);
  assert.equal(err.response.status, status, JSON.stringify(err.response.data));
  const envelope = err.response.data?.error;
  assert.ok(envelope, `expected a Kratos error envelope, got ${JSON.stringify(err.response.data)}`);
  assert.equal(envelope.code, status);
  assert.equal(typeof envelope.status, 'string');
  assert.equal(typeof envelope.message, 'string');
  return envelope;
}

/** The page_token of the rel="next" link in a Link header, or null. */
export function nextPageToken(linkHeader) {
  if (!linkHeader) return null;
  for (const part of linkHeader.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (m) return new URL(m[1]).searchParams.get('page_token');
  }
  return null;
}
