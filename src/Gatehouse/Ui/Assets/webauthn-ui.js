// Gatehouse built-in pages: binds the passkey / security-key buttons and fields to the functions of
// /.well-known/ory/webauthn.js (no inline handlers: the pages' CSP allows only same-origin script files), and shows the
// buttons only where the browser has WebAuthn; elsewhere a short text says to sign in another way.
(function () {
  "use strict";
  var allowed = ["oryWebAuthnLogin", "oryWebAuthnRegistration", "oryPasskeyLogin", "oryPasskeyLoginAutocompleteInit",
    "oryPasskeyRegistration", "oryPasskeySettingsRegistration"];
  var supported = !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create);

  function whenReady(fn) {
    if (window.__oryWebAuthnInitialized) fn();
    else window.addEventListener("oryWebAuthnInitialized", fn, { once: true });
  }

  function call(name) {
    if (allowed.indexOf(name) < 0) return;
    whenReady(function () { window[name](); });
  }

  function init() {
    if (!supported) {
      document.querySelectorAll(".webauthn-unsupported").forEach(function (el) { el.hidden = false; });
      return;
    }
    document.querySelectorAll("button[data-webauthn-trigger]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function (event) {
        event.preventDefault();
        call(button.getAttribute("data-webauthn-trigger"));
      });
    });
    document.querySelectorAll("input[data-webauthn-onload]").forEach(function (input) {
      call(input.getAttribute("data-webauthn-onload"));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
