package io.edgefleet.sync.signing;

/** A manifest that must not be trusted, with the reason as a stable kind. Final. */
public final class ManifestRejectedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Why a manifest is refused. {@code NOT_REQUESTED}: validly signed, but for another model or
     * version than the one asked for (a signature proves who wrote a manifest, not what it is for).
     */
    public enum Kind {
        UNSIGNED, UNKNOWN_KEY, BAD_SIGNATURE, EXPIRED, NOT_REQUESTED
    }

    private final Kind kind;

    public ManifestRejectedException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
