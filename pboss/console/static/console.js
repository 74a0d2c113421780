/* pboss console: the little the pages need in the browser. The login form also keeps the key
 * in this tab's sessionStorage, so the console's GraphiQL opens with it. */
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  if (form) {
    form.addEventListener("submit", function () {
      var key = document.getElementById("key").value.trim();
      window.sessionStorage.setItem("pboss.apiKey", key);
    });
  }
})();
