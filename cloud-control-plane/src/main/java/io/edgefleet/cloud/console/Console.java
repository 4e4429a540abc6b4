package io.edgefleet.cloud.console;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.staticcontent.ClasspathHandlerConfig;
import io.helidon.webserver.staticcontent.StaticContentFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The web console: static files served from the classpath at {@value #CONTEXT}
 * ({@code src/main/resources/edgefleet-console}: HTML, CSS and plain JavaScript modules, no build
 * step) and the uPlot chart library from its webjar at {@value #CONTEXT}{@code /lib/uplot/}.
 * {@code GET /} answers 302 to {@value #CONTEXT}{@code /}. The console reads and steers the fleet
 * only through {@code /api/v1} with the bearer token its user signs in with, so it needs no
 * authentication of its own: its files hold no data. Every answer under {@value #CONTEXT} carries
 * a Content-Security-Policy that allows scripts, styles and API calls from this origin only.
 * Routes are added by {@link #routing} on the server's routing builder; handlers run on the
 * request's virtual thread.
 */
public final class Console {
    /** Where the console is served. */
    public static final String CONTEXT = "/ui";
    /** The classpath folder of the console's own files. */
    static final String FILES = "edgefleet-console";
    /** uPlot draws with inline style properties (CSSOM), hence 'unsafe-inline' for styles only. */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    private Console() {
    }

    /**
     * Registers {@code GET /} (redirect), the security headers of {@value #CONTEXT}, the webjar and the
     * console's files. Call before any catch-all of the same paths.
     *
     * @throws IllegalStateException when the uPlot webjar is not on the classpath (a broken package)
     */
    public static void routing(HttpRouting.Builder r) {
        r.get("/", (req, res) -> res.status(Status.FOUND_302).header(HeaderNames.LOCATION, CONTEXT + "/").send());
        r.get(CONTEXT, (req, res) -> res.status(Status.MOVED_PERMANENTLY_301).header(HeaderNames.LOCATION, CONTEXT + "/").send());
        r.any(CONTEXT + "/*", (req, res) -> {
            res.header(HeaderNames.create("Content-Security-Policy"), CSP);
            res.header(HeaderNames.create("X-Content-Type-Options"), "nosniff");
            res.header(HeaderNames.create("Referrer-Policy"), "no-referrer");
            res.next();
        });
        r.register(CONTEXT + "/lib/uplot", files("META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist", null));
        r.register(CONTEXT, files(FILES, "index.html"));
    }

    private static HttpService files(String location, String welcome) {
        ClasspathHandlerConfig.Builder b = ClasspathHandlerConfig.builder().location(location)
                .classLoader(Console.class.getClassLoader())
                // modules must come as JavaScript (browsers refuse a module served as anything else)
                .putContentType("js", MediaTypes.create("text/javascript"))
                .putContentType("css", MediaTypes.create("text/css"))
                .putContentType("svg", MediaTypes.create("image/svg+xml"));
        if (welcome != null) {
            b.welcome(welcome);
        }
        return StaticContentFeature.createService(b.build());
    }

    /** The uPlot version on the classpath, from its webjar's Maven properties (the pom pins it). */
    static String uplotVersion() {
        String props = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
        try (InputStream in = Console.class.getClassLoader().getResourceAsStream(props)) {
            if (in == null) {
                throw new IllegalStateException("the uPlot webjar (org.webjars.npm:uplot) is not on the classpath: " + props + " is missing");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
