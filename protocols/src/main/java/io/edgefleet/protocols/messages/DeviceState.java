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
 */
public record DeviceState(int schemaVersion, String fleet, String device, boolean online, String agentVersion,
        String profile, Instant at, List<ModelState> models) implements Message {
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
    }

    public DeviceState(String fleet, String device, boolean online, String agentVersion, String profile, Instant at,
            List<ModelState> models) {
        this(SCHEMA_VERSION, fleet, device, online, agentVersion, profile, at, models);
    }

    /** The same state marked offline: what the agent registers as its last will. */
    public DeviceState offline() {
        return new DeviceState(schemaVersion, fleet, device, false, agentVersion, profile, at, models);
    }
}
