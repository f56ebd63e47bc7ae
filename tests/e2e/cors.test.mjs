// CORS in a real browser: headless Chromium loads a page from another origin (a static server on another loopback
// port) whose script, bundled here with esbuild from lib/cors-app.mjs, runs registration, toSession, logout and login
// against gatehouse with cookies — once with @ory/client-fetch (credentials: "include") and once with @ory/client
// (axios, withCredentials: true). Two loopback ports are the same site, so the Lax cookies flow; CORS decides
// whether the page may send them and read the answers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startGatehouse, database } from './lib/gatehouse.mjs';
import { newPassword } from './lib/frontend.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const chromiumPath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium';
const hasChromium = await access(chromiumPath, constants.X_OK).then(() => true, () => false);

/** Serves index.html and the bundle on a free loopback port; resolves to { origin, close() }. */
async function startAppServer(bundle) {
  const page = '<!doctype html><html><head><meta charset="utf-8"><title>SPA</title><script src="/app.js"></script></head><body>app</body></html>';
  const server = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

describe(`CORS from a single-page app on another origin, in Chromium (${database})`, { skip: hasChromium ? false : `${chromiumPath} is not installed` }, () => {
  let outDir;
  let app;
  let gatehouse;
  let browser;

  before(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-cors-'));
    const result = await build({
      entryPoints: [path.join(here, 'lib', 'cors-app.mjs')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'chrome120',
      write: false,
      logLevel: 'error',
    });
    app = await startAppServer(result.outputFiles[0].text);
    gatehouse = await startGatehouse({
      selfservice: (publicUrl) => ({
        default_browser_return_url: `${app.origin}/`,
        allowed_return_urls: [`${app.origin}/`, `${publicUrl}/`],
        methods: { password: { config: { haveibeenpwned_enabled: false } } },
        flows: { registration: { style: 'unified', after: { password: { hooks: [{ hook: 'session' }] } } } },
      }),
      // Another origin on the same host, and a wildcard that must not let anyone else in.
      publicCors: { enabled: true, allowed_origins: [app.origin, 'https://*.example.com'] },
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.stop();
    await app?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  for (const [sdk, fn] of [['@ory/client-fetch with credentials: "include"', 'runWithFetchSdk'], ['@ory/client with withCredentials: true', 'runWithAxiosSdk']]) {
    it(`${sdk}: registration, toSession, logout and login with cookies`, async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const consoleErrors = [];
        page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
        await page.goto(`${app.origin}/`);
        const email = `cors-${fn}-${Date.now()}@example.com`;
        const steps = await page.evaluate(([name, base, e, p]) => window[name](base, e, p), [fn, gatehouse.publicUrl, email, newPassword()]);
        assert.deepEqual(steps, {
          registrationCsrf: true,
          registeredEmail: email,
          registeredWithoutToken: true,
          sessionAfterRegistration: email,
          statusAfterLogout: 401,
          loginEmail: email,
          sessionAfterLogin: email,
          statusWithoutCsrf: 403,
        }, `console errors: ${consoleErrors.join('\n')}`);
        const names = (await context.cookies(gatehouse.publicUrl)).map((c) => c.name);
        assert.ok(names.includes('ory_kratos_session'), `session cookie kept by the browser: ${names}`);
        assert.ok(names.some((n) => n.startsWith('csrf_token_')), `CSRF cookie kept by the browser: ${names}`);
      } finally {
        await context.close();
      }
    });
  }

  it('a page on an origin that is not allowed cannot read answers or send cookies', async () => {
    const other = await startAppServer('');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${other.origin}/`);
      const outcome = await page.evaluate(async (base) => {
        try {
          await fetch(`${base}/self-service/login/browser`, { credentials: 'include', headers: { accept: 'application/json' } });
          return 'read';
        } catch (err) {
          return `refused: ${err.name}`;
        }
      }, gatehouse.publicUrl);
      assert.equal(outcome, 'refused: TypeError');
    } finally {
      await context.close();
      await other.close();
    }
  });
});
