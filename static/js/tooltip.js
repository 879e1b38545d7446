// Tooltips that also work on keyboard focus and on touch: a control's title, shown as text
// beside it (the mouse keeps the browser's own tooltip).

export function enableTooltips(root = document) {
  const tip = document.createElement("div");
  tip.className = "tip";
  tip.setAttribute("role", "tooltip");
  tip.id = "tip";
  tip.hidden = true;
  document.body.append(tip);
  let timer = null;
  const textOf = (el) => el?.closest("[title]")?.getAttribute("title") || "";
  const show = (el) => {
    const text = textOf(el);
    if (!text) return;
    tip.textContent = text;
    tip.hidden = false;
    const r = el.getBoundingClientRect();
    const left = Math.max(8, Math.min(window.scrollX + r.left, window.scrollX + document.documentElement.clientWidth - 290));
    tip.style.left = `${left}px`;
    tip.style.top = `${window.scrollY + r.bottom + 6}px`;
    el.setAttribute("aria-describedby", "tip");
  };
  const hide = (el) => {
    tip.hidden = true;
    if (el?.getAttribute?.("aria-describedby") === "tip") el.removeAttribute("aria-describedby");
  };
  root.addEventListener("focusin", (e) => { if (e.target.matches(":focus-visible")) show(e.target); });
  root.addEventListener("focusout", (e) => hide(e.target));
  root.addEventListener("touchstart", (e) => {
    clearTimeout(timer);
    show(e.target);
    timer = setTimeout(() => hide(e.target), 3000);
  }, { passive: true });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(document.activeElement); });
}
