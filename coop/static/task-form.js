/* The post-task form: the least price (and budget) for the minutes being typed.

   The server renders the same figure on every load and is the authority: it checks the
   price on submit. This only saves a round trip, so it does what coop.money's
   minimum_gross_price does, from the floor and margin the form carries (integer cents). */
(function () {
  "use strict";
  var form = document.querySelector("form.task-form[data-floor]");
  if (!form) {
    return;
  }
  var minutes = form.querySelector("input[name=estimated_minutes]");
  var outputs = form.querySelectorAll("output.minimum-pay");
  var floor = parseInt(form.getAttribute("data-floor"), 10);
  var marginBp = parseInt(form.getAttribute("data-margin-bp"), 10);
  var maxMinutes = parseInt(minutes.getAttribute("max"), 10);
  var euros = new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "currency",
    currency: "EUR",
  });

  function ceilDiv(a, b) {
    return Math.floor((a + b - 1) / b);
  }

  // coop.money.net_of: the price less the margin, rounded half up.
  function netOf(price) {
    return price - Math.floor((price * marginBp + 5000) / 10000);
  }

  // coop.money.minimum_gross_price for minutes of work.
  function minimumPrice(mins) {
    var need = ceilDiv(floor * mins * 60, 3600);
    var price = marginBp < 10000 ? ceilDiv(need * 10000, 10000 - marginBp) : need;
    while (price > 1 && netOf(price - 1) >= need) {
      price -= 1;
    }
    while (netOf(price) < need) {
      price += 1;
    }
    return price;
  }

  function update() {
    var text = minutes.value.trim();
    var mins = /^[0-9]+$/.test(text) ? parseInt(text, 10) : NaN;
    var known = mins >= 1 && mins <= maxMinutes;
    Array.prototype.forEach.call(outputs, function (output) {
      output.textContent = known
        ? euros.format(minimumPrice(mins) / 100)
        : output.getAttribute("data-empty");
    });
  }

  minutes.addEventListener("input", update);
})();
