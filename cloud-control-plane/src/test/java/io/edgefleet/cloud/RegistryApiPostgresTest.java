package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;

import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Files;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every case of {@link RegistryApiTest} on a control plane whose store is a real PostgreSQL server
 * (issue 18): uploads, signing, immutability, deprecation and listing through the same API.
 */
class RegistryApiPostgresTest extends RegistryApiTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** Hides {@link RegistryApiTest#start()}: the same control plane over PostgreSQL. */
    @BeforeAll
    static void start() throws Exception {
        PostgresExtension.Database db = PG.database();
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMaxUploadBytes(2 * 1024 * 1024)
                .withDatabase(DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty())));
        ops = client(cp, OPERATOR);
        onnx = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("onnx")));
        tflite = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("tflite")));
    }
}
