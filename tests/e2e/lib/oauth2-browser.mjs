// What a browser does in an OAuth2 flow, without a browser: follows redirects with a cookie jar.
import assert from 'node:assert/strict';

/**
 * Follows redirects (at most 10) from `url` until a URL starting with `stopAt` is reached and returns it, keeping the
 * cookies it is given in `jar` (a Map; a cookie set with Max-Age=0 or a 1970 expiry is removed). All test servers run on
 * 127.0.0.1, and cookies are not scoped by port. `first` may make the first request a POST ({ method, body }), as for a
 * form-posted authorization request.
 */
export async function browse(url, stopAt, jar = new Map(), first = {}) {
  let current = url.toString();
  let init = first;
  for (let i = 0; i < 10; i++) {
    if (current.startsWith(stopAt)) return new URL(current);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const headers = { ...(cookie ? { cookie } : {}), ...(init.headers ?? {}) };
    const res = await fetch(current, { redirect: 'manual', method: init.method ?? 'GET', body: init.body, headers });
    init = {};
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      if (attrs.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a))) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    assert.ok(res.status >= 300 && res.status < 400 && location, `expected a redirect from ${current}, got ${res.status}: ${await res.text()}`);
    current = new URL(location, current).toString();
  }
  throw new Error('too many redirects');
}

/**
 * Like {@link browse}, for a `response_mode=form_post` answer: follows redirects until a page is answered (the
 * authorization server's auto-submitting form), and returns what the browser would post — the form's action and its
 * hidden inputs — as a `form_post` Request for the client library.
 */
export async function browseToFormPost(url, jar = new Map()) {
  let current = url.toString();
  for (let i = 0; i < 10; i++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(current, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      current = new URL(location, current).toString();
      continue;
    }
    assert.equal(res.status, 200, `expected the form_post page from ${current}`);
    assert.match(res.headers.get('content-type'), /^text\/html;charset=UTF-8$/i);
    const html = await res.text();
    const decode = (s) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const action = decode(/<form method="post" action="([^"]*)">/.exec(html)[1]);
    const body = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g)) body.append(decode(m[1]), decode(m[2]));
    return new Request(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
  throw new Error('too many redirects');
}
