// Starts and stops a real `gatehouse` process for the end-to-end tests: a temporary config, schema and database,
// migrations, an admin API key, and `gatehouse serve` on two free loopback ports (public and admin), without --dev.
// The database is SQLite, or a fresh PostgreSQL database when GATEHOUSE_E2E_DB=postgres and
// GATEHOUSE_TEST_POSTGRES_DSN names a server (run.sh runs the suite once per database).
// When GATEHOUSE_E2E_TEMPLATE names a database that `gatehouse migrate sql` and `gatehouse keys create` made (run.sh
// makes one per run with lib/template.mjs), each server starts on a copy of it and uses GATEHOUSE_E2E_TEMPLATE_KEY
// instead of running both commands again: about 4 s of CPU per server on the 2-core CI machine.
import { spawn, execFile } from 'node:child_process';
import { before, after, afterEach } from 'node:test';
import { mkdtemp, writeFile, rm, copyFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
/** The server: run.sh's ReadyToRun Release build (GATEHOUSE_E2E_DLL), else the Debug build. */
export const gatehouseDll = process.env.GATEHOUSE_E2E_DLL || path.resolve(here, '../../../src/Gatehouse/bin/Debug/net10.0/gatehouse.dll');

/** Which database this run uses: 'sqlite' (default) or 'postgres'. */
export const database = process.env.GATEHOUSE_E2E_DB === 'postgres' ? 'postgres' : 'sqlite';

const identitySchema = {
  $id: 'https://gatehouse.test/e2e.schema.json',
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Person',
  type: 'object',
  properties: {
    traits: {
      type: 'object',
      properties: {
        email: {
          type: 'string',
          format: 'email',
          title: 'E-Mail',
          'ory.sh/kratos': {
            credentials: { password: { identifier: true } },
            verification: { via: 'email' },
            recovery: { via: 'email' },
          },
        },
        name: {
          type: 'object',
          properties: {
            first: { type: 'string', title: 'First name' },
            last: { type: 'string', title: 'Last name' },
          },
        },
      },
      required: ['email'],
      additionalProperties: false,
    },
  },
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function gatehouseCli(args) {
  try {
    const { stdout } = await execFileAsync('dotnet', [gatehouseDll, ...args], { timeout: 60_000 });
    return stdout;
  } catch (err) {
    throw new Error(`gatehouse ${args.join(' ')} failed (exit ${err.code}): ${err.stderr || err.message}`);
  }
}

/** A new PostgreSQL database, empty or a copy of `template` (a database name); resolves to { name, dsn, drop() }. */
export async function createPostgresDatabase(template) {
  const server = process.env.GATEHOUSE_TEST_POSTGRES_DSN;
  if (!server) throw new Error('GATEHOUSE_E2E_DB=postgres needs GATEHOUSE_TEST_POSTGRES_DSN');
  const name = `gh_e2e_${randomBytes(6).toString('hex')}`;
  const sql = `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`;
  // With a template, PostgreSQL itself waits (up to 5 s) for its last session (the CLI that made it) to end.
  await execFileAsync('psql', [server, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { timeout: 30_000 });
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { name, dsn: url.toString(), drop: () => dropPostgresDatabase(name).catch(() => {}) };
}

/** Drops a database of GATEHOUSE_TEST_POSTGRES_DSN's server, ending the sessions still open on it. */
export function dropPostgresDatabase(name) {
  return execFileAsync('psql', [process.env.GATEHOUSE_TEST_POSTGRES_DSN, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
}

// Generous: on a loaded 2-core machine a cold start (JIT, migrations on a new PostgreSQL database) took over 30 s.
async function waitReady(urls, proc, stderr, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (const url of urls) {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`gatehouse serve exited with ${proc.exitCode}:\n${stderr()}`);
      try {
        const res = await fetch(`${url}/health/ready`);
        if (res.status === 200) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`gatehouse did not become ready at ${url} within ${timeoutMs} ms:\n${stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs `gatehouse migrate sql` and `gatehouse keys create` on a config; resolves to the new key. */
export async function migrateAndCreateKey(config) {
  await gatehouseCli(['migrate', 'sql', '--yes', '-c', config]);
  const keyOut = (await gatehouseCli(['keys', 'create', '--name', 'e2e', '-c', config])).trim().split('\n');
  const key = keyOut[keyOut.length - 1].trim();
  if (!key) throw new Error('gatehouse keys create printed no key');
  return key;
}

/**
 * The password hasher of the e2e servers: argon2 at the least work Argon2 allows (8 KiB, one pass, one lane), as in
 * Kratos's own e2e profile (test/e2e/profiles/kratos.base.yml asks for 1KB, which Go's argon2 raises to those 8 KiB;
 * Gatehouse refuses less than 8 KiB per lane), so that the suite's many hashes and checks cost little CPU. At Kratos's
 * default, bcrypt cost 12 (also the least bcrypt cost outside --dev), each took ~0.3 s.
 * A file that checks the hasher itself passes its own `hashers` (identity.test.mjs: bcrypt, cost 12).
 */
export const cheapHashers = { algorithm: 'argon2', argon2: { memory: '8KB', iterations: 1, parallelism: 1 } };

/**
 * Starts a gatehouse server. Returns { publicUrl, adminUrl, key, dsn, stderr(), stop(), cli(...args) };
 * always call stop() (in after()). `selfservice`, when given, is written as the config's `selfservice` key; a
 * function receives the public URL (for return URLs). `courier`, likewise, becomes the config's `courier` key (a
 * function is called at start, e.g. to read the port of an SMTP server started in a before() hook), and `session`
 * the config's `session` key (e.g. whoami tokenizer templates).
 * `gatehouse` becomes the config's `gatehouse` key (rate limits, trusted proxies, hashing queue). `urls` becomes Hydra's
 * `urls` key (OAuth2 issuer, login and consent apps); a function is called at start (e.g. to read an app's port).
 * `schema`, when given, replaces the default identity schema (e.g. one whose email is a code identifier).
 * `publicHost` names the public listener in its URLs (default 127.0.0.1; 'localhost' for WebAuthn, which needs a domain).
 * `serveArgs` are extra arguments to `gatehouse serve` (e.g. ['--watch-courier']). `publicCors` / `adminCors`, when
 * given, become `serve.public.cors` / `serve.admin.cors`. `adminRequiresKey: false` writes
 * `serve.admin.require_api_key: false`: the admin listener open as self-hosted Kratos's and Hydra's are.
 * `hashers` becomes the config's `hashers` key: by default `cheapHashers`.
 * The result's `replica()` starts another `gatehouse serve` on the same config and database (new ports) and resolves
 * to { publicUrl, adminUrl, stderr(), stop() }; it is stopped with the server.
 */
export async function startGatehouse({ selfservice, courier, session, gatehouse, urls, publicCors, adminCors, adminRequiresKey = true, serveArgs = [], schema = identitySchema, publicHost = '127.0.0.1', hashers = cheapHashers, extraConfig } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-e2e-'));
  const cleanups = [() => rm(dir, { recursive: true, force: true })];
  let proc;
  let stderrText = '';
  const replicas = [];
  const kill = async (p) => {
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async () => {
    for (const r of replicas) await r.stop();
    await kill(proc);
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const template = process.env.GATEHOUSE_E2E_TEMPLATE;
    let dsn = `sqlite://${dir}/gh.db?_fk=true`;
    if (database === 'postgres') {
      const db = await createPostgresDatabase(template);
      dsn = db.dsn;
      cleanups.push(db.drop);
    } else if (template) {
      await copyFile(template, path.join(dir, 'gh.db'));
    }
    const schemaPath = path.join(dir, 'identity.schema.json');
    await writeFile(schemaPath, JSON.stringify(schema, null, 2));
    const config = path.join(dir, 'gatehouse.yml');
    const cookieSecret = randomBytes(16).toString('hex');
    const writeConfig = async (publicPort, adminPort, file = config) => {
      // The server listens on loopback either way; publicHost only names it in URLs (WebAuthn wants a domain: 'localhost').
      const publicUrl = `http://${publicHost}:${publicPort}`;
      const adminUrl = `http://127.0.0.1:${adminPort}`;
      // JSON is YAML; quoting every value keeps DSNs and URLs intact.
      await writeFile(file, [
        `dsn: ${JSON.stringify(dsn)}`,
        'serve:',
        `  public: { host: "127.0.0.1", port: ${publicPort}, base_url: ${JSON.stringify(publicUrl + '/')}${publicCors ? `, cors: ${JSON.stringify(publicCors)}` : ''} }`,
        `  admin: { host: "127.0.0.1", port: ${adminPort}, base_url: ${JSON.stringify(adminUrl + '/')}${adminCors ? `, cors: ${JSON.stringify(adminCors)}` : ''}${adminRequiresKey ? '' : ', require_api_key: false'} }`,
        `hashers: ${JSON.stringify(hashers)}`,
        `secrets: { cookie: [${JSON.stringify(cookieSecret)}] }`,
        'identity:',
        '  default_schema_id: default',
        `  schemas: [ { id: default, url: ${JSON.stringify('file://' + schemaPath)} } ]`,
        ...(selfservice ? [`selfservice: ${JSON.stringify(typeof selfservice === 'function' ? selfservice(publicUrl) : selfservice)}`] : []),
        ...(courier ? [`courier: ${JSON.stringify(typeof courier === 'function' ? courier() : courier)}`] : []),
        ...(session ? [`session: ${JSON.stringify(typeof session === 'function' ? session() : session)}`] : []),
        ...(gatehouse ? [`gatehouse: ${JSON.stringify(gatehouse)}`] : []),
        ...(urls ? [`urls: ${JSON.stringify(typeof urls === 'function' ? urls() : urls)}`] : []),
        // Further top-level keys (e.g. Hydra's `oauth2`, `strategies`, `oidc`), each written as JSON.
        ...Object.entries(extraConfig ?? {}).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
        '',
      ].join('\n'));
      return { publicUrl, adminUrl, loopbackUrls: [`http://127.0.0.1:${publicPort}`, adminUrl] };
    };

    await writeConfig(await freePort(), await freePort());
    const key = template ? process.env.GATEHOUSE_E2E_TEMPLATE_KEY : await migrateAndCreateKey(config);
    if (!key) throw new Error('no admin API key: GATEHOUSE_E2E_TEMPLATE_KEY is empty');

    // A port found free can be taken before serve binds it (e.g. as the local port of an outgoing connection):
    // then serve exits with "address already in use", and it is started again on new ports.
    const stderr = () => stderrText;
    let publicUrl;
    let adminUrl;
    for (let attempt = 1; ; attempt++) {
      let loopbackUrls;
      ({ publicUrl, adminUrl, loopbackUrls } = await writeConfig(await freePort(), await freePort()));
      stderrText = '';
      proc = spawn('dotnet', [gatehouseDll, 'serve', ...serveArgs, '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      const current = proc;
      proc.stderr.setEncoding('utf8');
      proc.stderr.on('data', (chunk) => { if (proc === current) stderrText += chunk; });
      proc.stdout.resume(); // the log goes to stderr; stdout must not fill its pipe
      try {
        await waitReady(loopbackUrls, proc, stderr);
        break;
      } catch (err) {
        if (attempt >= 3 || proc.exitCode === null || !stderrText.includes('address already in use')) throw err;
      }
    }
    /** Runs another gatehouse command against this server's config; resolves to its stdout. */
    const cli = (...args) => gatehouseCli([...args, '-c', config]);
    const replica = async () => {
      const file = path.join(dir, `replica-${replicas.length + 1}.yml`);
      const urls = await writeConfig(await freePort(), await freePort(), file);
      let text = '';
      const p = spawn('dotnet', [gatehouseDll, 'serve', ...serveArgs, '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stderr.setEncoding('utf8');
      p.stderr.on('data', (chunk) => { text += chunk; });
      p.stdout.resume();
      const r = { ...urls, stderr: () => text, stop: () => kill(p) };
      replicas.push(r);
      await waitReady(urls.loopbackUrls, p, r.stderr);
      return r;
    };
    return { publicUrl, adminUrl, key, dsn, stderr, stop, cli, replica };
  } catch (err) {
    await stop();
    if (stderrText && !String(err.message).includes(stderrText)) err.message += `\ngatehouse stderr:\n${stderrText}`;
    throw err;
  }
}

/**
 * Registers hooks that start one gatehouse server before the file's tests and stop it after them; when a test
 * failed, the server's log is printed (each line prefixed, so no log line can look like a TAP summary line).
 * Returns a function that gives the running server. `options` go to startGatehouse.
 */
export function useGatehouse(options) {
  let server;
  let failed = false;
  before(async () => { server = await startGatehouse(options); });
  afterEach((t) => { if (t.passed === false) failed = true; });
  after(async () => {
    if (!server) return;
    if (failed) {
      const log = server.stderr().trimEnd().split('\n').map((l) => `gatehouse| ${l}`).join('\n');
      process.stderr.write(`gatehouse server log (a test failed):\n${log}\n`);
    }
    await server.stop();
  });
  return () => server;
}
