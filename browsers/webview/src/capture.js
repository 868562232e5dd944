// saml-login webview capture hook. Installed as a WebKit user script (main frame only,
// at document start). The Rust side fills in `config` below as a JSON object literal
// {origin, callback, token} before installation.
(function () {
  'use strict';
  var config = __SAML_LOGIN_CONFIG__;
  // Only the IdP's own pages may report the callback form. Other origins get no hook at
  // all (and never see the token: it lives only in this closure).
  if (window.location.origin !== config.origin) {
    return;
  }
  var callback = new URL(config.callback);

  function isLoopback(host) {
    return host === 'localhost' || /^127\./.test(host) || host === '[::1]';
  }
  function port(u) {
    if (u.port) {
      return u.port;
    }
    return u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '';
  }
  function path(u) {
    var p = u.pathname;
    return p.length > 1 ? p.replace(/\/+$/, '') : p;
  }
  // Every AWS SAML sign-in endpoint (callback_url = aws); the Rust side checks again.
  var AWS_SIGNIN = /^([a-z0-9-]+\.)?signin\.(aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)$/;
  function isAwsSignin(u) {
    return u.protocol === 'https:' && port(u) === '443' &&
      AWS_SIGNIN.test(u.hostname.toLowerCase()) &&
      (u.pathname === '/saml' || /^\/saml\/acs\/[^\/]+$/.test(u.pathname));
  }
  function isCallback(u) {
    if (config.awsSignin) {
      return isAwsSignin(u);
    }
    var sameHost = (isLoopback(u.hostname) && isLoopback(callback.hostname)) ||
      u.hostname.toLowerCase() === callback.hostname.toLowerCase();
    return u.protocol === callback.protocol && sameHost &&
      port(u) === port(callback) && path(u) === path(callback);
  }
  // The form's action and method as the browser would use them. Read attributes rather
  // than `form.action`/`form.method`: an input named "action" shadows those properties.
  function target(form, submitter) {
    var action = form.getAttribute('action');
    var method = form.getAttribute('method');
    if (submitter && submitter.hasAttribute && submitter.hasAttribute('formaction')) {
      action = submitter.getAttribute('formaction');
    }
    if (submitter && submitter.hasAttribute && submitter.hasAttribute('formmethod')) {
      method = submitter.getAttribute('formmethod');
    }
    var url;
    try {
      url = new URL(action || document.URL, document.baseURI);
    } catch (e) {
      return null;
    }
    return { url: url, method: (method || 'get').toLowerCase() };
  }
  function fields(form, submitter) {
    var data;
    try {
      data = submitter ? new FormData(form, submitter) : new FormData(form);
    } catch (e) {
      data = new FormData(form);
    }
    var out = [];
    data.forEach(function (value, key) {
      if (typeof value === 'string') {
        out.push([key, value]);
      }
    });
    return out;
  }
  // True when `form` posts to the callback: the fields went to saml-login instead.
  function capture(form, submitter) {
    if (!(form instanceof HTMLFormElement)) {
      return false;
    }
    var t = target(form, submitter);
    if (!t || t.method !== 'post' || !isCallback(t.url)) {
      return false;
    }
    // Every attempt is reported: Rust takes the first one it accepts.
    window.ipc.postMessage(JSON.stringify({
      token: config.token,
      action: t.url.href,
      fields: fields(form, submitter)
    }));
    return true;
  }

  // A scripted form.submit() (Auth0's auto-posting page) fires no submit event.
  var originalSubmit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () {
    if (capture(this, null)) {
      return undefined;
    }
    return originalSubmit.apply(this, arguments);
  };
  // A user's click on the form's button, or requestSubmit(): capture phase, before the
  // page's own listeners.
  window.addEventListener('submit', function (event) {
    if (capture(event.target, event.submitter || null)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
