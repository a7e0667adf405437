/* The API documentation page (/api/docs/): Swagger UI over the schema named by the page (data-schema-url). */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") { return; }
  var csrf = root.getAttribute("data-csrf-token") || "";
  window.SwaggerUIBundle({
    url: root.getAttribute("data-schema-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    // "Try it out" in a signed-in browser uses the session: send the CSRF token with writes
    requestInterceptor: function (request) {
      if (csrf && request.method && request.method !== "GET") { request.headers["X-CSRFToken"] = csrf; }
      return request;
    }
  });
}());
