/* Khai Báo — what is typed into a declaration form is kept in this tab and comes back.
 *
 * As the person types (and when the form is told to sign in again, 401), the form's input is
 * kept in this tab's sessionStorage: nothing is sent anywhere and it is gone when the tab
 * closes. Cheap Android phones reload a background tab whenever the camera, the gallery or the
 * SMS app is opened; a session can end mid-form. This file
 *  - keeps the input of form#khai-bao / form#khai-bao-den as it changes;
 *  - on the phone step: says why ([data-draft-notice]) and, once the code is accepted, goes
 *    on to the form with "khoi-phuc=1";
 *  - on the form, loaded again: puts the input back — ticks, text, selects, the added persons
 *    and their places — with a note (template#form-draft-restored), and does NOT send it.
 *    Hidden fields (CSRF token, client_ref, …) are never restored, and a tick only for an
 *    option the new page has (another phone has other persons);
 *  - forgets it once the declaration is sent or kept by the offline outbox; "Đăng xuất"
 *    forgets this tab's drafts (offline_queue.js).
 * No inline script anywhere (strict CSP).
 */
(function () {
  "use strict";

  var FORMS = "form#khai-bao, form#khai-bao-den";
  var PREFIX = "khaibao-draft:";
  var MARK = "khoi-phuc=1";
  var PERSON = /^p(\d+)_/;
  var NEVER = { _csrf_token: 1, client_ref: 1, tiep: 1, _draft_owner: 1 };
  var restoring = false;  // putting a draft back: its own swaps are not typing

  function pathOf(url) {
    try { return new URL(url, location.href).pathname; } catch (e) { return ""; }
  }
  function read(path) {
    try {
      var text = sessionStorage.getItem(PREFIX + path);
      return text === null ? null : Array.from(new URLSearchParams(text));
    } catch (e) { return null; }
  }
  function forget(path) {
    try { sessionStorage.removeItem(PREFIX + path); } catch (e) { /* no storage */ }
  }
  function keep(form) {
    try {
      var draft = new URLSearchParams(new FormData(form));
      draft.set("_draft_owner", form.getAttribute("data-draft-owner") || "");
      sessionStorage.setItem(PREFIX + pathOf(form.getAttribute("action")), draft);
    } catch (e) { /* no storage */ }
  }

  // ---- keeping it ------------------------------------------------------------------------
  var keepTimers = new WeakMap();
  function keepSoon(form) {
    clearTimeout(keepTimers.get(form));
    keepTimers.set(form, setTimeout(function () {
      if (document.body.contains(form)) keep(form);
    }, 250));
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = event.target && event.target.closest && event.target.closest(FORMS);
      if (form) keepSoon(form);
    });
  });
  // A person added, a place picked (htmx swaps inside the form).
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest(FORMS);
    if (form && !restoring) keepSoon(form);
  });
  // Told to sign in again: keep it now, before the page goes to the phone step.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest(FORMS);
    if (form && event.detail.xhr.status === 401) keep(form);
  });

  // ---- the phone step --------------------------------------------------------------------
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var detail = event.detail;
    var target = detail.xhr.getResponseHeader("HX-Redirect");
    if (!detail.elt.matches('form[action="/xac-thuc/ma"]') || detail.xhr.status !== 200 ||
        !target || !read(pathOf(target))) return;
    event.preventDefault();
    location.assign(target + (target.indexOf("?") < 0 ? "?" : "&") + MARK);
  });

  // ---- putting it back -------------------------------------------------------------------
  // One htmx request, resolved once its answer has settled (or after a few seconds).
  function htmxRequest(url, options) {
    return new Promise(function (resolve) {
      var finished = false;
      function finish() {
        if (finished) return;
        finished = true;
        document.removeEventListener("htmx:afterSettle", finish);
        resolve();
      }
      window.htmx.ajax("GET", url, options).then(function () {
        document.addEventListener("htmx:afterSettle", finish);
        setTimeout(finish, 3000);
      }, finish);
    });
  }

  function persons(form) { return form.querySelectorAll("fieldset.person"); }

  // As many person fieldsets as were filled in ("Khai hộ người thân").
  function addPersons(form, wanted) {
    var count = persons(form).length;
    var button = document.getElementById("them-nguoi");
    if (count >= wanted || !button || !button.getAttribute("hx-get")) return Promise.resolve();
    return htmxRequest(button.getAttribute("hx-get"), {
      source: button, target: "#nguoi-moi", swap: "beforeend"
    }).then(function () {
      return persons(form).length > count ? addPersons(form, wanted) : null;
    });
  }

  function controls(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !NEVER[el.name] && el.type !== "hidden" && el.type !== "submit" &&
        el.type !== "button" && el.type !== "file" && !el.closest("fieldset.region-picker");
    });
  }

  // A region picker is set the way its search results set it: the server renders the
  // picker for the chosen place (deepest level kept, /dia-ban/chon?pick=…).
  function pickPlaces(form, values) {
    var chain = Promise.resolve();
    form.querySelectorAll("fieldset.region-picker").forEach(function (picker) {
      var hidden = picker.querySelector("input[type=hidden][name]");
      if (!hidden) return;
      var name = hidden.name;
      var code = (values[name] || [""])[0];
      Object.keys(values).forEach(function (key) {  // the levels, in page order
        if (key.indexOf(name + "_") === 0 && values[key][0]) code = values[key][0];
      });
      if (!code || code === hidden.value) return;
      chain = chain.then(function () {
        var current = document.getElementById(picker.id) || picker;
        var select = current.querySelector("select[hx-get]");
        if (!select) return null;
        return htmxRequest(select.getAttribute("hx-get"), {
          source: select, target: current, swap: "outerHTML", values: { pick: code }
        });
      });
    });
    return chain;
  }

  function restore(form, entries) {
    var order = [];  // the person indices of the draft, in page order
    entries.forEach(function (entry) {
      var match = PERSON.exec(entry[0]);
      if (match && order.indexOf(match[1]) < 0) order.push(match[1]);
    });
    return addPersons(form, order.length).then(function () {
      var fieldsets = persons(form);
      var values = {};
      entries.forEach(function (entry) {
        var name = entry[0].replace(PERSON, function (all, index) {
          var fieldset = fieldsets[order.indexOf(index)];
          return fieldset ? "p" + fieldset.getAttribute("data-person-index") + "_" : "-";
        });
        (values[name] = values[name] || []).push(entry[1]);
      });
      var used = {};
      controls(form).forEach(function (el) {
        var wanted = values[el.name];
        if (el.type === "checkbox" || el.type === "radio") {
          // Ticks come back only when the draft ticked an option this page has.
          var known = wanted && Array.prototype.some.call(form.elements, function (other) {
            return other.name === el.name && wanted.indexOf(other.value) >= 0;
          });
          if (known) el.checked = wanted.indexOf(el.value) >= 0;
          return;
        }
        if (!wanted) return;
        var value = wanted[used[el.name] = (used[el.name] || 0)];
        used[el.name] += 1;
        if (value === undefined) return;
        if (el.tagName === "SELECT" &&
            !Array.prototype.some.call(el.options, function (o) { return o.value === value; })) return;
        el.value = value;
      });
      // Set without change events: labels that follow a select catch up (citizen.js).
      form.dispatchEvent(new CustomEvent("form-draft-restored", { bubbles: true }));
      return pickPlaces(form, values);
    });
  }

  function showRestored(form) {
    var template = document.getElementById("form-draft-restored");
    if (!template || !template.content.firstElementChild) return;
    var note = template.content.firstElementChild.cloneNode(true);
    form.insertBefore(note, form.firstChild);
    note.scrollIntoView({ block: "center" });
    note.focus({ preventScroll: true });
  }

  // Sent, or kept by the offline outbox (offline_queue.js queues the form when the browser is
  // offline or the request cannot reach the server): the draft is not needed any more.
  function done(event) {
    var form = event.detail.elt;
    if (!form.matches(FORMS)) return;
    if (event.type === "htmx:beforeOnLoad" ? event.detail.xhr.status === 200
        : form.matches("[data-offline-queue]") &&
          (event.type === "htmx:sendError" || navigator.onLine === false)) {
      forget(pathOf(form.getAttribute("action")));
    }
  }
  ["htmx:beforeOnLoad", "htmx:sendError", "htmx:beforeRequest"].forEach(function (name) {
    document.addEventListener(name, done);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-draft-notice]").forEach(function (notice) {
      if (read(pathOf(notice.getAttribute("data-draft-notice")))) notice.hidden = false;
    });
    // After htmx has set up the page (its own DOMContentLoaded listener runs after this one).
    setTimeout(function () {
      if (!window.htmx) return;
      document.querySelectorAll(FORMS).forEach(function (form) {
        var path = pathOf(form.getAttribute("action"));
        var entries = path === location.pathname ? read(path) : null;
        if (!entries) return;
        forget(path);  // put back once; kept again once it is back
        // Only into a form of the phone that typed it: another phone signing in on this tab
        // must not see (or send) someone else's symptoms, relatives or ID numbers.
        var owner = entries.filter(function (entry) { return entry[0] === "_draft_owner"; });
        if (!owner.length || owner[0][1] !== form.getAttribute("data-draft-owner")) return;
        restoring = true;
        restore(form, entries).then(function () {
          restoring = false;
          keep(form);  // kept again: another reload right away finds it too
          showRestored(form);
        });
      });
    }, 0);
  });
})();
