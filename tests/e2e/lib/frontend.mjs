// FrontendApi clients as apps use them: native (no cookies) and browser-like (a cookie jar on the SDK's axios
// instance), both without following redirects, plus small helpers for self-service flows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { Configuration, FrontendApi } from '@ory/client';

/** A frontend client for native apps: no cookies; redirects are not followed, so a 303 shows up as an error. */
export function nativeFrontend(publicUrl) {
  return new FrontendApi(new Configuration({ basePath: publicUrl }), publicUrl, axios.create({ maxRedirects: 0 }));
}

/**
 * A frontend client that behaves like a browser's fetch: an axios instance with a cookie jar (Set-Cookie stored,
 * Cookie sent) that does not follow redirects. Returns { api, http, jar }.
 */
export function browserFrontend(publicUrl) {
  const jar = new Map();
  const http = axios.create({ maxRedirects: 0 });
  http.interceptors.request.use((config) => {
    if (jar.size > 0) config.headers.set('Cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    return config;
  });
  const store = (res) => {
    for (const line of res?.headers?.['set-cookie'] ?? []) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attributes.some((a) => {
        const [k, v] = a.split('=');
        if (/^max-age$/i.test(k)) return Number(v) <= 0;
        if (/^expires$/i.test(k)) return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  };
  http.interceptors.response.use((res) => { store(res); return res; }, (err) => { store(err.response); return Promise.reject(err); });
  const api = new FrontendApi(new Configuration({ basePath: publicUrl }), publicUrl, http);
  return { api, http, jar };
}

/** A password that passes the policy (long, unbreached, unlike the email). */
export function newPassword() {
  return `e2e-${randomBytes(8).toString('hex')}-Pw!`;
}

/** The SDK call must reject with `status`; resolves to the response body (a flow or an error envelope). */
export async function rejection(promise, status) {
  let res;
  try {
    res = await promise;
  } catch (err) {
    assert.ok(err.response, `expected an HTTP error response, got ${err}`);
    assert.equal(err.response.status, status, JSON.stringify(err.response.data));
    return err.response.data;
  }
  assert.fail(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.data)}`);
}

/** The value of a browser flow's csrf_token node. */
export function csrfTokenOf(flow) {
  const node = flow.ui.nodes.find((n) => n.attributes?.name === 'csrf_token');
  assert.ok(node, `browser flow has a csrf_token node: ${JSON.stringify(flow.ui.nodes.map((n) => n.attributes?.name))}`);
  assert.equal(typeof node.attributes.value, 'string');
  assert.ok(node.attributes.value.length > 0);
  return node.attributes.value;
}

/** All messages of a flow: the flow's own and every node's. */
export function allMessages(flow) {
  return [...(flow.ui?.messages ?? []), ...(flow.ui?.nodes ?? []).flatMap((n) => n.messages ?? [])];
}

/** A native password login with `api` (a FrontendApi); resolves to the successful login's body (session and token). */
export async function passwordLogin(api, identifier, password) {
  const { data: flow } = await api.createNativeLoginFlow();
  const { data } = await api.updateLoginFlow({ flow: flow.id, updateLoginFlowBody: { method: 'password', identifier, password } });
  return data;
}
