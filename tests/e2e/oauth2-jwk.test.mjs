// Hydra's JwkApi, WellknownApi and OidcApi discovery through @ory/client against the real process; the published JWKS
// is read by `jose`, the discovery document by openid-client.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { Configuration, JwkApi, OidcApi, WellknownApi } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';

const gatehouse = useGatehouse();
const config = () => new Configuration({ basePath: gatehouse().publicUrl, accessToken: gatehouse().key });

describe(`OAuth2 JSON Web Keys (${database})`, () => {
  it('JwkApi creates, reads, replaces and deletes key sets; errors are Hydra JSON', async () => {
    const api = new JwkApi(config());
    const set = `e2e-${Date.now()}`;
    const created = (await api.createJsonWebKeySet({ set, createJsonWebKeySet: { alg: 'ES256', kid: 'one', use: 'sig' } }));
    assert.equal(created.status, 201);
    assert.equal(created.data.keys[0].kty, 'EC');
    assert.ok(created.data.keys[0].d, 'the admin API returns the private part, as Hydra');
    await api.createJsonWebKeySet({ set, createJsonWebKeySet: { alg: 'RS256', kid: 'two', use: 'sig' } });
    assert.deepEqual((await api.getJsonWebKeySet({ set })).data.keys.map((k) => k.kid), ['two', 'one']);
    assert.deepEqual((await api.getJsonWebKey({ set, kid: 'one' })).data.keys.map((k) => k.kid), ['one']);

    const replacement = created.data.keys[0];
    const put = (await api.setJsonWebKeySet({ set, jsonWebKeySet: { keys: [{ ...replacement, kid: 'three' }] } })).data;
    assert.deepEqual(put.keys.map((k) => k.kid), ['three']);
    const single = (await api.setJsonWebKey({ set, kid: 'four', jsonWebKey: { ...replacement, kid: 'four' } })).data;
    assert.equal(single.kid, 'four');
    assert.equal((await api.deleteJsonWebKey({ set, kid: 'three' })).status, 204);
    assert.deepEqual((await api.getJsonWebKeySet({ set })).data.keys.map((k) => k.kid), ['four']);
    assert.equal((await api.deleteJsonWebKeySet({ set })).status, 204);

    await assert.rejects(api.getJsonWebKeySet({ set }), (e) => e.response.status === 404
      && e.response.data.error === 'Not Found' && e.response.data.error_description === 'Unable to locate the requested resource');
    await assert.rejects(api.createJsonWebKeySet({ set, createJsonWebKeySet: { alg: 'XX999', kid: 'x', use: 'sig' } }),
      (e) => e.response.status === 400 && e.response.data.error_description === 'Unsupported key algorithm');
    await assert.rejects(api.setJsonWebKey({ set, kid: 'k', jsonWebKey: { kty: 'RSA', kid: 'k', alg: 'RS256', use: 'sig', e: 'AQAB' } }),
      (e) => e.response.status === 400 && /Unable to decode the request body/.test(e.response.data.error_description));
    await assert.rejects(api.getJsonWebKeySet({ set }), (e) => e.response.status === 404);
  });

  it('the JWKS publishes the ID-token set; after rotation jose verifies tokens of the new and the old key', async () => {
    const wellknown = new WellknownApi(new Configuration({ basePath: gatehouse().publicUrl }));
    const before = (await wellknown.discoverJsonWebKeys()).data.keys;
    assert.ok(before.length >= 1);
    for (const k of before) {
      assert.equal(k.d, undefined);
      assert.equal(k.p, undefined);
    }

    // Rotate: a new key in hydra.openid.id-token; its private part (admin API) signs a token jose checks against the JWKS.
    const api = new JwkApi(config());
    const rotated = (await api.createJsonWebKeySet({ set: 'hydra.openid.id-token', createJsonWebKeySet: { alg: 'ES256', kid: `rot-${Date.now()}`, use: 'sig' } })).data.keys[0];
    const after = (await wellknown.discoverJsonWebKeys()).data.keys;
    assert.equal(after[0].kid, rotated.kid);
    assert.deepEqual(after.slice(1).map((k) => k.kid), before.map((k) => k.kid), 'older keys stay published');

    const jwks = jose.createRemoteJWKSet(new URL(`${gatehouse().publicUrl}/.well-known/jwks.json`));
    const signed = await new jose.SignJWT({ sub: 'someone' }).setProtectedHeader({ alg: 'ES256', kid: rotated.kid }).setIssuedAt().sign(await jose.importJWK(rotated, 'ES256'));
    assert.equal((await jose.jwtVerify(signed, jwks)).payload.sub, 'someone');

    const old = (await api.getJsonWebKey({ set: 'hydra.openid.id-token', kid: before[0].kid })).data.keys[0];
    const oldSigned = await new jose.SignJWT({ sub: 'old' }).setProtectedHeader({ alg: old.alg, kid: old.kid }).sign(await jose.importJWK(old, old.alg));
    assert.equal((await jose.jwtVerify(oldSigned, jwks)).payload.sub, 'old');
  });

  it('discovery is served under both well-known names, and openid-client accepts it', async () => {
    const base = gatehouse().publicUrl;
    const doc = (await new OidcApi(new Configuration({ basePath: base })).discoverOidcConfiguration()).data;
    assert.equal(doc.issuer, `${base}/`);
    assert.equal(doc.jwks_uri, `${base}/.well-known/jwks.json`);
    assert.equal(doc.token_endpoint, `${base}/oauth2/token`);
    assert.deepEqual(await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json(), doc);
    const config = await oidc.discovery(new URL(base), 'some-client', 'some-secret', undefined, { execute: [oidc.allowInsecureRequests] });
    assert.equal(config.serverMetadata().issuer, `${base}/`);
    assert.equal(config.serverMetadata().id_token_signing_alg_values_supported[0], (await (await fetch(`${base}/.well-known/jwks.json`)).json()).keys[0].alg);
  });
});
