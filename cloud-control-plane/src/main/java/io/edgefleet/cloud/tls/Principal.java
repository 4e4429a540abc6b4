package io.edgefleet.cloud.tls;

import io.edgefleet.cloud.api.Token;
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
 * <p>Scopes are OAuth 2 style strings. Today's two API tokens map onto them ({@link #of(Token)});
 * the scoped, named tokens of "operator access" replace that mapping (the seam is this record).
 *
 * @param name the identity's common name ({@code fleet/device}) or the token's name
 * @param device the certificate's identity; empty for a token
 * @param serial the certificate's serial number; empty for a token
 * @param scopes what the caller may do
 */
public record Principal(String name, Optional<Identity> device, Optional<BigInteger> serial, Set<String> scopes) {
    /** Read the fleet, models and telemetry. */
    public static final String FLEET_READ = "fleet:read";
    /** Download manifests and chunks from {@code /sync/v1}. */
    public static final String MODELS_READ = "models:read";
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
        Set<String> scopes = identity.isDevice() ? Set.of(MODELS_READ, INFERENCE_INVOKE) : Set.of();
        return new Principal(identity.commonName(), Optional.of(identity), Optional.of(serial), scopes);
    }

    /** Today's token roles: a viewer reads; an operator may do everything. */
    public static Principal of(Token token) {
        Set<String> scopes = token.role() == Token.Role.OPERATOR
                ? Set.of(FLEET_READ, MODELS_READ, MODELS_WRITE, ROLLOUTS_WRITE, INFERENCE_INVOKE)
                : Set.of(FLEET_READ, MODELS_READ);
        return new Principal(token.name(), Optional.empty(), Optional.empty(), scopes);
    }

    public boolean has(String scope) {
        return scopes.contains(scope);
    }
}
