package io.edgefleet.cloud.store;

import java.util.List;

/**
 * The SQLite scripts as the migration runner before Flyway ({@code SqlMigrations}) applied them, relative to
 * {@link CloudStore}'s package: tests write databases as older releases did, then open them with today's code.
 */
final class LegacySchema {
    /** The runner's list as release 0.1 shipped it: versions 1..9. */
    static final List<String> SCRIPTS = List.of("V1__registry_fleet_telemetry.sql", "V2__rollouts.sql", "V3__escalation_stats.sql",
            "V4__client_errors.sql", "V5__pki.sql", "V6__access.sql", "V7__device_runtimes.sql", "V8__device_logs.sql",
            "V9__device_resources.sql").stream().map(s -> "migration/sqlite/" + s).toList();

    private LegacySchema() {
    }
}
