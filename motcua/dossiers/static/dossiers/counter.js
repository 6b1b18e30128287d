// The counter screen's keyboard: the search box is the home position.
//   ↑ ↓ move through the procedures found, Enter opens the highlighted one — or, when none is
//   highlighted, asks the server (a dossier code typed or scanned from a slip's QR opens the dossier;
//   a search with one match opens its form). Alt+1 / Alt+2 / Alt+3 press the three outcome buttons,
//   Alt+P prints the slip, Esc comes back to the search box. In the form, Enter moves to the next
//   field instead of submitting: only the three outcome keys (or buttons) finish a dossier.
(function () {
  "use strict";

  let active = -1;

  function box() {
    return document.getElementById("counter-search");
  }

  function options() {
    return Array.from(document.querySelectorAll("#counter-results [role=option]"));
  }

  function highlight(index) {
    const items = options();
    if (!items.length) {
      active = -1;
      return;
    }
    active = (index + items.length) % items.length;
    items.forEach(function (item, i) {
      item.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    items[active].scrollIntoView({ block: "nearest" });
    box().setAttribute("aria-activedescendant", items[active].id);
  }

  function load(url) {
    htmx.ajax("GET", url, { target: "#workspace", swap: "innerHTML" });
  }

  function focusWorkspace() {
    const workspace = document.getElementById("workspace");
    if (!workspace) return;
    const target =
      workspace.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea") ||
      workspace.querySelector("[data-focus]") ||
      workspace.querySelector("#intake input:not([type=hidden]):not([type=radio]), #intake select, #intake textarea");
    if (target) target.focus();
  }

  const shortcuts = { Digit1: "receive", Digit2: "guidance", Digit3: "refuse" };
  const NOT_TEXT = ["submit", "button", "checkbox", "radio", "file", "reset"];

  function nextField(from) {
    const fields = Array.from(
      from.form.querySelectorAll("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])")
    );
    const next = fields[fields.indexOf(from) + 1];
    if (next) next.focus();
  }

  document.addEventListener("keydown", function (event) {
    const search = box();
    if (!search) return;
    if (event.target === search) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        return;
      }
      if (event.key === "Enter") {
        event.preventDefault();
        const items = options();
        const query = search.value.trim();
        if (active >= 0 && items[active]) {
          load(items[active].dataset.url);
        } else if (query) {
          load(search.dataset.goUrl + "?q=" + encodeURIComponent(query));
        }
        return;
      }
    }
    const target = event.target;
    if (
      event.key === "Enter" &&
      target.form &&
      target.form.id === "intake" &&
      target.tagName === "INPUT" &&
      !NOT_TEXT.includes(target.type)
    ) {
      event.preventDefault();
      nextField(target);
      return;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      if (shortcuts[event.code]) {
        const button = document.querySelector('#intake button[name=outcome][value="' + shortcuts[event.code] + '"]');
        if (button && !button.disabled) {
          event.preventDefault();
          // A form swapped in moments ago may not be bound by htmx yet; bind it now so the
          // click is an htmx request and not a full-page submission.
          htmx.process(button.form);
          button.click();
        }
      } else if (event.code === "KeyP") {
        const print = document.querySelector("[data-print]");
        if (print) {
          event.preventDefault();
          print.click();
        }
      }
    }
  });

  // The search box is the home position (autofocus is not applied in every case, e.g. after history navigation).
  document.addEventListener("DOMContentLoaded", function () {
    const search = box();
    if (search && (!document.activeElement || document.activeElement === document.body)) search.focus();
  });

  // After the swap has settled (htmx's own settling would otherwise move the focus again):
  // the first field in error, else the print button of a finished dossier, else the first field.
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    if (target && target.id === "counter-results") {
      active = -1;
      box().removeAttribute("aria-activedescendant");
    } else if (target && target.id === "workspace") {
      focusWorkspace();
    }
  });
})();
