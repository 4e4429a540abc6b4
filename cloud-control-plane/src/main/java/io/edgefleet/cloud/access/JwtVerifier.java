package io.edgefleet.cloud.access;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.MalformedURLException;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Verifies JWT bearer tokens of the configured OIDC issuer with nimbus-jose-jwt: signature by a
 * key of the issuer's JWKS (fetched over HTTP, cached, refetched on an unknown {@code kid}, rate
 * limited), asymmetric algorithms only (RS*, PS*, ES*: {@code alg: none} and HMAC, e.g. HS256
 * with the public key as secret, are refused), the exact {@code iss}, {@code aud} containing the
 * configured audience, header {@code typ} absent, {@code JWT} or {@code at+jwt}, {@code exp} required and {@code nbf} honoured (60 s clock skew, nimbus'
 * default). Scopes come from {@code scope} (space-separated, RFC 8693/9068) or {@code scp}
 * (a list or a string); strings that are not {@link Scope}s are ignored. Thread-safe.
 */
public final class JwtVerifier {
    private static final System.Logger LOG = System.getLogger(JwtVerifier.class.getName());
    private static final int HTTP_TIMEOUT_MILLIS = 5_000;
    private static final int JWKS_SIZE_LIMIT_BYTES = 256 * 1024;

    private final OidcSettings settings;
    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

    public JwtVerifier(OidcSettings settings) {
        this.settings = settings;
        JWKSource<SecurityContext> keys;
        try {
            keys = JWKSourceBuilder.<SecurityContext>create(settings.jwksUrl().toURL(),
                    new DefaultResourceRetriever(HTTP_TIMEOUT_MILLIS, HTTP_TIMEOUT_MILLIS, JWKS_SIZE_LIMIT_BYTES)).retrying(true).build();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("access.oidc.jwks-url is not a URL: " + settings.jwksUrl(), e);
        }
        Set<JWSAlgorithm> algs = new HashSet<>();
        algs.addAll(JWSAlgorithm.Family.RSA);
        algs.addAll(JWSAlgorithm.Family.EC);
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algs, keys));
        // typ JWT, none, or at+jwt (RFC 9068 access tokens, as Auth0 and Okta issue them)
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(settings.audience(),
                new JWTClaimsSet.Builder().issuer(settings.issuer()).build(), Set.of("exp", settings.actorClaim())));
    }

    /** Whether {@code bearer} looks like a JWS compact serialisation (three dot-separated parts) rather than an API token. */
    public static boolean looksLikeJwt(String bearer) {
        return bearer.chars().filter(c -> c == '.').count() == 2;
    }

    /**
     * The principal {@code jwt} stands for, or empty when it is refused (the reason is logged, never
     * sent to the caller: it could help an attacker tune a forgery).
     */
    public Optional<Principal> verify(String jwt) {
        JWTClaimsSet claims;
        try {
            claims = processor.process(jwt, null);
        } catch (ParseException | BadJOSEException | JOSEException e) {
            LOG.log(System.Logger.Level.INFO, "JWT refused: {0}", e.getMessage());
            return Optional.empty();
        }
        Object actor = claims.getClaim(settings.actorClaim());
        if (!(actor instanceof String name) || name.isBlank()) {
            LOG.log(System.Logger.Level.INFO, "JWT refused: claim {0} is not a non-blank string", settings.actorClaim());
            return Optional.empty();
        }
        List<String> scopes = new ArrayList<>();
        Object scope = claims.getClaim("scope");
        Object scp = claims.getClaim("scp");
        for (Object o : new Object[] {scope, scp}) {
            if (o instanceof String s) {
                scopes.add(s);
            } else if (o instanceof List<?> l) {
                l.forEach(x -> scopes.add(String.valueOf(x)));
            }
        }
        return Optional.of(new Principal(Principal.Kind.JWT, name, Scope.known(scopes)));
    }
}
