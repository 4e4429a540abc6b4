package io.edgefleet.protocols;

import java.util.Objects;

/**
 * A message, topic or tensor that breaks a wire contract.
 *
 * <p>Every decoder in this module throws this type and only this type for bad input: never a
 * {@code NullPointerException}, never a partially built object. The {@link #path()} names where
 * in the message the problem is (a JSON path such as {@code $.inputs[1].shape[0]}, or the name of
 * the topic segment), the {@link #reason()} names the rule that was broken. Both are safe to send
 * back to the client that sent the input: they never contain internal exception text.
 *
 * <p>Final, not retriable: sending the same bytes again gives the same error.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String path;
    private final String reason;

    /**
     * @param path where the problem is, e.g. {@code $.inputs[0].data}; never null
     * @param reason the rule that was broken, e.g. {@code "expected 4 elements for shape [2,2], got 3"}
     */
    public ProtocolException(String path, String reason) {
        this(path, reason, null);
    }

    public ProtocolException(String path, String reason, Throwable cause) {
        super(Objects.requireNonNull(path, "path") + ": " + Objects.requireNonNull(reason, "reason"), cause);
        this.path = path;
        this.reason = reason;
    }

    /** Where in the input the problem is. */
    public String path() {
        return path;
    }

    /** The rule that was broken, without the path. */
    public String reason() {
        return reason;
    }

    /**
     * The same error seen from an enclosing object: {@code inner.at("$.models[2]")} turns the
     * path {@code version} into {@code $.models[2].version}.
     */
    public ProtocolException under(String prefix) {
        String joined;
        if (path.startsWith("$")) {
            joined = prefix + path.substring(1);
        } else if (path.startsWith("[")) {
            joined = prefix + path;
        } else {
            joined = prefix + "." + path;
        }
        return new ProtocolException(joined, reason, getCause());
    }
}
