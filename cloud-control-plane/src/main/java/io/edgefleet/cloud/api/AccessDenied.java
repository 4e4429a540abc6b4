package io.edgefleet.cloud.api;

import io.edgefleet.cloud.access.Scope;
import java.util.Map;

/**
 * A refused credential, answered with its RFC 6750 {@code WWW-Authenticate} challenge: 401 (none,
 * unknown, expired, revoked: {@code error="invalid_token"} when one was presented) or 403 (valid but
 * lacking the route's scope: {@code error="insufficient_scope"}, the scope named in the challenge and
 * in the problem's {@code scope} member).
 */
public final class AccessDenied extends ApiException {
    private final String challenge;

    private AccessDenied(int status, String title, String detail, Map<String, Object> ext, String challenge) {
        super(status, title, detail, ext);
        this.challenge = challenge;
    }

    /** 401 without an error code: no credential was presented (RFC 6750 §3.1). */
    public static AccessDenied missing(String detail) {
        return new AccessDenied(401, "Unauthorized", detail, Map.of(), "Bearer realm=\"edgefleet\"");
    }

    /** 401 {@code invalid_token}: unknown, expired, revoked or a refused JWT. */
    public static AccessDenied invalid(String detail) {
        return new AccessDenied(401, "Unauthorized", detail, Map.of(),
                "Bearer realm=\"edgefleet\", error=\"invalid_token\", error_description=\"" + detail.replace('"', '\'') + "\"");
    }

    /** 403 {@code insufficient_scope} naming the scope the route needs. */
    public static AccessDenied insufficient(String actor, Scope needed) {
        return new AccessDenied(403, "Forbidden", "'" + actor + "' lacks scope " + needed.wire() + " (a viewer token only reads; "
                + "changes need an operator token or a token with that scope)", Map.of("scope", needed.wire()),
                "Bearer realm=\"edgefleet\", error=\"insufficient_scope\", scope=\"" + needed.wire() + "\"");
    }

    /** The {@code WWW-Authenticate} header value. */
    public String challenge() {
        return challenge;
    }
}
