package io.edgefleet.cloud.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.access.ApiToken;
import io.edgefleet.cloud.access.AuditLog;
import io.edgefleet.cloud.access.Principal;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.access.TokenStore;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The bodies of {@code /api/v1/tokens} and {@code /api/v1/audit} (routes, scopes and the audit
 * itself are {@link ApiRoutes}'s). A token's secret appears in exactly one answer: the 201 of its
 * creation, sent with {@code Cache-Control: no-store}.
 */
public final class AccessApi {
    private final TokenStore tokens;
    private final AuditLog audit;
    private final Clock clock;

    public AccessApi(TokenStore tokens, AuditLog audit, Clock clock) {
        this.tokens = tokens;
        this.audit = audit;
        this.clock = clock;
    }

    List<Map<String, Object>> list() {
        Instant now = clock.instant();
        return tokens.list().stream().map(t -> view(t, now)).toList();
    }

    /**
     * {@code {"name": "ci", "scopes": ["models:write"], "ttl": "30d"}}; a token may only be given
     * scopes its creator holds (else 403 naming the first missing one).
     */
    void create(JsonNode body, ServerResponse res, Principal who) throws Exception {
        String name = body.path("name").asText("");
        if (name.isBlank()) {
            throw new ApiException(400, "Missing name", "the body needs a 'name'");
        }
        List<String> raw = new ArrayList<>();
        if (body.path("scopes").isArray()) {
            body.path("scopes").forEach(n -> raw.add(n.asText()));
        } else if (body.path("scopes").isTextual()) {
            raw.add(body.path("scopes").asText());
        }
        Set<Scope> scopes = Scope.parseAll(raw);
        for (Scope s : Scope.values()) {
            if (scopes.contains(s) && !who.may(s)) {
                throw AccessDenied.insufficient(who.name(), s);
            }
        }
        Duration ttl = body.hasNonNull("ttl") ? ttl(body.get("ttl").asText()) : TokenStore.DEFAULT_TTL;
        TokenStore.Issued issued = tokens.create(name, scopes, ttl, who.name());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("token", view(issued.token(), clock.instant()));
        out.put("secret", issued.secret());
        out.put("note", "the secret is shown only now; store it like a password");
        res.header(HeaderNames.LOCATION, "/api/v1/tokens/" + name);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.status(Status.CREATED_201).header(HeaderNames.CONTENT_TYPE, "application/json").send(ApiRoutes.MAPPER.writeValueAsBytes(out));
    }

    Map<String, Object> revoke(String name, Principal who) {
        ApiToken t = tokens.revoke(name, who.name()).orElseThrow(() -> new ApiException(404, "Unknown token",
                "no active token is named '" + name + "' (see GET /api/v1/tokens)"));
        return view(t, clock.instant());
    }

    List<AuditLog.Entry> audit(Optional<Instant> since, Optional<String> actor, int limit) {
        return audit.query(since, actor, limit);
    }

    /**
     * {@code 30d}, {@code 12h}, {@code 15m}, {@code 90s}, or an ISO-8601 duration such as {@code PT1H}:
     * the one parser of token and enrolment-token lifetimes (API and CLI).
     *
     * @throws ApiException 400 naming the value when it is neither
     */
    public static Duration ttl(String s) {
        String t = s.strip();
        try {
            if (t.matches("\\d+[smhd]")) {
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                return switch (t.charAt(t.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(t);
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw new ApiException(400, "Bad ttl", "ttl '" + s + "' is neither N[s|m|h|d] nor an ISO-8601 duration");
        }
    }

    private static Map<String, Object> view(ApiToken t, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("name", t.name());
        m.put("scopes", java.util.Arrays.stream(Scope.values()).filter(t.scopes()::contains).map(Scope::wire).toList());
        m.put("state", t.state(now));
        m.put("createdAt", t.createdAt());
        m.put("createdBy", t.createdBy());
        m.put("expiresAt", t.expiresAt());
        m.put("lastUsedAt", t.lastUsedAt());
        m.put("revokedAt", t.revokedAt());
        m.put("revokedBy", t.revokedBy());
        return m;
    }
}
