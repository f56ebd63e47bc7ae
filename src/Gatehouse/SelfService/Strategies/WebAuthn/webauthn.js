// Gatehouse — browser side of the passkey and webauthn methods, served at /.well-known/ory/webauthn.js.
// It defines the global functions the flows' nodes name in onclick/onload (and their onclickTrigger/onloadTrigger),
// under the names Ory's UIs call: oryWebAuthnLogin, oryWebAuthnRegistration, oryPasskeyLogin,
// oryPasskeyLoginAutocompleteInit, oryPasskeyRegistration, oryPasskeySettingsRegistration (and the older
// double-underscore names). Each runs the WebAuthn ceremony with the options the server put in the form, writes the
// browser's answer (base64url JSON) into the hidden result field and submits that field's form.
(function () {
  "use strict";
  if (typeof window === "undefined" || window.__oryWebAuthnInitialized) return;

  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  function fromB64url(text) {
    var b64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function toB64url(buffer) {
    if (!buffer) return "";
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function byName(name) {
    return document.getElementsByName(name)[0] || null;
  }

  function parse(value) {
    return typeof value === "string" ? JSON.parse(value) : JSON.parse(JSON.stringify(value));
  }

  // Turns the server's JSON options ({publicKey: …} with base64url byte fields) into what the browser API takes.
  function decodeOptions(options) {
    var pk = options.publicKey;
    pk.challenge = fromB64url(pk.challenge);
    if (pk.user && pk.user.id) pk.user.id = fromB64url(pk.user.id);
    ["allowCredentials", "excludeCredentials"].forEach(function (list) {
      if (Array.isArray(pk[list])) {
        pk[list] = pk[list].map(function (c) {
          var copy = Object.assign({}, c);
          copy.id = fromB64url(c.id);
          return copy;
        });
      }
    });
    return options;
  }

  function attestationJson(credential) {
    var response = credential.response;
    var transports = typeof response.getTransports === "function" ? response.getTransports() : [];
    return JSON.stringify({
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toB64url(response.attestationObject),
        clientDataJSON: toB64url(response.clientDataJSON),
        transports: transports,
      },
    });
  }

  function assertionJson(credential) {
    var response = credential.response;
    return JSON.stringify({
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toB64url(response.authenticatorData),
        clientDataJSON: toB64url(response.clientDataJSON),
        signature: toB64url(response.signature),
        userHandle: toB64url(response.userHandle),
      },
    });
  }

  function submitWith(resultEl, value) {
    resultEl.value = value;
    var form = resultEl.closest("form");
    if (form) form.submit();
  }

  function unsupported() {
    console.warn("[Gatehouse] This browser does not support WebAuthn (passkeys and security keys).");
  }

  function report(err) {
    if (err && err.name === "SecurityError") {
      console.error("[Gatehouse] WebAuthn refused this page's origin or relying party id; check selfservice.methods.<passkey|webauthn>.config.rp.", err);
    } else {
      console.error("[Gatehouse] The WebAuthn ceremony did not complete:", err);
    }
  }

  function webAuthnLogin(options, resultSelector, triggerSelector) {
    if (!supported) return unsupported();
    var trigger = document.querySelector(triggerSelector || '[name="webauthn_login_trigger"]');
    var opts = decodeOptions(parse(options || trigger.value));
    navigator.credentials.get(opts).then(function (credential) {
      submitWith(document.querySelector(resultSelector || '[name="webauthn_login"]'), assertionJson(credential));
    }, report);
  }

  function webAuthnRegistration(options, resultSelector, triggerSelector) {
    if (!supported) return unsupported();
    var trigger = document.querySelector(triggerSelector || '[name="webauthn_register_trigger"]');
    var opts = decodeOptions(parse(options || trigger.value));
    navigator.credentials.create(opts).then(function (credential) {
      submitWith(document.querySelector(resultSelector || '[name="webauthn_register"]'), attestationJson(credential));
    }, report);
  }

  function abortConditional(reason) {
    if (window.abortPasskeyConditionalUI) {
      window.abortPasskeyConditionalUI.abort(reason);
      window.abortPasskeyConditionalUI = undefined;
    }
  }

  // Passkey autofill: a pending conditional-mediation request the browser answers when the user picks a passkey
  // offered in the identifier field (autocomplete="username webauthn").
  async function passkeyLoginAutocompleteInit() {
    var dataEl = byName("passkey_challenge");
    var resultEl = byName("passkey_login");
    var identifierEl = byName("identifier");
    if (!dataEl || !resultEl || !identifierEl) return;
    if (!supported || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return unsupported();
    if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
    var opts = decodeOptions(parse(dataEl.value));
    abortConditional("A new passkey autofill request replaces this one.");
    var controller = new AbortController();
    window.abortPasskeyConditionalUI = controller;
    navigator.credentials.get({ publicKey: opts.publicKey, mediation: "conditional", signal: controller.signal }).then(function (credential) {
      submitWith(resultEl, assertionJson(credential));
    }, function (err) {
      if (!err || err.name !== "AbortError") report(err);
    });
  }

  function passkeyLogin() {
    var dataEl = byName("passkey_challenge");
    var resultEl = byName("passkey_login");
    if (!dataEl || !resultEl) return;
    if (!supported) return unsupported();
    abortConditional("The passkey button was pressed.");
    var opts = decodeOptions(parse(dataEl.value));
    navigator.credentials.get({ publicKey: opts.publicKey }).then(function (credential) {
      submitWith(resultEl, assertionJson(credential));
    }, function (err) {
      report(err);
      // Offer autofill again after a cancelled or failed prompt.
      return passkeyLoginAutocompleteInit();
    });
  }

  function passkeyRegistration() {
    var dataEl = byName("passkey_create_data");
    var resultEl = byName("passkey_register");
    if (!dataEl || !resultEl) return;
    if (!supported) return unsupported();
    var data = parse(dataEl.value);
    var form = dataEl.closest("form");
    var names = Array.isArray(data.displayNameFieldNames) && data.displayNameFieldNames.length ? data.displayNameFieldNames : [data.displayNameFieldName];
    var displayName = "";
    for (var i = 0; i < names.length && !displayName; i++) {
      var field = names[i] && form ? form.querySelector('[name="' + names[i] + '"]') : null;
      if (field && field.value) displayName = field.value;
    }
    var opts = data.credentialOptions;
    opts.publicKey.user.name = displayName;
    opts.publicKey.user.displayName = displayName;
    opts = decodeOptions(opts);
    navigator.credentials.create(opts).then(function (credential) {
      submitWith(resultEl, attestationJson(credential));
    }, report);
  }

  function passkeySettingsRegistration() {
    var dataEl = byName("passkey_create_data");
    var resultEl = byName("passkey_settings_register");
    if (!dataEl || !resultEl) return;
    if (!supported) return unsupported();
    var opts = decodeOptions(parse(dataEl.value));
    navigator.credentials.create(opts).then(function (credential) {
      submitWith(resultEl, attestationJson(credential));
    }, report);
  }

  var functions = {
    oryWebAuthnLogin: webAuthnLogin,
    oryWebAuthnRegistration: webAuthnRegistration,
    oryPasskeyLogin: passkeyLogin,
    oryPasskeyLoginAutocompleteInit: passkeyLoginAutocompleteInit,
    oryPasskeyRegistration: passkeyRegistration,
    oryPasskeySettingsRegistration: passkeySettingsRegistration,
  };
  Object.keys(functions).forEach(function (name) {
    window[name] = functions[name];
    window["__" + name] = functions[name]; // the names Ory Elements v0 calls
  });
  window.__oryWebAuthnInitialized = true;
  window.dispatchEvent(new CustomEvent("oryWebAuthnInitialized"));
})();
