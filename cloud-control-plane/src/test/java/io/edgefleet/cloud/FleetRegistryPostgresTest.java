package io.edgefleet.cloud;

/**
 * Every case of {@link FleetRegistryTest} on a control plane whose store is a real PostgreSQL server (issue 18):
 * devices from retained state on a real Mosquitto, stale and offline, selectors, and a real agent deploying a
 * version pushed to the registry.
 */
@OnPostgres
class FleetRegistryPostgresTest extends FleetRegistryTest {
}
