// Version, health and schemas: MetadataApi and plain HTTP against the real process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { metadataApi } from './lib/sdk.mjs';

const gatehouse = useGatehouse();

describe(`metadata (${database})`, () => {
  it('MetadataApi.getVersion answers on both listeners with the same version', async () => {
    const versions = [];
    for (const basePath of [gatehouse().adminUrl, gatehouse().publicUrl]) {
      const res = await metadataApi({ basePath, accessToken: gatehouse().key }).getVersion();
      assert.equal(res.status, 200);
      assert.match(res.data.version, /^v\d+\.\d+\.\d+/);
      versions.push(res.data.version);
    }
    assert.equal(versions[0], versions[1]);
    const cli = (await gatehouse().cli('version')).trim();
    assert.ok(cli.includes(versions[0].replace(/^v/, '')), `gatehouse version printed "${cli}"`);
  });

  it('health/alive and health/ready are 200 on both listeners without a key', async () => {
    for (const base of [gatehouse().adminUrl, gatehouse().publicUrl]) {
      for (const path of ['/health/alive', '/health/ready']) {
        const res = await fetch(base + path);
        assert.equal(res.status, 200, base + path);
        assert.deepEqual(await res.json(), { status: 'ok' });
      }
    }
  });

  it('the public listener serves identity schemas without a key', async () => {
    const res = await fetch(`${gatehouse().publicUrl}/schemas`);
    assert.equal(res.status, 200);
    const list = await res.json();
    assert.deepEqual(list.map((s) => s.id), ['default']);
    const one = await fetch(`${gatehouse().publicUrl}/schemas/default`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), list[0].schema);
    const missing = await fetch(`${gatehouse().publicUrl}/schemas/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 404);
  });
});
