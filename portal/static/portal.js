// The fee for the chosen delivery, shown as soon as it is chosen (the server renders the same
// figures; without this script the fee is next to each choice). No data leaves the page.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("fee-summary");
  if (!summary) return;
  const show = (input) => {
    const fee = input.dataset.fee;
    if (fee === undefined) return;
    summary.textContent = "";
    summary.append(summary.dataset.label + " ");
    const strong = document.createElement("strong");
    strong.textContent = fee === "0" ? summary.dataset.free : fee;
    summary.append(strong);
  };
  for (const input of document.querySelectorAll('input[name="delivery"]')) {
    input.addEventListener("change", () => show(input));
  }
  const focus = document.getElementById("error-summary");
  if (focus) focus.focus();
});
