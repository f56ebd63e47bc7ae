// Makes (or drops) the database every end-to-end server of a run starts on a copy of: `gatehouse migrate sql` and
// `gatehouse keys create` run once, on SQLite or PostgreSQL as GATEHOUSE_E2E_DB says. Used by run.sh:
//   eval "$(node lib/template.mjs create)"   prints `export GATEHOUSE_E2E_TEMPLATE=… GATEHOUSE_E2E_TEMPLATE_KEY=…`
//   node lib/template.mjs drop               removes the database GATEHOUSE_E2E_TEMPLATE names
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { database, createPostgresDatabase, dropPostgresDatabase, migrateAndCreateKey } from './gatehouse.mjs';

const shellQuote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

async function create() {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-e2e-template-'));
  let template;
  let dsn;
  if (database === 'postgres') {
    const db = await createPostgresDatabase();
    template = db.name;
    dsn = db.dsn;
  } else {
    template = path.join(dir, 'template.db');
    dsn = `sqlite://${template}?_fk=true`;
  }
  const config = path.join(dir, 'gatehouse.yml');
  await writeFile(config, `dsn: ${JSON.stringify(dsn)}\n`);
  const key = await migrateAndCreateKey(config);
  if (database === 'postgres') await rm(dir, { recursive: true, force: true });
  process.stdout.write(`export GATEHOUSE_E2E_TEMPLATE=${shellQuote(template)} GATEHOUSE_E2E_TEMPLATE_KEY=${shellQuote(key)}\n`);
}

async function drop() {
  const template = process.env.GATEHOUSE_E2E_TEMPLATE;
  if (!template) return;
  if (database === 'postgres') {
    await dropPostgresDatabase(template);
  } else {
    await rm(path.dirname(template), { recursive: true, force: true });
  }
}

const command = process.argv[2];
if (command === 'create') await create();
else if (command === 'drop') await drop();
else {
  process.stderr.write('usage: node lib/template.mjs create|drop\n');
  process.exit(2);
}
