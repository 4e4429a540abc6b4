package io.edgefleet.agent.http;

import io.helidon.common.uri.UriPath;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.PathMatcher;
import io.helidon.http.PathMatchers;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The agent's {@code /v2} routes as one table, so that what no route answers is answered as KServe
 * v2 / Triton do, with the protocol's JSON error body instead of Helidon's plain text: a path no
 * route has is 404, a path that a route has for other methods is 405 with {@code Allow} naming
 * them (RFC 9110 15.5.6). Register every {@code /v2} route through {@link #route}, then call
 * {@link #fallback} once, last.
 */
final class V2Routes {
    private record Known(Method method, String template, PathMatcher matcher) {
    }

    private final HttpRouting.Builder routing;
    private final List<Known> known = new ArrayList<>();

    V2Routes(HttpRouting.Builder routing) {
        this.routing = routing;
    }

    void route(Method method, String template, Handler handler) {
        known.add(new Known(method, template, PathMatchers.create(template)));
        routing.route(method, template, handler);
    }

    /**
     * The methods some route answers on {@code path}, in registration order (HEAD with GET, as
     * Helidon answers it; OPTIONS is not served).
     */
    Set<String> allowed(String path) {
        Set<String> out = new LinkedHashSet<>();
        UriPath p = UriPath.create(path);
        for (Known k : known) {
            if (k.matcher().match(p).accepted()) {
                out.add(k.method().text());
            }
        }
        return out;
    }

    /** Answers everything under {@code /v2} that no route took: 405 with Allow, else 404; {@code error} writes the JSON body. */
    void fallback(BiConsumer<io.helidon.webserver.http.ServerResponse, ErrorAnswer> error) {
        Handler h = (req, res) -> {
            String path = req.path().path();
            Set<String> allow = allowed(path);
            if (!allow.isEmpty()) {
                res.header(HeaderNames.ALLOW, String.join(", ", allow));
                error.accept(res, new ErrorAnswer(Status.METHOD_NOT_ALLOWED_405, req.prologue().method().text() + " is not allowed on "
                        + path + " (allowed: " + String.join(", ", allow) + ")"));
            } else {
                error.accept(res, new ErrorAnswer(Status.NOT_FOUND_404, "no endpoint " + path + " in this server's v2 API"));
            }
        };
        routing.any("/v2", h);
        routing.any("/v2/*", h);
    }

    /** A status and the message of its {@code {"error": ...}} body. */
    record ErrorAnswer(Status status, String message) {
    }
}
