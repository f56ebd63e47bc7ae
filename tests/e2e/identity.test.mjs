// The identity admin API through @ory/client's IdentityApi, against the real gatehouse process, once on the admin
// listener and once under /admin on the public listener (Ory Network style).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail, expectHttpError, nextPageToken } from './lib/sdk.mjs';

const gatehouse = useGatehouse({ hashers: { algorithm: 'bcrypt', bcrypt: { cost: 12 } } });

// One bcrypt hash for the import tests, made once by the server (cost 12 makes every cleartext password cost ~0.3 s).
let bcryptHashPromise;
function knownBcryptHash(api) {
  bcryptHashPromise ??= (async () => {
    const { data: created } = await api.createIdentity({
      createIdentityBody: {
        schema_id: 'default',
        traits: { email: uniqueEmail('hash-source') },
        credentials: { password: { config: { password: 'e2e import password 123' } } },
      },
    });
    const { data } = await api.getIdentity({ id: created.id, includeCredential: ['password'] });
    return data.credentials.password.config.hashed_password;
  })();
  return bcryptHashPromise;
}

function identityCases(target) {
  const api = () => identityApi(target());

  it('createIdentity with a cleartext password returns the identity; getIdentity reads it back', async () => {
    const email = uniqueEmail('Create');
    const res = await api().createIdentity({
      createIdentityBody: {
        schema_id: 'default',
        traits: { email, name: { first: 'Ada', last: 'Lovelace' } },
        credentials: { password: { config: { password: 'correct horse battery staple' } } },
        metadata_public: { plan: 'free' },
      },
    });
    assert.equal(res.status, 201);
    const created = res.data;
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(created.schema_id, 'default');
    assert.equal(created.state, 'active');
    assert.deepEqual(created.traits, { email, name: { first: 'Ada', last: 'Lovelace' } });
    assert.deepEqual(created.metadata_public, { plan: 'free' });
    assert.equal(typeof created.schema_url, 'string');
    // Addresses and identifiers are derived from the schema's ory.sh/kratos extension, lower-cased.
    const lower = email.toLowerCase();
    assert.equal(created.verifiable_addresses.length, 1);
    assert.equal(created.verifiable_addresses[0].value, lower);
    assert.equal(created.verifiable_addresses[0].via, 'email');
    assert.equal(created.verifiable_addresses[0].verified, false);
    assert.equal(created.verifiable_addresses[0].status, 'pending');
    assert.equal(created.recovery_addresses.length, 1);
    assert.equal(created.recovery_addresses[0].value, lower);
    assert.equal(created.recovery_addresses[0].via, 'email');
    assert.deepEqual(created.credentials.password.identifiers, [lower]);
    assert.equal(created.credentials.password.type, 'password');
    assert.equal('config' in created.credentials.password, false, 'write responses omit credential config, as Kratos does');

    const { data: got } = await api().getIdentity({ id: created.id });
    assert.equal(got.id, created.id);
    assert.deepEqual(got.traits, created.traits);
    assert.deepEqual(got.verifiable_addresses, created.verifiable_addresses);
    assert.equal(got.credentials?.password?.config, undefined);

    const { data: withCreds } = await api().getIdentity({ id: created.id, includeCredential: ['password'] });
    assert.match(withCreds.credentials.password.config.hashed_password, /^\$2a\$12\$/);
    assert.deepEqual(withCreds.credentials.password.identifiers, [lower]);
  });

  it('updateIdentity as in the issue replaces the email; invalid traits are a 400 that changes nothing', async () => {
    const { data: created } = await api().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email: uniqueEmail('before'), name: { first: 'Grace' } } },
    });
    const { data: current } = await api().getIdentity({ id: created.id });
    const newEmail = uniqueEmail('user');

    const res = await api().updateIdentity({
      id: current.id,
      updateIdentityBody: {
        schema_id: current.schema_id,
        traits: { ...current.traits, email: newEmail },
        state: current.state,
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.data.traits.email, newEmail);
    assert.deepEqual(res.data.traits.name, { first: 'Grace' });
    assert.deepEqual(res.data.verifiable_addresses.map((a) => a.value), [newEmail]);
    assert.deepEqual(res.data.recovery_addresses.map((a) => a.value), [newEmail]);

    const { data: before } = await api().getIdentity({ id: current.id });
    assert.deepEqual(before.verifiable_addresses.map((a) => a.value), [newEmail]);

    const envelope = await expectHttpError(api().updateIdentity({
      id: current.id,
      updateIdentityBody: { schema_id: before.schema_id, traits: { ...before.traits, email: 'not-an-email' }, state: before.state },
    }), 400);
    assert.equal(envelope.status, 'Bad Request');

    const { data: after } = await api().getIdentity({ id: current.id });
    assert.deepEqual(after, before);
  });

  it('updateIdentity can deactivate an identity and replace its public metadata', async () => {
    const { data: created } = await api().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email: uniqueEmail('state') } },
    });
    const { data } = await api().updateIdentity({
      id: created.id,
      updateIdentityBody: { schema_id: 'default', traits: created.traits, state: 'inactive', metadata_public: { tier: 2 } },
    });
    assert.equal(data.state, 'inactive');
    assert.deepEqual(data.metadata_public, { tier: 2 });
    const { data: got } = await api().getIdentity({ id: created.id });
    assert.equal(got.state, 'inactive');
    assert.equal(typeof got.state_changed_at, 'string');

    // Kratos keeps schema_id and state when a (plain JavaScript) caller leaves them out.
    const { data: kept } = await api().updateIdentity({ id: created.id, updateIdentityBody: { traits: got.traits } });
    assert.equal(kept.state, 'inactive');
    assert.equal(kept.schema_id, 'default');
    assert.equal(kept.state_changed_at, got.state_changed_at);
  });

  it('listIdentities pages through every identity by following the Link header', async () => {
    const prefix = `page-${Math.random().toString(36).slice(2, 8)}`;
    const ids = new Set();
    for (let i = 0; i < 7; i++) {
      const { data } = await api().createIdentity({
        createIdentityBody: { schema_id: 'default', traits: { email: uniqueEmail(`${prefix}-${i}`) } },
      });
      ids.add(data.id);
    }

    const seen = new Map();
    let pageToken;
    let pages = 0;
    for (;;) {
      const res = await api().listIdentities({ pageSize: 3, ...(pageToken ? { pageToken } : {}) });
      assert.equal(res.status, 200);
      assert.ok(res.data.length <= 3, `page of ${res.data.length}`);
      for (const identity of res.data) seen.set(identity.id, (seen.get(identity.id) ?? 0) + 1);
      pages++;
      assert.ok(pages < 100, 'pagination does not end');
      pageToken = nextPageToken(res.headers.link);
      if (!pageToken) break;
    }
    assert.ok(pages >= 3, `expected at least 3 pages, got ${pages}`);
    for (const id of ids) assert.equal(seen.get(id), 1, `identity ${id} seen ${seen.get(id) ?? 0} times`);
    for (const [id, count] of seen) assert.equal(count, 1, `identity ${id} seen ${count} times`);

    const email = uniqueEmail(`${prefix}-find`);
    const { data: target } = await api().createIdentity({
      createIdentityBody: {
        schema_id: 'default',
        traits: { email },
        credentials: { password: { config: { hashed_password: await knownBcryptHash(api()) } } },
      },
    });
    const { data: found } = await api().listIdentities({ credentialsIdentifier: email });
    assert.equal(found.length, 1);
    assert.equal(found[0].id, target.id);
    const { data: none } = await api().listIdentities({ credentialsIdentifier: uniqueEmail('nobody') });
    assert.deepEqual(none, []);
  });

  it('patchIdentity applies add/replace to traits and metadata_public; move is a 400', async () => {
    const email = uniqueEmail('patch');
    const { data: created } = await api().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email, name: { first: 'Alan' } } },
    });
    const res = await api().patchIdentity({
      id: created.id,
      jsonPatch: [
        { op: 'replace', path: '/traits/name', value: { first: 'Alan', last: 'Turing' } },
        { op: 'add', path: '/metadata_public', value: { role: 'admin' } },
        { op: 'add', path: '/metadata_public/team', value: 'crypto' },
      ],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.data.traits, { email, name: { first: 'Alan', last: 'Turing' } });
    assert.deepEqual(res.data.metadata_public, { role: 'admin', team: 'crypto' });

    const { data: before } = await api().getIdentity({ id: created.id });
    assert.deepEqual(before.traits, res.data.traits);
    assert.deepEqual(before.metadata_public, res.data.metadata_public);

    await expectHttpError(api().patchIdentity({
      id: created.id,
      jsonPatch: [{ op: 'move', from: '/traits/name', path: '/metadata_public/name' }],
    }), 400);
    await expectHttpError(api().patchIdentity({
      id: created.id,
      jsonPatch: [{ op: 'replace', path: '/traits/email', value: 'not-an-email' }],
    }), 400);
    const { data: after } = await api().getIdentity({ id: created.id });
    assert.deepEqual(after, before);
  });

  it('patchIdentity sets members of absent metadata and traits as Kratos does (replace acts as add)', async () => {
    const email = uniqueEmail('patch-absent');
    const { data: created } = await api().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email } },
    });
    assert.equal(created.metadata_public ?? null, null);
    const { data } = await api().patchIdentity({
      id: created.id,
      jsonPatch: [
        { op: 'add', path: '/metadata_public/plan', value: 'pro' },
        { op: 'replace', path: '/metadata_admin/crm_id', value: 42 },
        { op: 'replace', path: '/traits/name/last', value: 'Hopper' },
      ],
    });
    assert.deepEqual(data.metadata_public, { plan: 'pro' });
    assert.deepEqual(data.metadata_admin, { crm_id: 42 });
    assert.deepEqual(data.traits, { email, name: { last: 'Hopper' } });
    await expectHttpError(api().patchIdentity({
      id: created.id,
      jsonPatch: [{ op: 'remove', path: '/metadata_public/missing' }],
    }), 400);
  });

  it('batchPatchIdentities imports hashed passwords and reports duplicates (409) and invalid items (400)', async () => {
    const hash = await knownBcryptHash(api());
    const existing = uniqueEmail('batch-existing');
    const { data: existingIdentity } = await api().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email: existing }, credentials: { password: { config: { hashed_password: hash } } } },
    });
    const [a, b] = [uniqueEmail('batch-a'), uniqueEmail('batch-b')];
    const item = (email, patchId) => ({
      patch_id: patchId,
      create: {
        schema_id: 'default',
        traits: { email },
        credentials: { password: { config: { hashed_password: hash } } },
      },
    });
    const patchIds = ['0e9b6c3a-7d3f-4c2e-9c5e-000000000001', '0e9b6c3a-7d3f-4c2e-9c5e-000000000002',
      '0e9b6c3a-7d3f-4c2e-9c5e-000000000003', '0e9b6c3a-7d3f-4c2e-9c5e-000000000004'];
    const res = await api().batchPatchIdentities({
      patchIdentitiesBody: {
        identities: [
          item(a, patchIds[0]),
          item(existing, patchIds[1]),
          { patch_id: patchIds[2], create: { schema_id: 'default', traits: { email: 'not-an-email' } } },
          item(b, patchIds[3]),
        ],
      },
    });
    assert.equal(res.status, 200);
    const results = res.data.identities;
    assert.equal(results.length, 4);
    assert.deepEqual(results.map((r) => r.action), ['create', 'error', 'error', 'create']);
    assert.deepEqual(results.map((r) => r.patch_id), patchIds);
    assert.equal(results[1].error.code, 409);
    assert.equal(results[2].error.code, 400);
    assert.equal(results[1].identity, undefined);

    for (const [i, email] of [[0, a], [3, b]]) {
      const { data } = await api().getIdentity({ id: results[i].identity, includeCredential: ['password'] });
      assert.equal(data.traits.email, email);
      assert.equal(data.credentials.password.config.hashed_password, hash);
      assert.deepEqual(data.credentials.password.identifiers, [email]);
    }
    const { data: dupes } = await api().listIdentities({ credentialsIdentifier: existing });
    assert.deepEqual(dupes.map((d) => d.id), [existingIdentity.id], 'the duplicate did not create a second identity');
  });

  it('deleteIdentity answers 204; the identity is then 404', async () => {
    const { data: created } = await api().createIdentity({
      createIdentityBody: { schema_id: 'default', traits: { email: uniqueEmail('delete') } },
    });
    const res = await api().deleteIdentity({ id: created.id });
    assert.equal(res.status, 204);
    const envelope = await expectHttpError(api().getIdentity({ id: created.id }), 404);
    assert.equal(envelope.status, 'Not Found');
    await expectHttpError(api().deleteIdentity({ id: created.id }), 404);
  });

  it('listIdentitySchemas and getIdentitySchema serve the configured schema', async () => {
    const { data: list } = await api().listIdentitySchemas();
    assert.ok(Array.isArray(list));
    const entry = list.find((s) => s.id === 'default');
    assert.ok(entry, JSON.stringify(list));
    assert.equal(entry.schema.properties.traits.properties.email.format, 'email');
    const { data: schema } = await api().getIdentitySchema({ id: 'default' });
    assert.deepEqual(schema, entry.schema);
    await expectHttpError(api().getIdentitySchema({ id: 'does-not-exist' }), 404);
  });
}

describe(`IdentityApi (${database})`, () => {
  describe('admin listener', () => identityCases(() => ({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key })));
  describe('public listener, Ory Network style', () => identityCases(() => ({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key })));
});
