// Admin API authorization on the real process (started without --dev): both listeners need the API key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, expectHttpError } from './lib/sdk.mjs';

const gatehouse = useGatehouse();

async function expect401(url, headers = {}) {
  const res = await fetch(url, { headers });
  assert.equal(res.status, 401, await res.clone().text());
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = await res.json();
  assert.equal(body.error.code, 401);
  assert.equal(body.error.status, 'Unauthorized');
  assert.equal(typeof body.error.message, 'string');
  assert.equal(typeof body.error.reason, 'string');
  return body.error;
}

describe(`admin API authorization (${database})`, () => {
  const urls = () => [
    ['admin listener /admin/identities', `${gatehouse().adminUrl}/admin/identities`],
    ['admin listener /identities', `${gatehouse().adminUrl}/identities`],
    ['public listener /admin/identities', `${gatehouse().publicUrl}/admin/identities`],
  ];

  it('requests without a key are 401 with the Kratos envelope', async () => {
    for (const [, url] of urls()) await expect401(url);
  });

  it('requests with a wrong key or a non-Bearer scheme are 401', async () => {
    for (const [, url] of urls()) {
      await expect401(url, { authorization: 'Bearer gh_not-a-real-key' });
      await expect401(url, { authorization: `Basic ${Buffer.from(`x:${gatehouse().key}`).toString('base64')}` });
    }
  });

  it('the right key is accepted on every admin URL', async () => {
    for (const [name, url] of urls()) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${gatehouse().key}` } });
      assert.equal(res.status, 200, name);
      assert.ok(Array.isArray(await res.json()), name);
    }
  });

  it('the SDK with a wrong access token gets a 401 error', async () => {
    for (const basePath of [gatehouse().adminUrl, gatehouse().publicUrl]) {
      const api = identityApi({ basePath, accessToken: 'gh_wrong' });
      await expectHttpError(api.listIdentities(), 401);
      await expectHttpError(api.createIdentity({ createIdentityBody: { schema_id: 'default', traits: { email: 'x@example.com' } } }), 401);
    }
  });

  it('a key revoked with `gatehouse keys revoke` stops working', async () => {
    const out = (await gatehouse().cli('keys', 'create', '--name', 'revoke-me')).trim().split('\n');
    const key = out[out.length - 1].trim();
    const api = identityApi({ basePath: gatehouse().publicUrl, accessToken: key });
    assert.equal((await api.listIdentities()).status, 200);

    const row = (await gatehouse().cli('keys', 'list')).split('\n').find((l) => /\brevoke-me\b/.test(l));
    assert.ok(row, 'keys list shows the new key');
    assert.ok(!row.includes(key), 'keys list never shows the secret');
    const id = row.trim().split(/\s+/)[0];
    await gatehouse().cli('keys', 'revoke', id);

    await expectHttpError(api.listIdentities(), 401);
    assert.equal((await identityApi({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key }).listIdentities()).status, 200,
      'other keys keep working');
  });

  it('the public listener does not serve the admin API without the /admin prefix', async () => {
    const res = await fetch(`${gatehouse().publicUrl}/identities`, { headers: { authorization: `Bearer ${gatehouse().key}` } });
    assert.equal(res.status, 404);
  });
});
