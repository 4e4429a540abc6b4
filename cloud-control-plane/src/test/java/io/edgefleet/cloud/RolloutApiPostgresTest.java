package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every case of {@link RolloutApiTest} on a control plane whose store is a real PostgreSQL server
 * (issue 18): rollouts, their devices and log written and read by the engine and the API. Slow (about 25 s on two
 * busy cores, model pushes through the isolated verifier included): the default run keeps {@link RegistryApiPostgresTest}
 * as its whole-control-plane case on PostgreSQL and {@code StoreContractTest} for the rollout tables.
 */
@Tag("slow")
class RolloutApiPostgresTest extends RolloutApiTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** Hides {@link RolloutApiTest#start()}: the same control plane over PostgreSQL. */
    @BeforeAll
    static void start() throws Exception {
        PostgresExtension.Database db = PG.database();
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRolloutTick(Duration.ofMillis(50))
                .withDatabase(DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty())));
        ops = client(cp, OPERATOR);
        Path onnx = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("onnx")));
        for (String m : List.of("keys", "empty", "joins", "merged", "numbered")) {
            CloudClient.Response r = ops.pushModel(m, "2", List.of(onnx), List.of(), Map.of(), n -> { });
            assertThat(r.status()).as(r.text()).isEqualTo(201);
        }
    }
}
