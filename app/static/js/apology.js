// The apology check while typing: the server re-checks the letter (debounced) and answers with
// the check panel's findings, its checklist of parts and the marked copy of the letter, which
// replace the ones the page was served with. Without JavaScript the same panel shows the saved
// version, and its quotes jump to the marked copy instead of selecting text in the editor.
(function () {
  "use strict";
  const form = document.getElementById("letter-form");
  const body = form && form.querySelector("textarea[name=body]");
  const signers = form && form.querySelector("select[name=signatories]");
  const boxes = {
    findings: document.getElementById("findings"),
    elements: document.getElementById("elements"),
    mirror: document.getElementById("letter-mirror"),
  };
  let timer = null;
  let seq = 0;
  // The text the panel's spans point into: what was served, then what was last checked.
  let checked = body ? body.defaultValue : "";

  // Spans count code points (as Python does); a JavaScript string counts UTF-16 units, which
  // differ after any character beyond the BMP (an emoji).
  function unitOffset(text, codePoints) {
    let units = 0;
    for (let i = 0; i < codePoints && units < text.length; i++) {
      units += text.codePointAt(units) > 0xffff ? 2 : 1;
    }
    return units;
  }

  // Select [start, end) in the editor and scroll it into view: Chromium and Firefox scroll a
  // textarea to its caret when it takes focus, so the caret is put at the start first.
  function select(start, end) {
    const text = body.value;
    const from = unitOffset(text, start);
    const to = unitOffset(text, end);
    body.blur();
    body.setSelectionRange(from, from);
    body.focus();
    body.setSelectionRange(from, to);
  }

  function flash(target) {
    if (!target) return;
    target.classList.remove("flash-mark");
    void target.offsetWidth;  // restart the animation on a second click
    target.classList.add("flash-mark");
    target.scrollIntoView({block: "nearest"});
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a.quote[data-start]");
    if (!link) return;
    const mark = document.getElementById("m-" + link.dataset.start);
    if (!body || body.value !== checked) {
      // No editor, or the text moved on since it was checked: show the sentence in the copy.
      if (mark) {
        event.preventDefault();
        flash(mark);
      }
      return;
    }
    event.preventDefault();
    select(Number(link.dataset.start), Number(link.dataset.end));
    flash(mark);
  });

  // The first sentence with a problem in view in the marked copy, which scrolls on its own on a
  // wide screen: a placeholder near the signature is otherwise below its fold.
  const firstFlag = boxes.mirror && boxes.mirror.querySelector("mark.flag");
  if (firstFlag && boxes.mirror.scrollHeight > boxes.mirror.clientHeight) {
    boxes.mirror.scrollTop = Math.max(0, firstFlag.offsetTop - boxes.mirror.offsetTop - boxes.mirror.clientHeight / 3);
  }

  if (!form || !body) return;

  async function check() {
    const mine = ++seq;
    const text = body.value;
    const emails = signers ? Array.from(signers.selectedOptions, (o) => o.value) : [];
    let response;
    try {
      response = await fetch(form.dataset.checkUrl, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf},
        body: JSON.stringify({text: text, language: form.dataset.language, signatory_emails: emails}),
      });
    } catch (err) {
      return;  // offline for a moment: the next pause in typing tries again
    }
    if (!response.ok || mine !== seq) return;
    const data = await response.json();
    if (mine !== seq) return;
    // The server renders these from the text with Jinja's escaping: no typed text reaches
    // the page unescaped.
    for (const [name, box] of Object.entries(boxes)) {
      if (box && typeof data.html[name] === "string") box.innerHTML = data.html[name];
    }
    checked = text;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }
  body.addEventListener("input", schedule);
  if (signers) signers.addEventListener("change", schedule);
  // A browser that restored typed text (back button, reload) shows a panel for the saved text.
  if (body.value !== body.defaultValue) check();
})();
