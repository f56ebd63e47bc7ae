// The hostile-input corpus against the real gatehouse process (issue 15): every public and admin route × hostile
// JSON bodies, forms, query strings and headers. Each answer must be under 500, arrive within the time bound and, when
// it is an error, be the Kratos envelope (or a submitted API flow's 400 with its messages); a rejected request
// changes nothing an admin can list; the server stays healthy and logs no stack trace. The xunit corpus
// (tests/Gatehouse.Tests/Http/HostileInputCorpusTests.cs) reads the routes from the app's endpoint data source and
// compares every table; this one sees the process as a client does, so its route list is written out here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useGatehouse, database } from './lib/gatehouse.mjs';
import { uniqueEmail } from './lib/sdk.mjs';

const gatehouse = useGatehouse({
  selfservice: {
    methods: { password: { config: { haveibeenpwned_enabled: false } } },
    flows: { recovery: { enabled: true }, verification: { enabled: true } },
  },
});

const perRequestMs = 10_000;
const enc = new TextEncoder();
const bytes = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(enc.encode(p)) : Buffer.from(p))));
const json = 'application/json';
const form = 'application/x-www-form-urlencoded';

const bodies = [
  ['json duplicate keys', bytes('{"method":"password","method":"code","traits":{"email":"a@example.com","email":"b@example.com"}}'), json],
  ['json lone surrogate', bytes('{"method":"\\ud800","identifier":"\\udc00","traits":{"email":"\\ud800@example.com"},"expires_in":"\\ud800"}'), json],
  ['json lone surrogate key', bytes('{"\\udc00":1,"traits":{"\\udfff":"x"}}'), json],
  ['json invalid utf-8', bytes('{"method":"password","identifier":"', [0xff, 0xfe, 0xc3, 0x28], '"}'), json],
  ['json deep nesting', bytes('['.repeat(100_000) + ']'.repeat(100_000)), json],
  ['json huge numbers', bytes('{"method":1e999999,"traits":{"email":1e400},"expires_in":1e400,"page_size":' + '9'.repeat(400) + '}'), json],
  ['json wrong types', bytes('{"method":["password"],"identifier":{"a":1},"traits":"x","expires_in":{},"identity_id":[],"credentials":"x","session_token":42,"action":[]}'), json],
  ['json array body', bytes('[{"op":"add","path":"/metadata_public/l/2000000000/x","value":1}]'), json],
  ['json truncated', bytes('{"method":"password","identifier":"a@'), json],
  ['json empty', bytes(''), json],
  ['text/plain', bytes('{"method":"password"}'), 'text/plain'],
  ['multipart broken boundary', bytes('--x\r\nContent-Disposition: form-data; name="method"\r\n\r\npassword\r\n--y--'), 'multipart/form-data; boundary=x'],
  ['form 5,000 fields', bytes(Array.from({ length: 5000 }, (_, i) => `f${i}=v`).join('&')), form],
  ['form 100 KB key', bytes('k'.repeat(100_000) + '=v&method=password'), form],
  ['form deep dotted key', bytes('method=password&traits.' + Array(5000).fill('a').join('.') + '=x'), form],
  ['form invalid encoding', bytes('method=%ff%fe&identifier=%ED%A0%80&password=%zz&%ff=1'), form],
];

const queries = [
  ['query invalid utf-8', 'id=%ff%fe&flow=%ED%A0%80&return_to=%ff&token=%ED%B0%80&page_token=%ff'],
  ['query huge numbers', 'page_size=99999999999999999999999&page=-99999999999999999999&per_page=1e999'],
  ['query repeated', Array.from({ length: 300 }, (_, i) => `flow=f${i}&id=i${i}`).join('&')],
];

const headerSets = [
  ['hostile headers', {
    Cookie: `ory_kratos_session=%ff%ED%A0%80; csrf_token=${'x'.repeat(4000)}; ${Array.from({ length: 200 }, (_, i) => `c${i}=v`).join('; ')}`,
    'X-Session-Token': `ory_st_${'a'.repeat(4000)}`,
    'X-Forwarded-For': 'not-an-ip, 999.999.999.999',
    Accept: 'application/json;q=abc, */*;q=1e999',
  }],
];

/** The routes, as the endpoint maps declare them (admin ones on the admin listener, with the key). */
function routes(ids) {
  const flows = ['login', 'registration', 'settings', 'recovery', 'verification'];
  const pub = [
    ['GET', '/health/alive'], ['GET', '/health/ready'], ['GET', '/version'], ['GET', '/schemas'], ['GET', '/schemas/default'],
    ...flows.flatMap((f) => [['GET', `/self-service/${f}/browser`], ['GET', `/self-service/${f}/api`], ['GET', `/self-service/${f}/flows`],
      ['POST', `/self-service/${f}?flow=${ids.flows[f]}`], ['GET', `/self-service/${f}?flow=${ids.flows[f]}`]]),
    ['GET', '/self-service/errors'], ['GET', '/self-service/logout/browser'], ['GET', '/self-service/logout'], ['DELETE', '/self-service/logout/api'],
    ['GET', '/sessions/whoami'], ['POST', '/sessions/whoami'], ['GET', '/sessions'], ['DELETE', '/sessions'], ['DELETE', `/sessions/${ids.unknown}`],
  ];
  const admin = [
    ['GET', '/admin/identities'], ['POST', '/admin/identities'], ['PATCH', '/admin/identities'], ['GET', `/admin/identities/${ids.identity}`],
    ['PUT', `/admin/identities/${ids.identity}`], ['PATCH', `/admin/identities/${ids.identity}`], ['GET', `/admin/identities/${ids.identity}/sessions`],
    ['GET', `/admin/identities/by/external/${ids.unknown}`], ['DELETE', `/admin/identities/${ids.unknown}/credentials/password`],
    ['GET', '/admin/sessions'], ['POST', '/admin/sessions'], ['GET', `/admin/sessions/${ids.session}`], ['PATCH', `/admin/sessions/${ids.unknown}/extend`],
    ['POST', '/admin/recovery/code'], ['POST', '/admin/recovery/link'], ['GET', '/admin/courier/messages'], ['GET', `/admin/courier/messages/${ids.unknown}`],
    ['GET', '/admin/health/ready'], ['GET', '/admin/schemas'],
  ];
  return [...pub.map(([m, p]) => [m, p, false]), ...admin.map(([m, p]) => [m, p, true])];
}

function corpus(ids) {
  const cases = [];
  for (const [method, path, admin] of routes(ids)) {
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
      for (const [name, body, type] of bodies) cases.push({ name, method, path, admin, body, type });
    }
    for (const [name, query] of queries) cases.push({ name, method, path: path + (path.includes('?') ? '&' : '?') + query, admin });
    for (const [name, headers] of headerSets) cases.push({ name, method, path, admin, headers });
  }
  for (const route of ['/admin/recovery/code', '/admin/recovery/link']) {
    for (const d of ['80000000h', '2562048h', '1e400h', '-80000000h']) {
      cases.push({ name: `expires_in ${d}`, method: 'POST', path: route, admin: true, body: bytes(JSON.stringify({ identity_id: ids.identity, expires_in: d })), type: json });
    }
  }
  for (const pointer of ['/metadata_public/l/2000000000', '/metadata_public/l/2000000000/x', '/traits/tags/-1']) {
    cases.push({ name: `json patch ${pointer}`, method: 'PATCH', path: `/admin/identities/${ids.identity}`, admin: true, body: bytes(JSON.stringify([{ op: 'add', path: pointer, value: 1 }])), type: json });
  }
  for (const hash of ['$2a$31$' + 'a'.repeat(53), '$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', '$pbkdf2-sha256$i=2147483647,l=32$c2FsdA$aGFzaA', '$scrypt$ln=60,r=8,p=1$c2FsdA$aGFzaA']) {
    const body = { schema_id: 'default', traits: { email: uniqueEmail('hash') }, credentials: { password: { config: { hashed_password: hash } } } };
    cases.push({ name: `absurd hash ${hash.slice(0, 24)}`, method: 'POST', path: '/admin/identities', admin: true, body: bytes(JSON.stringify(body)), type: json });
  }
  return cases;
}

async function send(server, c) {
  const headers = { Accept: 'application/json', ...(c.admin ? { Authorization: `Bearer ${server.key}` } : {}), ...(c.headers ?? {}) };
  if (c.type) headers['Content-Type'] = c.type;
  const res = await fetch((c.admin ? server.adminUrl : server.publicUrl) + c.path, {
    method: c.method, headers, body: c.body, redirect: 'manual', signal: AbortSignal.timeout(perRequestMs),
  });
  return { status: res.status, text: await res.text() };
}

/** What an admin can see: identities, sessions and courier messages (counts and ids). */
async function state(server) {
  const get = async (path) => {
    const res = await fetch(`${server.adminUrl}${path}`, { headers: { Authorization: `Bearer ${server.key}` } });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return (await res.json()).map((o) => `${o.id}:${o.state ?? o.status ?? ''}:${o.active ?? ''}:${JSON.stringify(o.metadata_public ?? null)}`).sort().join(',');
  };
  return JSON.stringify([await get('/admin/identities?page_size=500'), await get('/admin/sessions?page_size=500'), await get('/admin/courier/messages?page_size=500')]);
}

function problem(status, text) {
  if (status >= 500) return `status ${status}: ${text.slice(0, 200)}`;
  if (status < 400) return null;
  let body;
  try { body = JSON.parse(text); } catch { return `not JSON: ${text.slice(0, 200)}`; }
  if (status === 400 && body?.ui && body?.id) return null; // a submitted API flow answers with its messages
  const e = body?.error;
  if (!e || typeof e.code !== 'number' || e.code < 400 || !e.status || !e.message) return `not the Kratos envelope: ${text.slice(0, 200)}`;
  return null;
}

describe(`hostile input against the real process (${database})`, () => {
  it('every route answers every hostile request below 500, in the envelope, in time, changing nothing, logging no stack trace', async () => {
    const server = gatehouse();
    const adminHeaders = { Authorization: `Bearer ${server.key}`, 'Content-Type': json };
    const created = await fetch(`${server.adminUrl}/admin/identities`, {
      method: 'POST', headers: adminHeaders,
      body: JSON.stringify({ schema_id: 'default', traits: { email: uniqueEmail('hostile') }, credentials: { password: { config: { password: 'a long hostile-corpus password' } } } }),
    });
    assert.equal(created.status, 201);
    const identity = (await created.json()).id;
    const flows = {};
    for (const f of ['login', 'registration', 'recovery', 'verification']) {
      flows[f] = (await (await fetch(`${server.publicUrl}/self-service/${f}/api`)).json()).id;
    }
    flows.settings = flows.login; // without a session the settings submit is refused before its body matters
    const ids = { identity, session: '00000000-0000-7000-8000-000000000000', unknown: '00000000-0000-7000-8000-000000000001', flows };
    const cases = corpus(ids);
    assert.ok(cases.length >= 500, `only ${cases.length} cases`);

    const logFrom = server.stderr().length;
    const failures = [];
    let before = await state(server);
    for (const c of cases) {
      let outcome;
      try {
        outcome = await send(server, c);
      } catch (err) {
        failures.push(`${c.method} ${c.path.slice(0, 80)} [${c.name}]: ${err.name === 'TimeoutError' ? `no answer within ${perRequestMs} ms` : err.message}`);
        continue;
      }
      const p = problem(outcome.status, outcome.text);
      const after = await state(server);
      if (p) failures.push(`${c.method} ${c.path.slice(0, 80)} [${c.name}] -> ${p}`);
      else if (outcome.status >= 400 && after !== before) failures.push(`${c.method} ${c.path.slice(0, 80)} [${c.name}] -> ${outcome.status} but changed what the admin API lists`);
      before = after;
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} hostile requests misbehaved`);

    const log = server.stderr().slice(logFrom);
    const traces = log.split('\n').filter((l) => /^\s*at \S+\(|\bfail:|\bcrit:/.test(l));
    assert.deepEqual(traces, [], 'the log has errors or stack traces');
    assert.equal((await fetch(`${server.publicUrl}/health/alive`)).status, 200);
    assert.equal((await fetch(`${server.adminUrl}/admin/health/ready`)).status, 200);
  });
});
