package io.edgefleet.profiles.catalog;

import java.util.List;

/** A profile id that the catalog does not hold. Final: asking again gives the same answer. */
public final class UnknownProfileException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String id;

    public UnknownProfileException(String id, List<String> known) {
        super("unknown device profile '" + id + "'; known profiles: " + String.join(", ", known));
        this.id = id;
    }

    public String id() {
        return id;
    }
}
