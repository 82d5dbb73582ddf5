// A form is sent once. A double click, or a second click on a page that is slow to answer,
// would otherwise send it twice: two incidents opened, or a note the append-only timeline
// can never take back.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post") return;
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    // Disabled only after this turn: the browser has taken the pressed button's name and
    // value (a status change names its step) into the request by then.
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    }, 0);
  });
  // A form that changes one section of a page answers with the page at that section
  // (/incidents/7#compensation), below the fold where the page's messages are shown. They
  // move to the top of that section, where the reader lands: "waiting for Manager approval"
  // is read, not scrolled past.
  document.addEventListener("DOMContentLoaded", function () {
    const flashes = document.querySelector("main > .flashes");
    const section = flashes && location.hash.length > 1 &&
      document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!section || section.contains(flashes)) return;
    const heading = section.querySelector("h2");
    section.insertBefore(flashes, heading && heading.parentNode === section ? heading.nextSibling
                                                                            : section.firstChild);
    section.scrollIntoView();
  });
  // Back to a page whose form was sent (the browser's page cache): it can be used again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
      form.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
    });
  });
})();
