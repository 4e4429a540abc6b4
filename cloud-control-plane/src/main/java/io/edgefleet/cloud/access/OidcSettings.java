package io.edgefleet.cloud.access;

import java.net.URI;
import java.util.Objects;

/**
 * Where JWT bearer tokens come from when a company identity provider (OIDC) is used. Config node
 * {@code cloud.access.oidc}: {@code issuer}, {@code audience}, {@code jwks-url}, {@code actor-claim}.
 *
 * @param issuer the exact {@code iss} every token must carry, e.g. {@code https://login.example.com/realms/ops}
 * @param audience a value the token's {@code aud} must contain (this control plane's client id)
 * @param jwksUrl the issuer's JSON Web Key Set, fetched and cached (refreshed on an unknown key id, so key rotation works)
 * @param actorClaim the claim naming the caller in the audit (default {@code sub})
 */
public record OidcSettings(String issuer, String audience, URI jwksUrl, String actorClaim) {
    public OidcSettings {
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(jwksUrl, "jwksUrl");
        if (issuer.isBlank() || audience.isBlank()) {
            throw new IllegalArgumentException("access.oidc needs a non-blank issuer and audience");
        }
        String scheme = String.valueOf(jwksUrl.getScheme());
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw new IllegalArgumentException("access.oidc.jwks-url must be an http(s) URL, got " + jwksUrl);
        }
        actorClaim = actorClaim == null || actorClaim.isBlank() ? "sub" : actorClaim;
    }

    public OidcSettings(String issuer, String audience, URI jwksUrl) {
        this(issuer, audience, jwksUrl, "sub");
    }
}
