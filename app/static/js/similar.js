// While an incident's title and description are typed, fetch matching playbooks
// (debounced). Without JavaScript the incident page lists them after submitting.
(function () {
  "use strict";
  const box = document.getElementById("similar");
  if (!box) return;
  const form = box.closest("form") || document;
  const title = form.querySelector("[name=title]");
  const description = form.querySelector("[name=description]");
  let timer = null;
  let seq = 0;

  async function refresh() {
    const text = [title && title.value, description && description.value].filter(Boolean).join("\n");
    const mine = ++seq;
    if (text.trim().length < 2) {
      box.replaceChildren();
      return;
    }
    const response = await fetch(box.dataset.url + "?text=" + encodeURIComponent(text.slice(0, 2000)),
                                 {headers: {"Accept": "text/html"}});
    if (!response.ok || mine !== seq) return;
    const html = await response.text();
    const parsed = new DOMParser().parseFromString(html, "text/html");
    box.replaceChildren(...parsed.body.childNodes);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }
  for (const field of [title, description]) {
    if (field) field.addEventListener("input", schedule);
  }
})();
