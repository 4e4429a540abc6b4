package io.edgefleet.sync.signing;

/** A manifest that must not be trusted, with the reason as a stable kind. Final. */
public final class ManifestRejectedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why a manifest is refused. */
    public enum Kind {
        UNSIGNED, UNKNOWN_KEY, BAD_SIGNATURE, EXPIRED
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
