// The API docs page: Swagger UI (from npm, served by us) over /api/v1/openapi.json.
(function () {
  var node = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: node.getAttribute("data-openapi"), dom_id: "#swagger-ui" });
})();
