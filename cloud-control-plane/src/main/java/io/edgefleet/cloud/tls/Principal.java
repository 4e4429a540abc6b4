package io.edgefleet.cloud.tls;

import io.edgefleet.transport.pki.Identity;
import java.math.BigInteger;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Who made an HTTP request, as {@link CallerFilter} established it: a device or service by its
 * verified client certificate (mTLS), or the holder of a bearer token. Handlers find it in the
 * request context ({@code req.context().get(Principal.class)}).
 *
 * <p>Scopes are the OAuth 2 style strings of {@link io.edgefleet.cloud.access.Scope}; a bearer
 * credential's come from the token store or the JWT ({@link #of(io.edgefleet.cloud.access.Principal)}).
 *
 * @param name the identity's common name ({@code fleet/device}) or the token's name
 * @param device the certificate's identity; empty for a token
 * @param serial the certificate's serial number; empty for a token
 * @param scopes what the caller may do
 */
public record Principal(String name, Optional<Identity> device, Optional<BigInteger> serial, Set<String> scopes) {
    /** Read the fleet, models and telemetry. */
    public static final String FLEET_READ = "fleet:read";
    /** Read the model registry; also lets a token download manifests and chunks. */
    public static final String MODELS_READ = "models:read";
    /** Download manifests and chunks from {@code /sync/v1}. */
    public static final String SYNC_READ = "sync:read";
    /** Register and deprecate models. */
    public static final String MODELS_WRITE = "models:write";
    /** Create and steer rollouts. */
    public static final String ROLLOUTS_WRITE = "rollouts:write";
    /** Call the cloud inference role ({@code /v2}). */
    public static final String INFERENCE_INVOKE = "inference:invoke";

    public Principal {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(serial, "serial");
        scopes = Set.copyOf(scopes);
    }

    /**
     * A certificate holder: a device ({@code fleet/device}) may sync models and escalate inference;
     * a service certificate of the control plane gets no HTTP scope.
     */
    public static Principal of(Identity identity, BigInteger serial) {
        Set<String> scopes = identity.isDevice() ? Set.of(SYNC_READ, INFERENCE_INVOKE) : Set.of();
        return new Principal(identity.commonName(), Optional.of(identity), Optional.of(serial), scopes);
    }

    /** A bearer credential (named API token or JWT) authenticated by {@link io.edgefleet.cloud.api.Auth}. */
    public static Principal of(io.edgefleet.cloud.access.Principal bearer) {
        return new Principal(bearer.name(), Optional.empty(), Optional.empty(),
                bearer.scopes().stream().map(io.edgefleet.cloud.access.Scope::wire).collect(java.util.stream.Collectors.toSet()));
    }

    public boolean has(String scope) {
        return scopes.contains(scope);
    }
}
