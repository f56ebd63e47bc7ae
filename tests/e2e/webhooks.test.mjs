// A web hook with response.parse during registration through @ory/client: a small node HTTP receiver answers with new
// traits and metadata, which replace the submitted ones (the whole traits object, as in Kratos) before the identity is
// saved; the admin API then reads the identity back with the web hook's changes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import axios from 'axios';
import { Configuration, FrontendApi } from '@ory/client';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { identityApi, uniqueEmail } from './lib/sdk.mjs';

const received = [];
let receiverUrl = '';
const receiver = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    received.push({ path: req.url, headers: req.headers, body });
    if (req.url !== '/parse') {
      res.writeHead(404).end();
      return;
    }
    const { email, first } = JSON.parse(body);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({
      identity: {
        traits: { email, name: { first: first.toUpperCase() } },
        metadata_public: { source: 'web_hook' },
      },
    }));
  });
});

before(() => new Promise((resolve) => receiver.listen(0, '127.0.0.1', () => {
  receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
  resolve();
})));
after(() => new Promise((resolve) => receiver.close(resolve)));

const template = 'function(ctx) { email: ctx.identity.traits.email, first: ctx.identity.traits.name.first }';

const gatehouse = useGatehouse({
  selfservice: () => ({
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
    flows: {
      registration: {
        style: 'unified',
        after: {
          password: {
            hooks: [
              {
                hook: 'web_hook',
                config: {
                  url: `${receiverUrl}/parse`,
                  method: 'POST',
                  body: `base64://${Buffer.from(template).toString('base64')}`,
                  auth: { type: 'api_key', config: { name: 'X-Hook-Key', value: 'e2e-hook-secret', in: 'header' } },
                  response: { parse: true },
                },
              },
              { hook: 'session' },
            ],
          },
        },
      },
    },
  }),
});

describe(`web hooks (${database})`, () => {
  it('a parsing web hook replaces the traits whole and sets metadata before the identity is saved', async () => {
    const base = gatehouse().publicUrl;
    const frontend = new FrontendApi(new Configuration({ basePath: base }), base, axios.create({ maxRedirects: 0 }));
    const { data: flow } = await frontend.createNativeRegistrationFlow();
    const email = uniqueEmail('webhook');
    const { data: done } = await frontend.updateRegistrationFlow({
      flow: flow.id,
      updateRegistrationFlowBody: { method: 'password', password: 'a-long-unbreached-passphrase-42', traits: { email, name: { first: 'ada', last: 'lovelace' } } },
    });
    const expected = { email, name: { first: 'ADA' } };
    assert.deepEqual(done.identity.traits, expected, 'name.last is gone: the hook answered without it');
    assert.equal(typeof done.session_token, 'string');

    const { data: stored } = await identityApi({ basePath: gatehouse().adminUrl, accessToken: gatehouse().key }).getIdentity({ id: done.identity.id });
    assert.deepEqual(stored.traits, expected);
    assert.deepEqual(stored.metadata_public, { source: 'web_hook' });

    const call = received.find((r) => r.path === '/parse' && JSON.parse(r.body).email === email);
    assert.ok(call, 'the receiver got the call');
    assert.equal(call.headers['x-hook-key'], 'e2e-hook-secret');
    assert.deepEqual(JSON.parse(call.body), { email, first: 'ada' });
  });
});
