/*
 * Khai Báo — the field a code is scanned or typed into, on the officer's check page and a
 * venue's scanner (check.js, venue_scan.js; load this before them).
 *
 * The field is emptied the moment a code is sent, not when its answer swaps in: a USB barcode
 * reader may already be typing the next person's code (a family passing together), and an
 * answer must not wipe what it typed since (the pages never swap the input itself). The typed
 * text comes back into the field when the answer is an error about it (#q-loi) or when no
 * answer came, unless a new code was begun.
 * API: window.KhaiBaoScanField.watch(formClass, inputSelector) returns
 * { isMine(event), answered(field) }: isMine tells whether an htmx event is this form's;
 * answered(field), called after the answer swapped in, marks the field (aria-invalid) and
 * returns true when it gave the typed text back.
 * Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  function watch(formClass, inputSelector) {
    var submitted = '';

    function input() { return document.querySelector(inputSelector); }

    function isMine(event) {
      var config = event.detail && event.detail.requestConfig;
      var elt = config && config.elt;
      return !!(elt && elt.classList && elt.classList.contains(formClass));
    }

    function giveBack(field) {
      if (field && field.value === '' && submitted) {
        field.value = submitted;
        return true;
      }
      return false;
    }

    document.addEventListener('htmx:beforeRequest', function (event) {
      var field = input();
      if (!isMine(event) || !field) { return; }
      submitted = field.value; // htmx has read the form already
      field.value = '';
    });
    function onFailure(event) { if (isMine(event)) { giveBack(input()); } }
    document.addEventListener('htmx:sendError', onFailure);
    document.addEventListener('htmx:responseError', onFailure);

    return {
      isMine: isMine,
      answered: function (field) {
        if (document.getElementById('q-loi')) {
          field.setAttribute('aria-invalid', 'true');
          return giveBack(field);
        }
        field.removeAttribute('aria-invalid');
        return false;
      }
    };
  }

  window.KhaiBaoScanField = { watch: watch };
}());
