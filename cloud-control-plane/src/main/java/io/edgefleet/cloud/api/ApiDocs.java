package io.edgefleet.cloud.api;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.openapi.OpenApiFeature;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.staticcontent.ClasspathHandlerConfig;
import io.helidon.webserver.staticcontent.StaticContentFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The API's description: the OpenAPI 3 document of {@code /api/v1} at {@link #DOCUMENT}
 * (Helidon's OpenAPI support serving the static {@code META-INF/openapi.yaml}: YAML by default,
 * JSON with {@code Accept: application/json} or {@code ?format=JSON}), and the Swagger UI page at
 * {@link #UI} from the {@code org.webjars:swagger-ui} jar, pointed at that document. Both are
 * public (the document holds no data; every call the page makes needs a bearer token like any
 * other). {@code OpenApiDocumentTest} checks the document against the routes the API registers.
 */
public final class ApiDocs {
    /** Where the OpenAPI document is served. */
    public static final String DOCUMENT = "/openapi";
    /** Where the Swagger UI page is served. */
    public static final String UI = "/openapi/ui";
    /** The webjar's folder; its version is the one in the root pom. */
    static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/5.34.1";

    private ApiDocs() {
    }

    /** The server feature serving {@link #DOCUMENT}. */
    public static OpenApiFeature feature() {
        return OpenApiFeature.builder().webContext(DOCUMENT).staticFile("META-INF/openapi.yaml").servicesDiscoverServices(false).build();
    }

    /** The Swagger UI page: the webjar's files, with its initializer replaced by ours (which loads {@link #DOCUMENT}). */
    public static void routing(HttpRouting.Builder r) {
        byte[] init = resource("swagger-initializer.js");
        r.get(UI, (req, res) -> res.status(Status.MOVED_PERMANENTLY_301).header(HeaderNames.LOCATION, UI + "/").send());
        r.get(UI + "/swagger-initializer.js", (req, res) -> res.header(HeaderNames.CONTENT_TYPE, "text/javascript; charset=utf-8")
                .header(HeaderNames.CACHE_CONTROL, "no-cache").send(init));
        r.register(UI, StaticContentFeature.createService(ClasspathHandlerConfig.builder().location(SWAGGER_UI).welcome("index.html")
                .build()));
    }

    private static byte[] resource(String name) {
        try (InputStream in = ApiDocs.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name + " next to " + ApiDocs.class.getName());
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
