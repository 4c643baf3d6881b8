/*
 * Khai Báo — officer pages. On a phone the officer menu is one row that scrolls sideways
 * (officer.css); this brings the current page's item into that row's view. Strict-CSP safe.
 */
(function () {
  'use strict';

  function showCurrent() {
    var menu = document.querySelector('.officer-menu');
    var current = menu && menu.querySelector('[aria-current=page]');
    if (!current || menu.scrollWidth <= menu.clientWidth) return;
    var row = menu.getBoundingClientRect();
    var item = current.getBoundingClientRect();
    if (item.left < row.left || item.right > row.right) {
      menu.scrollLeft += item.left - row.left - (row.width - item.width) / 2;
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', showCurrent);
  } else {
    showCurrent();
  }
}());
