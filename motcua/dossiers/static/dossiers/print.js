// Opened by "In phiếu": print as soon as the slip is laid out. Nothing else in the slip needs a script.
window.addEventListener("load", function () {
  window.print();
});
