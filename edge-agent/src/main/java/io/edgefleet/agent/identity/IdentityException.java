package io.edgefleet.agent.identity;

/**
 * The agent could not get or renew its certificate. {@link #retriable()}: the control plane was
 * unreachable or failed (5xx), so trying later may work; otherwise it refused (4xx: a bad, used-up
 * or revoked token, a revoked certificate, a pin mismatch) and the same request will fail again.
 * Messages never contain the token's secret or the private key.
 */
public final class IdentityException extends RuntimeException {
    private final boolean retriable;

    public IdentityException(String message, boolean retriable, Throwable cause) {
        super(message, cause);
        this.retriable = retriable;
    }

    public IdentityException(String message, boolean retriable) {
        this(message, retriable, null);
    }

    public boolean retriable() {
        return retriable;
    }
}
