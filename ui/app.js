() => {
  // Clicking a citation marker [n] shows that answer's sources and selects source n.
  // Delegated on the document because Gradio re-renders chat messages and the panel.
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.cite") : null;
    if (!link) return;
    event.preventDefault();
    const id = (link.getAttribute("href") || "").replace(/^#/, "");
    const card = /^src-\d+-\d+$/.test(id) ? document.getElementById(id) : null;
    if (!card) return;
    const panel = card.closest(".sources-panel");
    panel.querySelectorAll(".turn.shown").forEach((el) => el.classList.remove("shown"));
    panel.querySelectorAll(".source.selected").forEach((el) => el.classList.remove("selected"));
    card.closest(".turn").classList.add("shown");
    card.classList.add("selected");
    card.scrollIntoView({ behavior: "smooth", block: "center" });
  });
}
