// An app built on Ory Elements (@ory/elements-react, pinned in package.json), as Ory's docs set one up, bundled with
// esbuild by elements.test.mjs and served from another origin than gatehouse. Each page (/login, /registration,
// /settings, /recovery, /verification) reads `?flow=`; without one it sends the browser to gatehouse's
// /self-service/<flow>/browser, which creates the flow and redirects back to the page (the flow's ui_url). The flow is
// fetched with @ory/client-fetch and handed to Elements' component, which renders its nodes and submits them itself.
// /home shows the session as JSON (or "signed out"); /error renders Elements' <Error> for the error gatehouse
// forwarded (?id=); an error that names where the browser must go (403 session_aal2_required) is followed, as
// @ory/nextjs does.
import { createRoot } from 'react-dom/client';
import { Configuration, FrontendApi } from '@ory/client-fetch';
import { Login, Registration, Settings, Recovery, Verification, Error as OryError } from '@ory/elements-react/theme';
import '@ory/elements-react/theme/styles.css';

const sdkUrl = window.GATEHOUSE_URL;
const frontend = new FrontendApi(new Configuration({ basePath: sdkUrl, credentials: 'include' }));
const here = window.location.origin;
const config = {
  sdk: { url: sdkUrl, options: { credentials: 'include' } },
  project: {
    name: 'Gatehouse e2e',
    default_redirect_url: `${here}/home`,
    error_ui_url: `${here}/error`,
    login_ui_url: `${here}/login`,
    registration_ui_url: `${here}/registration`,
    recovery_ui_url: `${here}/recovery`,
    verification_ui_url: `${here}/verification`,
    settings_ui_url: `${here}/settings`,
    registration_enabled: true,
    recovery_enabled: true,
    verification_enabled: true,
  },
};
const pages = {
  login: [Login, (id) => frontend.getLoginFlow({ id })],
  registration: [Registration, (id) => frontend.getRegistrationFlow({ id })],
  settings: [Settings, (id) => frontend.getSettingsFlow({ id })],
  recovery: [Recovery, (id) => frontend.getRecoveryFlow({ id })],
  verification: [Verification, (id) => frontend.getVerificationFlow({ id })],
};

/** The URL an SDK error tells the browser to go to, if any. */
async function redirectOf(err) {
  const body = err?.response ? await err.response.json().catch(() => null) : null;
  return body?.redirect_browser_to ?? body?.error?.details?.redirect_browser_to ?? null;
}

async function main() {
  const root = document.getElementById('root');
  const name = window.location.pathname.slice(1);
  if (name === 'home') {
    try {
      const s = await frontend.toSession();
      root.textContent = JSON.stringify({
        email: s.identity.traits.email,
        aal: s.authenticator_assurance_level,
        methods: s.authentication_methods.map((m) => m.method),
      });
      root.dataset.state = 'signed-in';
    } catch (err) {
      const to = await redirectOf(err);
      if (to) { window.location.href = to; return; }
      root.textContent = 'signed out';
      root.dataset.state = 'signed-out';
    }
    return;
  }
  if (name === 'error') {
    // Gatehouse forwards a browser's failed navigation here with ?id= of the stored error (getFlowError).
    const error = await frontend.getFlowError({ id: new URLSearchParams(window.location.search).get('id') });
    root.dataset.error = error.id;
    createRoot(root).render(<OryError error={error} config={config} />);
    return;
  }
  const page = pages[name];
  if (!page) { root.textContent = `no page ${name}`; return; }
  const id = new URLSearchParams(window.location.search).get('flow');
  if (!id) {
    window.location.href = `${sdkUrl}/self-service/${name}/browser${window.location.search}`;
    return;
  }
  let flow;
  try {
    flow = await page[1](id);
  } catch (err) {
    const to = await redirectOf(err);
    if (to) { window.location.href = to; return; }
    throw err;
  }
  const [Component] = page;
  root.dataset.flow = flow.id;
  createRoot(root).render(<Component flow={flow} config={config} />);
}

main().catch((err) => {
  document.getElementById('root').textContent = `app error: ${err}`;
  console.error(err);
});
