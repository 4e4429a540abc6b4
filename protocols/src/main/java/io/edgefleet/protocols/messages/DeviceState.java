package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import java.time.Instant;
import java.util.List;

/**
 * The retained message on {@code ef/v1/{fleet}/{device}/state}. The agent also registers an
 * offline copy as its MQTT last will, so the cloud sees a device go away without polling.
 *
 * @param schemaVersion {@value #SCHEMA_VERSION} for this build
 * @param fleet the fleet id
 * @param device the device id
 * @param online false in the last will and on a clean shutdown
 * @param agentVersion the agent build, e.g. {@code 0.1.0}
 * @param profile the device-profile id, e.g. {@code raspberry-pi-4-4gb}
 * @param at when the agent produced this state
 * @param models per model: active / candidate / previous version and health
 * @param runtimes each model runtime the agent probed, loadable or not with the reason; empty from agents
 *     before issue 16 (then nothing is known beyond the profile)
 */
public record DeviceState(int schemaVersion, String fleet, String device, boolean online, String agentVersion,
        String profile, Instant at, List<ModelState> models, List<RuntimeReport> runtimes) implements Message {
    public static final int SCHEMA_VERSION = 1;

    public DeviceState {
        Checks.schemaVersion(schemaVersion, SCHEMA_VERSION, "state");
        Checks.id(fleet, "fleet");
        Checks.id(device, "device");
        Checks.requiredText(agentVersion, "agentVersion");
        Checks.id(profile, "profile");
        Checks.required(at, "at");
        models = Checks.optionalList(models, "models");
        Checks.unique(models.stream().map(ModelState::model).toList(), "models", "model");
        runtimes = Checks.optionalList(runtimes, "runtimes");
        Checks.unique(runtimes.stream().map(RuntimeReport::runtime).toList(), "runtimes", "runtime");
    }

    /** A state without runtime reports. */
    public DeviceState(int schemaVersion, String fleet, String device, boolean online, String agentVersion, String profile, Instant at,
            List<ModelState> models) {
        this(schemaVersion, fleet, device, online, agentVersion, profile, at, models, List.of());
    }

    public DeviceState(String fleet, String device, boolean online, String agentVersion, String profile, Instant at,
            List<ModelState> models) {
        this(SCHEMA_VERSION, fleet, device, online, agentVersion, profile, at, models, List.of());
    }

    /** This state with the agent's runtime reports. */
    public DeviceState withRuntimes(List<RuntimeReport> reports) {
        return new DeviceState(schemaVersion, fleet, device, online, agentVersion, profile, at, models, reports);
    }

    /** The same state marked offline: what the agent registers as its last will. */
    public DeviceState offline() {
        return new DeviceState(schemaVersion, fleet, device, false, agentVersion, profile, at, models, runtimes);
    }
}
