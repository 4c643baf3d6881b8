/* Passkeys (WebAuthn) for officers: enrollment, adding a passkey, sign-in (button and
   autofill / conditional mediation), and confirming the kiosk's exit (button only).
   Options come from the server as py_webauthn's JSON; the browser's own JSON methods are
   used when present, with a small base64url fallback.
   Every POST carries the CSRF header. Messages shown to people come from data-msg-*
   attributes (translated on the server). */
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"] || "";
    } catch (e) {
      return "";
    }
  }

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBuffers(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      user: Object.assign({}, json.user, { id: toBuffer(json.user.id) }),
      excludeCredentials: withBuffers(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      allowCredentials: withBuffers(json.allowCredentials),
    });
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = toBase64url(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toBase64url(response.authenticatorData);
      out.response.signature = toBase64url(response.signature);
      if (response.userHandle) out.response.userHandle = toBase64url(response.userHandle);
    }
    return out;
  }

  function ServerError(message, field) {
    this.name = "ServerError";
    this.message = message;
    this.field = field || "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrftoken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new ServerError(data.error || "", data.field);
        return data;
      });
    });
  }

  function show(root, selector, text) {
    var element = root.querySelector(selector);
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  }

  // An error beside the name field (as the server-rendered forms show theirs), or none.
  function nameError(root, text) {
    var input = root.querySelector("[data-passkey-name]");
    if (!input) return false;
    var id = input.id + "-loi";
    var element = document.getElementById(id);
    if (!element && text) {
      element = document.createElement("span");
      element.className = "field-error";
      element.id = id;
      input.insertAdjacentElement("afterend", element);
    }
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(
      function (value) { return value && value !== id; });
    if (text) {
      element.textContent = text;
      described.push(id);
      input.setAttribute("aria-invalid", "true");
    } else {
      if (element) element.remove();
      input.removeAttribute("aria-invalid");
    }
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
    return true;
  }

  function fail(root, error) {
    show(root, "[data-passkey-status]", "");
    if (error && error.name === "AbortError") return;
    if (error && error.name === "ServerError" && error.field === "name" && error.message &&
        nameError(root, error.message)) {
      root.querySelector("[data-passkey-name]").focus();
      return;
    }
    var message = root.dataset.msgFailed;
    if (error && error.name === "ServerError" && error.message) message = error.message;
    else if (error && error.name === "NotAllowedError") message = root.dataset.msgCancelled;
    else if (error && error.name === "InvalidStateError" && root.dataset.msgExists) {
      message = root.dataset.msgExists;
    }
    show(root, "[data-passkey-alert]", message);
  }

  function supported(root) {
    if (window.PublicKeyCredential && navigator.credentials) return true;
    show(root, "[data-passkey-alert]", root.dataset.msgUnsupported);
    return false;
  }

  function busy(root, on) {
    var button = root.querySelector("[data-passkey-start]");
    if (button) button.disabled = on;
    show(root, "[data-passkey-status]", on ? root.dataset.msgBusy : "");
    if (on) show(root, "[data-passkey-alert]", "");
  }

  function setUpRegister(root) {
    var button = root.querySelector("[data-passkey-start]");
    if (!button) return;
    button.addEventListener("click", function () {
      if (!supported(root)) return;
      busy(root, true);
      nameError(root, "");
      var name = root.querySelector("[data-passkey-name]");
      postJSON(root.dataset.optionsUrl, name ? { name: name.value } : {})
        .then(function (options) {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        })
        .then(function (credential) {
          var body = credentialJSON(credential);
          if (name) body.name = name.value;
          return postJSON(root.dataset.verifyUrl, body);
        })
        .then(function (result) { window.location.assign(result.redirect); })
        .catch(function (error) { busy(root, false); fail(root, error); });
    });
  }

  function setUpSignIn(root) {
    var pending = null;

    function finish(credential) {
      busy(root, true);
      return postJSON(root.dataset.verifyUrl, credentialJSON(credential))
        .then(function (result) { window.location.assign(result.redirect); });
    }

    function ask(conditional) {
      if (pending) pending.abort();
      var controller = new AbortController();
      pending = controller;
      return postJSON(root.dataset.optionsUrl).then(function (options) {
        var request = { publicKey: requestOptions(options), signal: controller.signal };
        if (conditional) request.mediation = "conditional";
        return navigator.credentials.get(request);
      }).then(function (credential) {
        if (pending === controller) pending = null;
        if (credential) return finish(credential);
      });
    }

    function startAutofill() {
      // A confirmation (the kiosk's exit) asks only when its button is pressed.
      if (root.hasAttribute("data-passkey-button-only")) return;
      if (!window.PublicKeyCredential || !PublicKeyCredential.isConditionalMediationAvailable) {
        return;
      }
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available) return;
        ask(true).catch(function (error) {
          busy(root, false);
          fail(root, error);
        });
      });
    }

    var button = root.querySelector("[data-passkey-start]");
    if (button) {
      button.addEventListener("click", function () {
        if (!supported(root)) return;
        show(root, "[data-passkey-alert]", "");
        ask(false).catch(function (error) {
          busy(root, false);
          fail(root, error);
          startAutofill();
        });
      });
    }
    startAutofill();
  }

  function init() {
    document.querySelectorAll("[data-passkey-register]").forEach(setUpRegister);
    document.querySelectorAll("[data-passkey-sign-in]").forEach(setUpSignIn);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
