package io.edgefleet.cloud;

import org.junit.jupiter.api.Tag;

/**
 * Every case of {@link RolloutApiTest} on a control plane whose store is a real PostgreSQL server
 * (issue 18): rollouts, their devices and log written and read by the engine and the API. Slow (about 25 s on two
 * busy cores, model pushes through the isolated verifier included): the default run keeps {@link RegistryApiPostgresTest}
 * and {@link FleetRegistryPostgresTest} as its whole-control-plane cases on PostgreSQL and {@code StoreContractTest} for
 * the rollout tables.
 */
@Tag("slow")
@OnPostgres
class RolloutApiPostgresTest extends RolloutApiTest {
}
