// The browser half of an OAuth2 consent app built on Ory Elements' `Consent` component (@ory/elements-react, pinned in
// package.json), bundled with esbuild by elements-consent.test.mjs. As in Ory's Next.js example, the server fetched the
// consent request with the admin API key and the signed-in session (with the browser's cookie) and put both into the
// page as JSON, with its CSRF token; the key itself never reaches the browser. The component renders the requested
// scopes as switches, "Remember my decision", Reject and Accept, and posts its form as JSON to `formActionUrl`
// (the app's /api/consent), then follows the `redirect_to` that answer carries.
import { createRoot } from 'react-dom/client';
import { Consent } from '@ory/elements-react/theme';
import '@ory/elements-react/theme/styles.css';

const { consentRequest, session, csrfToken, sdkUrl } = JSON.parse(document.getElementById('consent-data').textContent);
const here = window.location.origin;
// The project's other pages are gatehouse's built-in ones: this app serves only the consent page.
const config = {
  sdk: { url: sdkUrl, options: { credentials: 'include' } },
  project: {
    name: 'Gatehouse e2e',
    default_redirect_url: `${sdkUrl}/ui/welcome`,
    error_ui_url: `${sdkUrl}/ui/error`,
    login_ui_url: `${sdkUrl}/ui/login`,
    registration_ui_url: `${sdkUrl}/ui/registration`,
    recovery_ui_url: `${sdkUrl}/ui/recovery`,
    verification_ui_url: `${sdkUrl}/ui/verification`,
    settings_ui_url: `${sdkUrl}/ui/settings`,
    registration_enabled: false,
    recovery_enabled: false,
    verification_enabled: false,
  },
};

const root = document.getElementById('root');
root.dataset.challenge = consentRequest.challenge;
createRoot(root).render(
  <Consent consentChallenge={consentRequest} session={session} config={config} csrfToken={csrfToken} formActionUrl={`${here}/api/consent`} />,
);
