// Hydra's client admin API through @ory/client's OAuth2Api against the real process, on both admin URLs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { targets, nextPageToken } from './lib/sdk.mjs';

const gatehouse = useGatehouse();

/** Awaits an SDK call that must fail with Hydra's RFC 6749 error JSON. */
async function expectOAuth2Error(promise, status, error) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.data)}`);
  } catch (e) {
    err = e;
  }
  if (err instanceof assert.AssertionError) throw err;
  assert.equal(err.response?.status, status, JSON.stringify(err.response?.data));
  assert.deepEqual(Object.keys(err.response.data), ['error', 'error_description']);
  if (error) assert.equal(err.response.data.error, error);
  return err.response.data;
}

describe(`OAuth2Api clients (${database})`, () => {
  for (const target of [0, 1]) {
    it(`create, get, list, set, patch, lifespans, delete via ${target === 0 ? 'the admin listener' : 'the public listener with a key'}`, async () => {
      const t = targets(gatehouse())[target];
      const api = new OAuth2Api(new Configuration({ basePath: t.basePath, accessToken: t.accessToken }));
      const owner = `e2e-${Date.now()}-${target}`;

      const created = await api.createOAuth2Client({ oAuth2Client: { client_name: 'e2e app', owner, redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code', 'refresh_token'], metadata: { plan: 'pro' } } });
      assert.equal(created.status, 201);
      const c = created.data;
      assert.equal(typeof c.client_secret, 'string');
      assert.equal(c.client_secret.length, 26);
      assert.equal(c.token_endpoint_auth_method, 'client_secret_basic');
      assert.deepEqual(c.metadata, { plan: 'pro' });

      const got = (await api.getOAuth2Client({ id: c.client_id })).data;
      assert.equal(got.client_secret, undefined);
      assert.equal(got.client_name, 'e2e app');

      const second = (await api.createOAuth2Client({ oAuth2Client: { client_name: 'second', owner } })).data;
      const page1 = await api.listOAuth2Clients({ owner, pageSize: 1 });
      assert.equal(page1.data.length, 1);
      assert.equal(page1.data[0].client_id, c.client_id);
      const token = nextPageToken(page1.headers.link);
      assert.ok(token);
      const page2 = await api.listOAuth2Clients({ owner, pageSize: 1, pageToken: token });
      assert.deepEqual(page2.data.map((x) => x.client_id), [second.client_id]);

      const set = (await api.setOAuth2Client({ id: c.client_id, oAuth2Client: { client_name: 'renamed', owner, redirect_uris: ['https://app.example/cb2'] } })).data;
      assert.equal(set.client_name, 'renamed');
      assert.deepEqual(set.redirect_uris, ['https://app.example/cb2']);

      const patched = (await api.patchOAuth2Client({ id: c.client_id, jsonPatch: [{ op: 'replace', path: '/client_name', value: 'patched' }, { op: 'add', path: '/audience', value: ['https://api.example'] }] })).data;
      assert.equal(patched.client_name, 'patched');
      assert.deepEqual(patched.audience, ['https://api.example']);

      const lifespans = (await api.setOAuth2ClientLifespans({ id: c.client_id, oAuth2ClientTokenLifespans: { client_credentials_grant_access_token_lifespan: '30m' } })).data;
      assert.equal(lifespans.client_credentials_grant_access_token_lifespan, '30m0s');

      await expectOAuth2Error(api.createOAuth2Client({ oAuth2Client: { redirect_uris: ['https://x.example/#frag'] } }), 400, 'invalid_redirect_uri');
      await expectOAuth2Error(api.patchOAuth2Client({ id: c.client_id, jsonPatch: [{ op: 'replace', path: '/userinfo_signed_response_alg', value: 'HS256' }] }), 400, 'invalid_client_metadata');
      assert.equal((await api.getOAuth2Client({ id: c.client_id })).data.userinfo_signed_response_alg, 'none');
      // A patch Hydra's jsonx.ApplyJSONPatch refuses (another op, the denied /id, a path that is not there) is a 400
      // naming the reason (Hydra: its catch-all 500), which the SDK raises like any error; nothing changes.
      for (const jsonPatch of [[{ op: 'move', from: '/client_name', path: '/owner' }], [{ op: 'replace', path: '/id', value: 'x' }], [{ op: 'remove', path: '/jwks' }]]) {
        const refused = await expectOAuth2Error(api.patchOAuth2Client({ id: c.client_id, jsonPatch }), 400, 'The request was malformed or contained invalid parameters');
        assert.match(refused.error_description, /^Unable to apply the JSON Patch: /);
      }
      assert.equal((await api.getOAuth2Client({ id: c.client_id })).data.client_name, 'patched');

      assert.equal((await api.deleteOAuth2Client({ id: c.client_id })).status, 204);
      assert.equal((await api.deleteOAuth2Client({ id: second.client_id })).status, 204);
      await expectOAuth2Error(api.getOAuth2Client({ id: c.client_id }), 404);
    });
  }

  it('rotates a client secret (Ory Network)', async () => {
    const api = new OAuth2Api(new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }));
    const c = (await api.createOAuth2Client({ oAuth2Client: { client_name: 'rotate' } })).data;
    const rotated = (await api.rotateOAuth2ClientSecret({ id: c.client_id })).data;
    assert.notEqual(rotated.client_secret, c.client_secret);
    const cleared = (await api.deleteRotatedOAuth2ClientSecrets({ id: c.client_id })).data;
    assert.equal(cleared.client_secret, undefined);
    await api.deleteOAuth2Client({ id: c.client_id });
  });
});
