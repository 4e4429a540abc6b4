package io.edgefleet.cloud.tls;

import io.edgefleet.cloud.api.ApiException;
import io.edgefleet.cloud.api.ApiRoutes;
import io.edgefleet.cloud.api.Auth;
import io.edgefleet.cloud.pki.Revocations;
import io.edgefleet.transport.pki.Certificates;
import io.edgefleet.transport.pki.Identity;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * Establishes the {@link Principal} of every HTTP request of the control plane, before routing.
 *
 * <ol>
 * <li>A client certificate (already verified against the device CA by the TLS handshake, client
 *     authentication OPTIONAL) whose serial number {@link Revocations} lists is refused on every
 *     path with 401 problem JSON, also on a connection opened before the revocation.
 * <li>Otherwise the certificate's identity becomes the request's principal.
 * <li>{@code /sync/v1/...} needs scope {@link Principal#SYNC_READ} (or {@link Principal#MODELS_READ}: whoever may
 *     read the registry may read its bytes), {@code /v2...} (cloud
 *     inference; not {@code /v2/health/...}) {@link Principal#INFERENCE_INVOKE}: without a
 *     certificate, the bearer token ({@link Auth}) names the principal; with neither, 401
 *     problem JSON with {@code WWW-Authenticate: Bearer}; a principal without the scope, 403
 *     naming it.
 * </ol>
 * The REST API {@code /api/v1} keeps its own token check; observe endpoints stay open. Runs on
 * the request's virtual thread; thread-safe.
 */
public final class CallerFilter implements Filter {
    private final Optional<Auth> tokens;
    private final Revocations revocations;

    /**
     * @param tokens the API tokens that may also call sync and inference; empty: certificates only
     * @param revocations asked for every request that presents a certificate
     */
    public CallerFilter(Optional<Auth> tokens, Revocations revocations) {
        this.tokens = tokens;
        this.revocations = revocations;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        try {
            Optional<Principal> principal = certificate(req);
            String scope = scopeFor(req.path().path());
            if (scope != null) {
                Principal p = principal.isPresent() ? principal.get() : bearer(req);
                if (!p.has(scope) && !(scope.equals(Principal.SYNC_READ) && p.has(Principal.MODELS_READ))) {
                    throw new ApiException(403, "Forbidden", "'" + p.name() + "' lacks scope " + scope + ", which "
                            + req.path().path() + " needs");
                }
                principal = Optional.of(p);
            }
            principal.ifPresent(p -> req.context().register(p));
        } catch (ApiException e) {
            ApiRoutes.problem(req, res, e);
            return;
        }
        chain.proceed();
    }

    /** The scope a path needs, or null when this filter leaves it to the route. */
    static String scopeFor(String path) {
        if (path.startsWith("/sync/v1/")) {
            return Principal.SYNC_READ;
        }
        if ((path.equals("/v2") || path.startsWith("/v2/")) && !path.startsWith("/v2/health/")) {
            return Principal.INFERENCE_INVOKE;
        }
        return null;
    }

    private Optional<Principal> certificate(RoutingRequest req) {
        Optional<Certificate[]> certs = req.remotePeer().tlsCertificates();
        if (certs.isEmpty() || certs.get().length == 0 || !(certs.get()[0] instanceof X509Certificate leaf)) {
            return Optional.empty();
        }
        if (revocations.isRevoked(leaf.getSerialNumber())) {
            throw new ApiException(401, "Certificate revoked", "the client certificate "
                    + Certificates.commonName(leaf).map(cn -> "of '" + cn + "' ").orElse("") + "has been revoked");
        }
        Identity identity;
        try {
            identity = Certificates.identity(leaf);
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // trusted CA, but no EdgeFleet identity in it: as if none were sent
        }
        return Optional.of(Principal.of(identity, leaf.getSerialNumber()));
    }

    private Principal bearer(RoutingRequest req) {
        Optional<String> header = req.headers().first(HeaderNames.AUTHORIZATION);
        if (header.isEmpty()) {
            throw new ApiException(401, "Unauthorized", req.path().path()
                    + " needs a device certificate (mTLS) or 'Authorization: Bearer <token>'");
        }
        if (tokens.isEmpty()) {
            throw new ApiException(401, "Unauthorized", "this process takes no tokens; present a device certificate (mTLS)");
        }
        return Principal.of(tokens.get().authenticate(header));
    }
}
