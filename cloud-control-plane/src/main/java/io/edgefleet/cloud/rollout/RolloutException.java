package io.edgefleet.cloud.rollout;

import java.util.Optional;

/**
 * A rollout operation the engine refuses, one subtype per concern, each with a short {@link #title}
 * and a message naming the rollout (or model) and the rule. The engine knows nothing of HTTP: the
 * API layer maps the subtypes to statuses (docs/control-plane.md, "Rollout engine structure").
 * Unchecked; none is retriable as is except {@link Conflict#concurrent()} and {@link NotLeader},
 * which a caller may retry (after reading again, or on the leader).
 */
public abstract sealed class RolloutException extends RuntimeException {
    private final String title;
    private final Optional<String> rollout;

    private RolloutException(String title, Optional<String> rollout, String message) {
        super(message);
        this.title = title;
        this.rollout = rollout;
    }

    /** A short summary of the refusal, e.g. {@code Rollout in progress}. */
    public String title() {
        return title;
    }

    /** The rollout concerned, when there is one. */
    public Optional<String> rollout() {
        return rollout;
    }

    /** No rollout has this id. */
    public static final class NotFound extends RolloutException {
        public NotFound(String id) {
            super("Unknown rollout", Optional.of(id), "no rollout " + id);
        }
    }

    /** The operation does not fit the rollout's state (or another rollout's), or the row changed under it. */
    public static final class Conflict extends RolloutException {
        private final boolean concurrent;

        public Conflict(String title, Optional<String> rollout, String message, boolean concurrent) {
            super(title, rollout, message);
            this.concurrent = concurrent;
        }

        /** The rollout changed between its read and the write (another replica or operator): reading again and retrying may succeed. */
        public boolean concurrent() {
            return concurrent;
        }
    }

    /** This replica does not run rollouts (issue 18): the leader takes the operation. */
    public static final class NotLeader extends RolloutException {
        public NotLeader(String rollout, String message) {
            super("Not the leader", Optional.of(rollout), message);
        }
    }

    /** The spec cannot start a rollout as written (no device matches its selector, ...). */
    public static final class InvalidSpec extends RolloutException {
        public InvalidSpec(String title, String message) {
            super(title, Optional.empty(), message);
        }
    }

    /** The spec is well formed but its target cannot be rolled out (a deprecated version). */
    public static final class UnusableTarget extends RolloutException {
        public UnusableTarget(String title, String message) {
            super(title, Optional.empty(), message);
        }
    }
}
