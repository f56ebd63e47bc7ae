// The single-page app of passkey-spa.test.mjs: bundled for the browser with esbuild at test time and served from
// another origin than gatehouse. It does what an app built on @ory/client-fetch does with Kratos's passkey nodes:
// creates the browser flow with the SDK, renders the flow's nodes as a native form (the form posts to the flow's
// action), loads the flow's script node — gatehouse's /.well-known/ory/webauthn.js, with its integrity and
// crossorigin attributes — and leaves the ceremony to the functions that script defines.
import * as sdk from '@ory/client-fetch';

const api = (basePath) => new sdk.FrontendApi(new sdk.Configuration({ basePath, credentials: 'include', headers: { Accept: 'application/json' } }));

/** Loads a script node as an app renders it (every attribute the node has), resolving once it ran. */
function loadScript(attributes) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'node_type' || value === undefined || value === null || value === '') continue;
      if (name === 'async') script.async = Boolean(value);
      else script.setAttribute(name, String(value));
    }
    script.onload = () => resolve(true);
    script.onerror = () => reject(new Error(`the script node ${attributes.src} did not load (integrity or CORS)`));
    document.head.appendChild(script);
  });
}

/**
 * Creates a browser flow of `kind` ('registration' or 'login') and renders it; resolves to the triggers the nodes
 * name (onclickTrigger / onloadTrigger), so the test can press the one a user would.
 */
window.renderFlow = async (basePath, kind) => {
  const frontend = api(basePath);
  const flow = kind === 'registration' ? await frontend.createBrowserRegistrationFlow() : await frontend.createBrowserLoginFlow();
  const form = document.createElement('form');
  form.method = flow.ui.method;
  form.action = flow.ui.action;
  const triggers = [];
  const scripts = [];
  for (const node of flow.ui.nodes) {
    const a = node.attributes;
    if (node.type === 'script') scripts.push(a);
    if (node.type !== 'input') continue;
    if (a.onclickTrigger) triggers.push(a.onclickTrigger);
    if (a.onloadTrigger) triggers.push(a.onloadTrigger);
    if (a.type === 'submit' || a.type === 'button') continue; // the test calls the trigger itself
    const input = document.createElement('input');
    input.name = a.name;
    input.type = a.type === 'hidden' ? 'hidden' : 'text';
    if (a.value !== undefined && a.value !== null) input.value = typeof a.value === 'string' ? a.value : JSON.stringify(a.value);
    if (a.autocomplete) input.autocomplete = a.autocomplete;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  for (const s of scripts) await loadScript(s);
  return { triggers, scripts: scripts.map((s) => ({ src: s.src, integrity: s.integrity, crossorigin: s.crossorigin })) };
};

/** The session the browser's cookie names: the e-mail and how it was authenticated (or the HTTP status when none). */
window.whoAmI = async (basePath) => {
  try {
    const session = await api(basePath).toSession();
    return { email: session.identity.traits.email, methods: session.authentication_methods.map((m) => m.method), aal: session.authenticator_assurance_level };
  } catch (err) {
    return { status: err?.response?.status ?? String(err) };
  }
};

window.logOut = async (basePath) => {
  const frontend = api(basePath);
  const flow = await frontend.createBrowserLogoutFlow();
  await frontend.updateLogoutFlow({ token: flow.logout_token });
  return true;
};
