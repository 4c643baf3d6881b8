/*
 * Khai Báo — the officer's check page (/kiemtra) and camera scanner (/kiemtra/quet).
 *
 * The form posts with htmx (text in the body); this adds:
 * - the field is emptied the moment a lookup is sent, not when its answer swaps in, and the
 *   typed text comes back after an error about it or when no answer came (scan_field.js,
 *   loaded before this file), selected here so it can be corrected or scanned over;
 * - the field is focused on /kiemtra, where the reader types into it — not on the camera
 *   page, where focusing would open the phone's keyboard;
 * - a short sound and vibration whose pattern follows the colour (result_signal.js, loaded
 *   before this file), and body[data-check-colour] for the page's layout;
 * - the strip of the last three results (#vua-kiem-tra: name and verdict, or the message),
 *   newest first, kept in this page only.
 * Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  var RECENT = 3;
  var lastResult = null;
  var scanField = window.KhaiBaoScanField.watch('check-form', '[data-check-input]');

  function input() { return document.querySelector('[data-check-input]'); }

  function text(root, selector) {
    var el = root.querySelector(selector);
    return el ? el.textContent.replace(/\s+/g, ' ').trim() : '';
  }

  function remember(result, colour) {
    var strip = document.getElementById('vua-kiem-tra');
    var list = strip && strip.querySelector('ol');
    if (!list) { return; }
    var name = text(result, '.check-name');
    var verdict = text(result, '.check-verdict') || text(result, '.check-message strong');
    if (!name && !verdict) { return; }
    var item = document.createElement('li');
    item.setAttribute('data-colour', colour);
    var who = document.createElement('span');
    who.className = 'check-recent-name';
    who.textContent = name;
    var what = document.createElement('span');
    what.className = 'check-recent-verdict';
    what.textContent = verdict;
    item.appendChild(who);
    item.appendChild(what);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > RECENT) { list.removeChild(list.lastChild); }
    strip.hidden = false;
  }

  function afterSwap(event) {
    var signal = window.KhaiBaoResultSignal;
    var onScanPage = !!document.querySelector('.check-on-scan');
    var field = input();
    if (field && scanField.isMine(event)) {
      if (scanField.answered(field) && !onScanPage) { field.select(); }
      if (!onScanPage && document.activeElement !== field) { field.focus(); }
    }
    var result = document.getElementById('ket-qua');
    if (result && result !== lastResult && result.hasAttribute('data-colour')) {
      lastResult = result; // a new result arrived (not just "Ghi nhận" inside the old one)
      var colour = result.getAttribute('data-colour');
      signal.play(colour, true);
      document.body.setAttribute('data-check-colour', colour);
      remember(result, colour);
    }
  }

  document.addEventListener('htmx:afterSwap', afterSwap);
  document.addEventListener('DOMContentLoaded', function () {
    lastResult = document.getElementById('ket-qua');
  });
}());
