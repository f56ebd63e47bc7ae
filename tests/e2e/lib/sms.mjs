// A real HTTP receiver standing in for an SMS provider's API, for the courier's HTTP channel
// (`courier.channels: [{id: sms, type: http, request_config}]`): it records every request and answers 201.
import { before, after } from 'node:test';
import { createServer } from 'node:http';
import { EventEmitter, once } from 'node:events';

// What an SMS provider's API would take; `code` only for the tests' convenience.
const body = `function(ctx) {
  to: ctx.recipient,
  text: ctx.body,
  template_type: ctx.template_type,
  code: if "login_code" in ctx.template_data then ctx.template_data.login_code else ctx.template_data.registration_code,
}`;

/**
 * Starts the receiver before the file's tests and stops it after. Returns { channel(), received, waitForSms(to,
 * templateType, skip) }: `channel()` is the courier channel config pointing at it (API key `e2e-sms-key` in
 * `X-Api-Key`); `waitForSms` resolves to the newest request to `to` with that template type beyond the first `skip`.
 */
export function useSmsReceiver() {
  const received = [];
  const arrivals = new EventEmitter(); // 'sms' on every request the receiver gets
  let receiver;
  before(async () => {
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => { data += c; });
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(data) });
        arrivals.emit('sms');
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"sid":"SM1"}');
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise((resolve) => receiver.close(resolve)));

  const channel = () => ({
    id: 'sms',
    type: 'http',
    request_config: {
      url: `http://127.0.0.1:${receiver.address().port}/messages`,
      method: 'POST',
      body: `base64://${Buffer.from(body).toString('base64')}`,
      auth: { type: 'api_key', config: { name: 'X-Api-Key', value: 'e2e-sms-key', in: 'header' } },
    },
  });

  async function waitForSms(to, templateType, skip = 0) {
    // The courier sends from the server's background worker: wait for the receiver's next request, at most 15 s in all.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const hits = received.filter((r) => r.body.to === to && r.body.template_type === templateType);
      if (hits.length > skip) return hits[hits.length - 1];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${templateType} SMS to ${to}`);
      await once(arrivals, 'sms', { signal: AbortSignal.timeout(left) }).catch(() => {});
    }
  }

  return { channel, received, waitForSms };
}

/** A random German mobile number in E.164. */
export const uniquePhone = () => `+49176${String(10_000_000 + Math.floor(Math.random() * 89_999_999))}`;
