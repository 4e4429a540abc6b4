package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.testkit.PostgresExtension;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 18, proof at scale in small: the rollout bench's scenario end to end with 200 virtual devices (HiveMQ
 * sessions, real sync), a real Mosquitto, two {@code edgefleet cloud} processes on a real PostgreSQL, and the
 * leader killed with SIGKILL once the rollout is in wave 2. The rollout completes on the other replica, every
 * device ends on the new version, and each device received and acknowledged exactly one command id for its
 * intent (checked from the devices' side). Wave 2 (18 devices) starts at once (concurrency 20); the kill lands while they download.
 * Slow: two control-plane JVMs, a lease takeover (up to 6 s) and 200 downloads of 1 MB.
 */
@Tag("slow")
class RolloutBenchFailoverTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void a_rollout_completes_on_the_other_replica_after_the_leader_is_killed_in_wave_2() throws Exception {
        RolloutBench bench = new RolloutBench();
        bench.devices = 200;
        bench.concurrency = 20;
        bench.heartbeatSeconds = 60;
        PostgresExtension.Database admin = PG.newDatabase(); // the bench creates its own database from here
        RolloutBench.Figures f = bench.run(new RolloutBench.Setup(false, true, 2, Optional.of(admin.jdbcUrl()), admin.user(), 2),
                new PrintWriter(System.out, true));

        assertThat(f.killedInWave()).as("the leader was killed during wave 2").isEqualTo(2);
        assertThat(f.takeoverSeconds()).as("the other replica took the lease over").isPositive();
        assertThat(f.state()).isEqualTo("succeeded");
        assertThat(f.versions()).as("every device on one version, the new one").isEqualTo(Map.of("2", 200L));
        assertThat(f.commandIdProblems()).as("exactly one command id per device and intent").isEmpty();
        assertThat(f.database().commits()).as("the replicas' work is counted on the server").isPositive();
        assertThat(f.ok()).isTrue();
    }
}
