// Live apology check: re-runs the server-side check as the letter is typed (debounced).
// Without JavaScript the findings still update on every save.
(function () {
  "use strict";
  const form = document.getElementById("letter-form");
  if (!form) return;
  const body = form.querySelector("textarea[name=body]");
  const signers = form.querySelector("select[name=signatories]");
  const box = document.getElementById("findings");
  let timer = null;
  let seq = 0;

  function render(findings) {
    box.replaceChildren();
    if (!findings.length) {
      const ok = document.createElement("p");
      ok.className = "ok";
      ok.textContent = box.dataset.okText || "✓";
      box.appendChild(ok);
      return;
    }
    const list = document.createElement("ul");
    list.className = "findings";
    for (const f of findings) {
      const item = document.createElement("li");
      item.className = "finding finding-" + f.severity;
      item.dataset.code = f.code;
      const title = document.createElement("strong");
      title.textContent = f.title;
      const message = document.createElement("div");
      message.textContent = f.message;
      item.append(title, message);
      if (f.span) {
        const quote = document.createElement("q");
        quote.textContent = body.value.slice(f.span[0], f.span[1]);
        item.appendChild(quote);
      }
      list.appendChild(item);
    }
    box.appendChild(list);
  }

  async function check() {
    const mine = ++seq;
    const emails = signers ? Array.from(signers.selectedOptions, (o) => o.value) : [];
    const response = await fetch(form.dataset.checkUrl, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf},
      body: JSON.stringify({text: body.value, language: form.dataset.language, signatory_emails: emails}),
    });
    if (!response.ok || mine !== seq) return;
    const data = await response.json();
    render(data.findings);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }
  body.addEventListener("input", schedule);
  if (signers) signers.addEventListener("change", schedule);
})();
