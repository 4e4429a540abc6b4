package io.edgefleet.cloud.api;

import io.edgefleet.cloud.access.JwtVerifier;
import io.edgefleet.cloud.access.Principal;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.access.TokenStore;
import java.util.Optional;

/**
 * Bearer authentication (RFC 6750) of the control plane's HTTP API: a named API token of the
 * {@link TokenStore}, or, when OIDC is configured, a JWT of the issuer ({@link JwtVerifier}).
 * No credential → 401; unknown, expired, revoked or a refused JWT → 401 {@code invalid_token};
 * a credential without the route's scope → 403 naming it ({@link AccessDenied}). Thread-safe.
 */
public final class Auth {
    private final TokenStore tokens;
    private final Optional<JwtVerifier> jwt;

    public Auth(TokenStore tokens, Optional<JwtVerifier> jwt) {
        this.tokens = tokens;
        this.jwt = jwt;
    }

    /**
     * Who presented the {@code Authorization} header.
     *
     * @throws AccessDenied 401 when there is none or it is not valid
     */
    public Principal authenticate(Optional<String> authorization) {
        String h = authorization.orElseThrow(() -> AccessDenied.missing("this endpoint needs 'Authorization: Bearer <token>'"));
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw AccessDenied.missing("the Authorization header is not a Bearer token");
        }
        String bearer = h.substring(7).strip();
        if (bearer.isEmpty()) {
            throw AccessDenied.invalid("the bearer token is empty");
        }
        if (JwtVerifier.looksLikeJwt(bearer)) {
            JwtVerifier v = jwt.orElseThrow(() -> AccessDenied.invalid("the bearer token is not valid (JWTs are not accepted: no OIDC issuer is configured)"));
            return v.verify(bearer).orElseThrow(() -> AccessDenied.invalid(
                    "the bearer JWT is not valid here (signature, key, algorithm, issuer, audience or validity time)"));
        }
        return switch (tokens.check(bearer)) {
            case TokenStore.Check.Valid v -> new Principal(Principal.Kind.TOKEN, v.token().name(), v.token().scopes());
            case TokenStore.Check.Expired e -> throw AccessDenied.invalid("the bearer token '" + e.name() + "' has expired");
            case TokenStore.Check.Revoked r -> throw AccessDenied.invalid("the bearer token '" + r.name() + "' has been revoked");
            case TokenStore.Check.Unknown u -> throw AccessDenied.invalid("the bearer token is not valid");
        };
    }

    /** 403 unless {@code who} holds {@code scope}. */
    public static void require(Principal who, Scope scope) {
        if (!who.may(scope)) {
            throw AccessDenied.insufficient(who.name(), scope);
        }
    }
}
