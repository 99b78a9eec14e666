// h("button", {class: "x", onclick: f}, "text", child...) -> element
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A short message in the corner: what a command did (kind: "ok" or "error").
export function toast(text, kind = "ok") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: "toast " + kind }, text);
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 3000);
}

// Asks before a destructive action (a modal dialog); resolves true if confirmed.
export function confirmAction(text, yes, no) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "confirm", "aria-label": text },
      h("form", { method: "dialog" }, h("p", null, text),
        h("menu", null, h("button", { value: "no", class: "ghost" }, no),
          h("button", { value: "yes", class: "danger" }, yes))));
    dlg.addEventListener("close", () => { resolve(dlg.returnValue === "yes"); dlg.remove(); });
    document.body.append(dlg);
    dlg.showModal();
  });
}
