// saml-login's demand watch: installed in every page before the IdP's scripts run
// (DevTools Page.addScriptToEvaluateOnNewDocument in headless Chromium, a user script in
// the webview). It notes what the page asks for that a browser of ours may not be able to
// give: a WebAuthn ceremony (navigator.credentials.get/create with `publicKey`) and Okta
// Verify's loopback probe (Okta FastPass). saml-login reads the notes with PROBE_JS
// (demand.rs). `config.passOn`: let the call go on to the browser's own WebAuthn (a
// visible Chromium, where a person can answer it); otherwise it never settles.
(function () {
  'use strict';
  var config = __SAML_LOGIN_DEMAND_CONFIG__;
  if (window.__samlLoginDemands) {
    return;
  }
  var seen = [];
  function note(kind) {
    if (seen.indexOf(kind) < 0) {
      seen.push(kind);
    }
  }
  Object.defineProperty(window, '__samlLoginDemands', {
    value: function () { return seen.slice(); },
    enumerable: false, configurable: false, writable: false
  });
  function pending() {
    return new Promise(function () {});
  }
  function watch(target, name, kind) {
    var original = target && typeof target[name] === 'function' ? target[name] : null;
    return function (options) {
      if (options && options.publicKey) {
        note(kind);
        if (!config.passOn || !original) {
          return pending();
        }
      }
      if (!original) {
        return Promise.reject(new DOMException('saml-login: not supported here', 'NotSupportedError'));
      }
      return original.apply(this, arguments);
    };
  }
  var proto = window.CredentialsContainer && window.CredentialsContainer.prototype;
  if (proto && typeof proto.get === 'function') {
    proto.get = watch(proto, 'get', 'passkey');
    proto.create = watch(proto, 'create', 'passkey-registration');
  } else if (!navigator.credentials) {
    // WebKitGTK without WebAuthn: a page that calls it unguarded is noted too.
    var stub = {};
    stub.get = watch(null, 'get', 'passkey');
    stub.create = watch(null, 'create', 'passkey-registration');
    stub.store = function () { return Promise.reject(new DOMException('not supported', 'NotSupportedError')); };
    stub.preventSilentAccess = function () { return Promise.resolve(); };
    try {
      Object.defineProperty(navigator, 'credentials', { value: stub, configurable: true });
    } catch (e) { /* read-only: nothing to watch */ }
  }
  // Okta Verify answers Okta FastPass's probe on fixed loopback ports.
  var OKTA_VERIFY = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\]):(8769|651[1-5][12])\/probe/i;
  function probed(url) {
    try {
      if (OKTA_VERIFY.test(String(url && url.url ? url.url : url))) {
        note('okta-verify-probe');
      }
    } catch (e) { /* not a URL */ }
  }
  if (typeof window.fetch === 'function') {
    var originalFetch = window.fetch;
    window.fetch = function (input) {
      probed(input);
      return originalFetch.apply(this, arguments);
    };
  }
  if (window.XMLHttpRequest) {
    var originalOpen = XMLHttpRequest.prototype.open;
    XMLHttpRequest.prototype.open = function (method, url) {
      probed(url);
      return originalOpen.apply(this, arguments);
    };
  }
})();
