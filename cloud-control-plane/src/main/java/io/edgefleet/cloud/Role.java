package io.edgefleet.cloud;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * What a control-plane process does. {@code control}: registries, REST API, sync endpoints;
 * {@code ingest}: telemetry from MQTT (through Kafka when configured) into the aggregates;
 * {@code inference}: fallback serving (issue "Cloud inference role"); {@code all}: every role.
 */
public enum Role {
    CONTROL, INGEST, INFERENCE;

    /** Parses {@code control}, {@code ingest}, {@code inference}, {@code all}, or a comma-separated list. */
    public static Set<Role> parse(String text) {
        Set<Role> out = EnumSet.noneOf(Role.class);
        for (String s : text.split(",")) {
            String t = s.strip().toLowerCase(Locale.ROOT);
            switch (t) {
                case "all" -> out.addAll(EnumSet.allOf(Role.class));
                case "control" -> out.add(CONTROL);
                case "ingest" -> out.add(INGEST);
                case "inference" -> out.add(INFERENCE);
                default -> throw new IllegalArgumentException("role '" + s.strip() + "' is not one of control, ingest, inference, all");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no role given (control, ingest, inference, all)");
        }
        return out;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
