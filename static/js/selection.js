// Selecting jobs in the history for bulk actions (history/bulk_actions.py): a click selects,
// a shift-click selects the range from the last clicked row, "Select all N matching" selects
// every job matching the filters (sent as all=1 with the filters, never as ids). Progressive
// enhancement: without this script the rows' checkboxes still belong to the bulk form
// (form="bulk-form") and go with its buttons.
//
// The selection is kept here, as a set of job codes, not in the checkboxes: rows arrive (the
// next page) and are replaced (an unfinished row's poll) by htmx, and each time the boxes
// are ticked again from the set. A new filter (the results region replaced) starts afresh.
(function () {
  "use strict";
  var selected = new Set();
  var allMatching = false;
  var anchor = null; // the code of the row last clicked: where a shift-click's range starts
  var number = window.Intl ? new Intl.NumberFormat("en") : { format: String };

  function bar() { return document.getElementById("bulk-form"); }
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("#rows input.job-select")); }

  // The checkboxes and the bar from the set.
  function show() {
    var form = bar();
    if (!form) { return; }
    var matching = Number(form.getAttribute("data-matching")) || 0;
    var count = allMatching ? matching : selected.size;
    boxes().forEach(function (box) { box.checked = allMatching || selected.has(box.value); });
    form.hidden = count === 0;
    form.querySelector("[data-bulk-count]").textContent = allMatching
      ? "All " + number.format(matching) + " matching jobs selected"
      : number.format(count) + " selected";
    form.querySelector("[data-bulk-all]").value = allMatching ? "1" : "";
    form.querySelector("[data-bulk-select-all]").hidden = allMatching || count === 0 || matching <= count;
    form.querySelector("[data-bulk-clear]").hidden = count === 0;
  }

  function take(box) {
    if (allMatching && !box.checked) {
      // One row unticked out of "all matching": what stays selected is the loaded rows.
      allMatching = false;
      boxes().forEach(function (other) { selected.add(other.value); });
    }
    if (box.checked) { selected.add(box.value); } else { selected.delete(box.value); }
  }

  function clear() {
    selected.clear();
    allMatching = false;
    anchor = null;
  }

  // A click (or Space, or a script's click()) on a row's box; with Shift, every row from the
  // last clicked one to this one takes this box's state.
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input.job-select")) { return; }
    var list = boxes();
    var from = anchor === null ? -1 : list.findIndex(function (other) { return other.value === anchor; });
    if (event.shiftKey && from !== -1) {
      var to = list.indexOf(box);
      list.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (other) {
        other.checked = box.checked;
        take(other);
      });
    }
    take(box);
    anchor = box.value;
    show();
  });
  // A box changed without a click (a script setting .checked and saying so).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input.job-select")) { return; }
    if (box.checked !== (allMatching || selected.has(box.value))) { take(box); show(); }
  });
  // Shift-click would also select the text between the two rows.
  document.addEventListener("mousedown", function (event) {
    if (event.shiftKey && event.target.closest && event.target.closest(".job-check")) { event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-bulk-select-all], [data-bulk-clear]") : null;
    if (!button) { return; }
    // The button pressed hides: focus goes to the box last clicked, or stays in the bar.
    var last = anchor && document.querySelector('#rows input.job-select[value="' + anchor + '"]');
    if (button.hasAttribute("data-bulk-clear")) {
      clear();
    } else {
      allMatching = true;
      selected.clear();
    }
    show();
    var form = bar();
    var next = form && !form.hidden ? form.querySelector("[data-bulk-clear]") : last;
    if (next) { next.focus({ preventScroll: !form || form.hidden }); }
  });

  // The selection goes as one `job` field of joined codes (Django takes at most 1,000
  // fields), or none at all when it is every matching job: both for htmx and a plain submit.
  document.addEventListener("formdata", function (event) {
    if (event.target.id !== "bulk-form") { return; }
    event.formData.delete("job");
    if (!allMatching) { event.formData.append("job", Array.from(selected).join(",")); }
  });

  function dialog() { return document.getElementById("bulk-dialog"); }
  function say(text) {
    var status = document.getElementById("results-status");
    if (status) { status.textContent = text; }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "history-results") { clear(); }
    if (target && target.id === "bulk-dialog-body" && dialog() && !dialog().open) { dialog().showModal(); }
    show();
  });

  // In the confirmation: Cancel closes the dialog (the selection stays); a download closes
  // it too, since the page stays where it is while the file arrives.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest ? event.target.closest("#bulk-dialog [data-bulk-cancel]") : null;
    if (cancel) { event.preventDefault(); dialog().close(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest || !form.closest("#bulk-dialog") || !form.hasAttribute("data-download")) { return; }
    var lead = form.closest("[data-bulk-confirm]").querySelector(".bulk-confirm-lead");
    setTimeout(function () {
      dialog().close();
      say((lead ? lead.textContent + " " : "") + "The download starts in a moment.");
    }, 0);
  });

  show();
})();
