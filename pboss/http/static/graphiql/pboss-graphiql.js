/* pboss's GraphiQL: every request (introspection included) carries the API key typed in the
 * key bar as `Authorization: Bearer <key>`; the bar says plainly when the server refuses it.
 * The key lives in this tab's sessionStorage only. */
(function () {
  "use strict";

  var STORAGE_KEY = "pboss.apiKey";
  // The console's page (/ui/graphiql) names its endpoint; the API's own page posts to itself.
  var mount = document.getElementById("graphiql");
  var endpoint = mount.getAttribute("data-endpoint") || window.location.pathname;
  var form = document.getElementById("pboss-keybar");
  var input = document.getElementById("pboss-key");
  var status = document.getElementById("pboss-status");
  var root = ReactDOM.createRoot(mount);
  var generation = 0;

  function show(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function firstMessage(body) {
    if (body && body.errors && body.errors.length && body.errors[0].message) {
      return body.errors[0].message;
    }
    return "";
  }

  function makeFetcher(key) {
    return function (params) {
      var headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (key) {
        headers.Authorization = "Bearer " + key;
      }
      return fetch(endpoint, {
        method: "POST",
        headers: headers,
        body: JSON.stringify(params),
        credentials: "omit",
      }).then(function (response) {
        return response.text().then(function (text) {
          var body;
          try {
            body = JSON.parse(text);
          } catch (err) {
            body = { errors: [{ message: "HTTP " + response.status + ": " + text }] };
          }
          if (response.status === 401) {
            show(
              "401 Unauthorized: " +
                (key ? "the server does not know this API key" : "no API key entered") +
                ". Enter a key above." +
                (firstMessage(body) ? " (" + firstMessage(body) + ")" : ""),
              "error"
            );
          } else if (!response.ok) {
            show("HTTP " + response.status + ": " + (firstMessage(body) || text), "error");
          } else if (params && params.operationName === "IntrospectionQuery") {
            show("Key accepted: schema loaded (Docs and autocompletion are ready).", "ok");
          } else {
            show("Key accepted.", "ok");
          }
          return body;
        });
      }, function (err) {
        show("The pboss server did not answer: " + err, "error");
        throw err;
      });
    };
  }

  function render() {
    var key = input.value.trim();
    generation += 1;
    root.render(
      React.createElement(GraphiQL, {
        key: "g" + generation, // a new key: mount afresh, so the schema is fetched with it
        fetcher: makeFetcher(key),
        shouldPersistHeaders: false,
        defaultQuery:
          "# Enter your API key above, then run this query (Ctrl-Enter).\n" +
          "{\n  products {\n    id\n  }\n}\n",
      })
    );
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.sessionStorage.setItem(STORAGE_KEY, input.value.trim());
    show("Checking the key...", "");
    render();
  });

  input.value = window.sessionStorage.getItem(STORAGE_KEY) || "";
  render();
})();
