// Verifiable credentials (draft 00) with @ory/client-fetch's OidcApi.createVerifiableCredential against the real process:
// an access token from openid-client's client-credentials grant, a holder key and proof from jose, the priming 400,
// and the credential checked against /.well-known/jwks.json.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import * as jose from 'jose';
import { Configuration as FetchConfiguration, OidcApi, ResponseError } from '@ory/client-fetch';
import { Configuration, OAuth2Api } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';

const gatehouse = useGatehouse();
const scope = 'openid userinfo_credential_draft_00';

async function accessToken() {
  const base = gatehouse().publicUrl;
  const admin = new OAuth2Api(new Configuration({ basePath: base, accessToken: gatehouse().key }));
  const c = (await admin.createOAuth2Client({ oAuth2Client: { grant_types: ['client_credentials'], scope } })).data;
  const config = new oidc.Configuration({ issuer: `${base}/`, token_endpoint: `${base}/oauth2/token` }, c.client_id, undefined, oidc.ClientSecretBasic(c.client_secret));
  oidc.allowInsecureRequests(config);
  return oidc.clientCredentialsGrant(config, { scope });
}

describe(`OAuth2 verifiable credentials (${database})`, () => {
  it('OidcApi.createVerifiableCredential primes a nonce, then issues a credential that binds the holder key as did:jwk', async () => {
    const base = gatehouse().publicUrl;
    const tokens = await accessToken();
    assert.equal(tokens.c_nonce_expires_in_draft_00, 3600);
    const api = new OidcApi(new FetchConfiguration({ basePath: base }));
    // The operation names no security scheme in the API description, so the bearer token goes in by hand.
    const auth = { headers: { Authorization: `Bearer ${tokens.access_token}` } };
    const request = { format: 'jwt_vc_json', types: ['VerifiableCredential', 'UserInfoCredential'] };

    const primed = await api.createVerifiableCredential({ createVerifiableCredentialRequestBody: request }, auth).then(
      () => assert.fail('a request without proof is answered 400'),
      async (e) => {
        assert.ok(e instanceof ResponseError);
        assert.equal(e.response.status, 400);
        return e.response.json();
      },
    );
    assert.equal(primed.format, 'jwt_vc');
    assert.equal(primed.error, 'missing_proof');
    assert.equal(primed.c_nonce_expires_in, 3600);

    const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
    const jwk = await jose.exportJWK(publicKey);
    const proof = await new jose.SignJWT({ nonce: primed.c_nonce }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk }).sign(privateKey);
    const issued = await api.createVerifiableCredential({ createVerifiableCredentialRequestBody: { ...request, proof: { proof_type: 'jwt', jwt: proof } } }, auth);
    assert.equal(issued.format, 'jwt_vc_json');

    const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.credentials_endpoint_draft_00, `${base}/credentials`);
    const { payload } = await jose.jwtVerify(issued.credential_draft_00, jose.createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: discovery.issuer });
    const did = `did:jwk:${jose.base64url.encode(JSON.stringify({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }))}`;
    assert.equal(payload.sub, did);
    assert.equal(payload.vc.credentialSubject.id, did);
    assert.deepEqual(payload.vc.type, ['VerifiableCredential', 'UserInfoCredential']);

    // The nonce was spent: the same proof again is Hydra's invalid_request.
    const again = await api.createVerifiableCredential({ createVerifiableCredentialRequestBody: { ...request, proof: { proof_type: 'jwt', jwt: proof } } }, auth).then(
      () => assert.fail('a replayed nonce is refused'),
      (e) => e.response.json(),
    );
    assert.equal(again.error, 'invalid_request');
    assert.match(again.error_description, /The nonce is invalid\.$/);
  });
});
