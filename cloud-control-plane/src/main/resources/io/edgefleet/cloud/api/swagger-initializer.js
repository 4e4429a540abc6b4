// Swagger UI for the EdgeFleet control plane: the OpenAPI document this server serves at /openapi.
// "Authorize" takes an API token (e.g. the contents of cloud-data/tokens/viewer.token).
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
