package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A command on {@code ef/v1/{fleet}/{device}/cmd}. Agents apply each {@code commandId} once:
 * a redelivered command is acknowledged again with its recorded outcome, not re-run.
 *
 * @param commandId unique per command; the idempotency key
 * @param type what to do
 * @param rolloutId the rollout that sent it, if any
 * @param model the model it concerns
 * @param version required for deploy and activate
 * @param settings for configure: the settings to change (at least one); empty otherwise
 * @param activate for deploy: activate once verified (true) or only pre-stage (false)
 * @param issuedAt when the cloud issued it
 * @param expiresAt an agent that receives it later acknowledges it as failed instead of running it
 * @param fencingToken the fencing token of the control-plane leader that issued it, when replicas
 *     share a database (absent from a single node and from releases before replicas): an agent
 *     remembers the highest token it has seen and refuses a command carrying a lower one (a
 *     deposed leader's late command) with the code {@value #STALE_CODE}; positive when present
 */
public record Command(int schemaVersion, String commandId, CommandType type, Optional<String> rolloutId, String model,
        Optional<String> version, Map<String, String> settings, boolean activate, Instant issuedAt,
        Optional<Instant> expiresAt, OptionalLong fencingToken) implements Message {
    public static final int SCHEMA_VERSION = 1;
    /** The {@link AckError#code()} of a command refused for a fencing token lower than one the agent has seen. */
    public static final String STALE_CODE = "stale-fencing-token";

    public Command {
        Checks.schemaVersion(schemaVersion, SCHEMA_VERSION, "cmd");
        Checks.id(commandId, "commandId");
        Checks.required(type, "type");
        rolloutId = ModelState.versionOrEmpty(rolloutId, "rolloutId");
        Checks.id(model, "model");
        version = ModelState.versionOrEmpty(version, "version");
        settings = Checks.optionalMap(settings, "settings");
        Checks.required(issuedAt, "issuedAt");
        expiresAt = expiresAt == null ? Optional.empty() : expiresAt;
        if ((type == CommandType.DEPLOY || type == CommandType.ACTIVATE || type == CommandType.SHADOW || type == CommandType.SPLIT) && version.isEmpty()) {
            throw new ProtocolException("version", "is required for " + type.wire());
        }
        if (type == CommandType.CONFIGURE && settings.isEmpty()) {
            throw new ProtocolException("settings", "must name at least one setting for configure");
        }
        if (type != CommandType.CONFIGURE && type != CommandType.SPLIT && !settings.isEmpty()) {
            throw new ProtocolException("settings", "are only allowed on configure and split");
        }
        if (expiresAt.isPresent() && expiresAt.get().isBefore(issuedAt)) {
            throw new ProtocolException("expiresAt", expiresAt.get() + " is before issuedAt " + issuedAt);
        }
        fencingToken = fencingToken == null ? OptionalLong.empty() : fencingToken;
        if (fencingToken.isPresent() && fencingToken.getAsLong() <= 0) {
            throw new ProtocolException("fencingToken", "must be positive, got " + fencingToken.getAsLong());
        }
    }

    /** A command without a fencing token (a single node, or a release before replicas). */
    public Command(int schemaVersion, String commandId, CommandType type, Optional<String> rolloutId, String model,
            Optional<String> version, Map<String, String> settings, boolean activate, Instant issuedAt, Optional<Instant> expiresAt) {
        this(schemaVersion, commandId, type, rolloutId, model, version, settings, activate, issuedAt, expiresAt, OptionalLong.empty());
    }

    /** This command issued under the leader's fencing {@code token} (positive). */
    public Command withFencingToken(long token) {
        return new Command(schemaVersion, commandId, type, rolloutId, model, version, settings, activate, issuedAt, expiresAt,
                OptionalLong.of(token));
    }

    /**
     * Whether a device that has seen fencing token {@code highestSeen} (0: none yet) must refuse this
     * command as stale: it carries a lower token. A command without a token is never stale.
     */
    public boolean staleFor(long highestSeen) {
        return fencingToken.isPresent() && fencingToken.getAsLong() < highestSeen;
    }

    public static Command deploy(String commandId, String rolloutId, String model, String version, boolean activate,
            Instant issuedAt) {
        return new Command(SCHEMA_VERSION, commandId, CommandType.DEPLOY, Optional.ofNullable(rolloutId), model,
                Optional.of(version), Map.of(), activate, issuedAt, Optional.empty());
    }

    public static Command activate(String commandId, String rolloutId, String model, String version, Instant issuedAt) {
        return new Command(SCHEMA_VERSION, commandId, CommandType.ACTIVATE, Optional.ofNullable(rolloutId), model,
                Optional.of(version), Map.of(), true, issuedAt, Optional.empty());
    }

    public static Command rollback(String commandId, String rolloutId, String model, Instant issuedAt) {
        return rollback(commandId, rolloutId, model, Optional.empty(), issuedAt);
    }

    /**
     * A rollback that names the version to return to: the agent goes there only if it is the
     * active or the previous version, and otherwise fails, so a rollback never activates a version
     * the cloud did not mean (after a local watchdog rollback, "previous" is the bad version).
     */
    public static Command rollback(String commandId, String rolloutId, String model, Optional<String> toVersion, Instant issuedAt) {
        return new Command(SCHEMA_VERSION, commandId, CommandType.ROLLBACK, Optional.ofNullable(rolloutId), model,
                toVersion, Map.of(), false, issuedAt, Optional.empty());
    }

    /** Load {@code version} as {@code model}'s shadow candidate (docs/shadow.md): downloaded, verified, loaded, never answering. */
    public static Command shadow(String commandId, String rolloutId, String model, String version, Instant issuedAt) {
        return new Command(SCHEMA_VERSION, commandId, CommandType.SHADOW, Optional.ofNullable(rolloutId), model,
                Optional.of(version), Map.of(), false, issuedAt, Optional.empty());
    }

    /**
     * Start (or, with {@code stop}, end) A/B experiment {@code experiment} on {@code model}: arm B is {@code version}, arm A
     * the active version (docs/ab.md).
     *
     * @param share arm B's share of requests, 0..1 (by a uniform draw per request, or by a stable hash of the client key)
     * @param splitBy {@code share} or {@code key}
     */
    public static Command split(String commandId, String experiment, String model, String version, double share, String splitBy,
            boolean stop, Instant issuedAt) {
        return new Command(SCHEMA_VERSION, commandId, CommandType.SPLIT, Optional.empty(), model, Optional.of(version),
                Map.of("experiment", experiment, "share", Double.toString(share), "splitBy", splitBy, "stop", Boolean.toString(stop)),
                false, issuedAt, Optional.empty());
    }

    public static Command configure(String commandId, String model, Map<String, String> settings, Instant issuedAt) {
        return new Command(SCHEMA_VERSION, commandId, CommandType.CONFIGURE, Optional.empty(), model,
                Optional.empty(), settings, false, issuedAt, Optional.empty());
    }

    /** Whether an agent receiving it at {@code now} must refuse it as expired. */
    public boolean expiredAt(Instant now) {
        return expiresAt.map(now::isAfter).orElse(false);
    }
}
