// A real SMTP server for the end-to-end tests (npm `smtp-server`, pinned in package.json) on 127.0.0.1 and a free
// port, cleartext (gatehouse connects with ?disable_starttls=true). Every message it accepts is parsed with
// `mailparser` and kept, so a test can wait for the mail gatehouse's courier worker delivers.
import { before, after } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

/**
 * Starts the server. Returns { port, connectionUri, messages, waitFor(predicate, timeoutMs), stop() }; each message
 * is { envelopeFrom, envelopeTo: [..], to: [..], from, subject, text, html, headers }.
 */
export async function startMailbox() {
  const messages = [];
  const waiters = new Set();
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 1_000, // after() must not wait long for a client that keeps its connection
    size: 1024 * 1024,
    onData(stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        const message = {
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          to: (parsed.to?.value ?? []).map((a) => a.address),
          from: parsed.from?.value?.[0]?.address ?? null,
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          html: typeof parsed.html === 'string' ? parsed.html : '',
          headers: parsed.headers,
        };
        messages.push(message);
        for (const w of [...waiters]) w();
        callback();
      }, callback);
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.server.address();

  /** Resolves to the first message (already received or arriving within timeoutMs) that matches `predicate`. */
  const waitFor = (predicate, timeoutMs = 10_000) => new Promise((resolve, reject) => {
    const check = () => {
      const found = messages.find(predicate);
      if (!found) return false;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(found);
      return true;
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`no matching mail within ${timeoutMs} ms; received: ${JSON.stringify(messages.map((m) => ({ to: m.envelopeTo, subject: m.subject })))}`));
    }, timeoutMs);
    if (!check()) waiters.add(check);
  });

  const stop = () => new Promise((resolve) => server.close(resolve));
  return { port, connectionUri: `smtp://127.0.0.1:${port}/?disable_starttls=true`, messages, waitFor, stop };
}

/** Registers hooks that start a mailbox before the file's tests (before a gatehouse started after it) and stop it after them. */
export function useMailbox() {
  let mailbox;
  before(async () => { mailbox = await startMailbox(); });
  after(async () => { if (mailbox) await mailbox.stop(); });
  return () => mailbox;
}

const codeLine = /^\s*(\d{6})\s*$/m;

/**
 * The first message sent to `address` (envelope recipient) whose subject contains `subject` (when given) and whose
 * plain-text body has a 6-digit code on a line of its own, as the built-in templates put it (already received or
 * arriving within timeoutMs); resolves to { message, code }.
 */
export async function waitForCode(mailbox, address, { subject, timeoutMs = 10_000 } = {}) {
  const wanted = address.toLowerCase();
  const message = await mailbox.waitFor(
    (m) => m.envelopeTo.some((a) => a.toLowerCase() === wanted) && (!subject || m.subject.includes(subject)) && codeLine.test(m.text),
    timeoutMs,
  );
  return { message, code: codeLine.exec(message.text)[1] };
}
