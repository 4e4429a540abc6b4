package io.edgefleet.cloud.registry;

import java.util.List;

/**
 * A registration or lookup the registry refuses. {@link #status} is the HTTP status the API
 * answers with; {@link #refusals} names each refused file and the reason (the runtime's own message
 * for a variant that does not load).
 */
public final class RegistryException extends RuntimeException {
    private final int status;
    private final String title;
    private final List<Refusal> refusals;

    public RegistryException(int status, String title, String detail, List<Refusal> refusals) {
        super(detail);
        this.status = status;
        this.title = title;
        this.refusals = List.copyOf(refusals);
    }

    public RegistryException(int status, String title, String detail) {
        this(status, title, detail, List.of());
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public List<Refusal> refusals() {
        return refusals;
    }

    /** Why one file (for one profile, when the reason is profile-specific) was refused. */
    public record Refusal(String file, java.util.Optional<String> profile, String reason) {
    }
}
