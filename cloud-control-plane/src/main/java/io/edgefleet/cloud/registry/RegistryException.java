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
    private final java.util.Map<String, Object> extensions;

    public RegistryException(int status, String title, String detail, List<Refusal> refusals) {
        this(status, title, detail, refusals, java.util.Map.of());
    }

    /** With problem-details extension members ({@code signatureChanges}, {@code previousVersion}, ...), in the given order. */
    public RegistryException(int status, String title, String detail, List<Refusal> refusals, java.util.Map<String, Object> extensions) {
        super(detail);
        this.status = status;
        this.title = title;
        this.refusals = List.copyOf(refusals);
        this.extensions = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(extensions));
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

    /** Problem-details members beside {@code refusals}; empty for most refusals. */
    public java.util.Map<String, Object> extensions() {
        return extensions;
    }

    /** Why one file (for one profile, when the reason is profile-specific) was refused. */
    public record Refusal(String file, java.util.Optional<String> profile, String reason) {
    }
}
