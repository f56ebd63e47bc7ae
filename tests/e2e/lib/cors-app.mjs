// The single-page app of cors.test.mjs: bundled for the browser with esbuild at test time and served from another
// origin than gatehouse. It does what Ory's docs tell SPA developers to do: browser flows with cookies, using
// @ory/client-fetch with `credentials: "include"` and @ory/client (axios) with `withCredentials: true`.
import * as fetchSdk from '@ory/client-fetch';
import * as axiosSdk from '@ory/client';

const csrf = (flow) => flow.ui.nodes.find((n) => n.attributes?.name === 'csrf_token')?.attributes.value;

/** The HTTP status of a rejected SDK call (fetch: ResponseError.response; axios: error.response). */
async function statusOf(promise) {
  try {
    await promise;
    return 200;
  } catch (err) {
    if (err?.response?.status) return err.response.status;
    throw err;
  }
}

/** Registration, toSession, logout, toSession (401), login, toSession with one SDK; resolves to what happened. */
async function run(api, unwrap, email, password) {
  const steps = {};
  const registration = await unwrap(api.createBrowserRegistrationFlow());
  steps.registrationCsrf = Boolean(csrf(registration));
  const registered = await unwrap(api.updateRegistrationFlow({
    flow: registration.id,
    updateRegistrationFlowBody: { method: 'password', csrf_token: csrf(registration), traits: { email }, password },
  }));
  steps.registeredEmail = registered.identity.traits.email;
  steps.registeredWithoutToken = registered.session_token === undefined;
  steps.sessionAfterRegistration = (await unwrap(api.toSession())).identity.traits.email;

  const logout = await unwrap(api.createBrowserLogoutFlow());
  await api.updateLogoutFlow({ token: logout.logout_token });
  steps.statusAfterLogout = await statusOf(api.toSession());

  const login = await unwrap(api.createBrowserLoginFlow());
  const loggedIn = await unwrap(api.updateLoginFlow({
    flow: login.id,
    updateLoginFlowBody: { method: 'password', csrf_token: csrf(login), identifier: email, password },
  }));
  steps.loginEmail = loggedIn.session.identity.traits.email;
  steps.sessionAfterLogin = (await unwrap(api.toSession())).identity.traits.email;

  // A submit without the CSRF token is refused cross-origin too.
  const again = await unwrap(api.createBrowserLoginFlow({ refresh: true }));
  steps.statusWithoutCsrf = await statusOf(api.updateLoginFlow({
    flow: again.id,
    updateLoginFlowBody: { method: 'password', csrf_token: 'wrong', identifier: email, password },
  }));
  return steps;
}

/** Names the step and the answer when a call fails, so a test failure says what went wrong. */
async function described(promise) {
  try {
    return await promise;
  } catch (err) {
    const response = err?.response;
    if (!response) throw err;
    const body = typeof response.text === 'function' ? await response.text() : JSON.stringify(response.data);
    throw new Error(`HTTP ${response.status}: ${body}`);
  }
}

window.runWithFetchSdk = (basePath, email, password) =>
  // The fetch client sends no Accept header of its own and a browser's fetch() sends */*, which Kratos (and so
  // Gatehouse) answers with the 303 for HTML clients; Ory Elements configures the client exactly like this.
  described(run(new fetchSdk.FrontendApi(new fetchSdk.Configuration({ basePath, credentials: 'include', headers: { Accept: 'application/json' } })), (p) => p, email, password));

window.runWithAxiosSdk = (basePath, email, password) =>
  described(run(new axiosSdk.FrontendApi(new axiosSdk.Configuration({ basePath, baseOptions: { withCredentials: true } })), async (p) => (await p).data, email, password));
