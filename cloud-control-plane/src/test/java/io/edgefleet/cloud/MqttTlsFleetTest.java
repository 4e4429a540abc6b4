package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.mqtt.CloudMqttTls;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.topics.ReplySpace;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.Mosquitto;
import io.edgefleet.testkit.MosquittoBroker;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.MqttTls;
import io.edgefleet.transport.mqtt.SessionConfig;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agent and control plane configured for MQTT over TLS against a real Mosquitto that requires a
 * client certificate and takes its CN as the user name: each connects with its own identity from
 * PEM files, the agent's state reaches the fleet registry, and a requester of the fleet gets an
 * inference answer in its reply space, all over mutual TLS.
 */
class MqttTlsFleetTest {
    @TempDir
    static Path dir;
    static CertificateAuthority ca;
    static MosquittoBroker broker;
    static ControlPlane cp;
    static EdgeAgent agent;

    /** Writes {@code name-key.pem} (0600) and {@code name.pem} for {@code identity}, issued by the CA. */
    static void identity(Path folder, String name, Identity identity) {
        KeyPair keys = KeyPairs.ecP256();
        Pem.writePrivate(folder.resolve(name + "-key.pem"), Pem.write(keys.getPrivate()));
        Pem.writePublic(folder.resolve(name + ".pem"), Pem.write(ca.issue(Csr.create(keys, identity), identity, Duration.ofHours(1))));
    }

    static MqttTls tls(Path folder, String name) {
        return MqttTls.fromPem(folder.resolve("ca.pem"), folder.resolve(name + "-key.pem"), folder.resolve(name + ".pem"));
    }

    @BeforeAll
    static void start() throws Exception {
        ca = CertificateAuthority.create("EdgeFleet test CA", Duration.ofDays(1));
        broker = Mosquitto.startSecured((port, folder) -> "listener " + port + " 127.0.0.1\n"
                + "cafile " + folder.resolve("ca.pem") + "\ncertfile " + folder.resolve("server.pem") + "\n"
                + "keyfile " + folder.resolve("server-key.pem") + "\n"
                + "require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n", folder -> {
                    KeyPair keys = KeyPairs.ecP256();
                    Pem.writePublic(folder.resolve("ca.pem"), Pem.write(ca.certificate()));
                    Pem.writePublic(folder.resolve("server.pem"), Pem.write(ca.issueServer(keys.getPublic(), Identity.service("mqtt-broker"),
                            List.of("127.0.0.1"), Duration.ofDays(1))));
                    Pem.writePrivate(folder.resolve("server-key.pem"), Pem.write(keys.getPrivate()));
                });
        String url = "ssl://127.0.0.1:" + broker.port();
        Path pki = Files.createDirectories(dir.resolve("pki"));
        Pem.writePublic(pki.resolve("ca.pem"), Pem.write(ca.certificate()));
        identity(pki, "control", Identity.service("cloud-control"));
        identity(pki, "ingest", Identity.service("cloud-ingest"));
        identity(pki, "cam-1", Identity.device("plant-1", "cam-1"));
        identity(pki, "req-1", Identity.device("plant-1", "req-1"));
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(url)
                .withMqttTls(CloudMqttTls.fromPem(pki.resolve("ca.pem"), pki.resolve("control-key.pem"), pki.resolve("control.pem"),
                        pki.resolve("ingest-key.pem"), pki.resolve("ingest.pem"))));
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(-1)
                .withIdentity("plant-1", "cam-1").withMqtt(url).withMqttTls(tls(pki, "cam-1")));
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
        if (cp != null) {
            cp.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static String brokerLog() {
        try {
            return Files.readString(broker.folder().resolve("mosquitto.log"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void agent_and_control_plane_work_over_mutual_tls_each_with_its_own_identity() throws Exception {
        await(Duration.ofSeconds(30), "plant-1/cam-1 online in the fleet registry over TLS",
                () -> cp.fleet().get("plant-1", "cam-1").map(d -> d.online()).orElse(false));
        await(Duration.ofSeconds(30), "both control-plane sessions connected", () -> brokerLog().contains("u'cloud-ingest'"));
        assertThat(brokerLog()).as("each connected with its own certificate's CN as user name")
                .contains("as ef-cloud-control-1 (p5, c0, k20, u'cloud-control')").contains("as ef-cloud-ingest-1 (p5, c0, k20, u'cloud-ingest')")
                .contains("as ef-plant-1-cam-1 (p5, c0, k30, u'plant-1/cam-1')");

        ReplySpace space = new ReplySpace("plant-1", "req-1");
        BlockingQueue<Delivery> answers = new LinkedBlockingQueue<>();
        Path pki = dir.resolve("pki");
        MqttSession requester = MqttSession.create(SessionConfig.of("ssl://127.0.0.1:" + broker.port(), "req-1",
                Optional.of(tls(pki, "req-1").context())).withCleanStart(true, 0).withSubscription(space.filter()), (m, ack) -> answers.add(m));
        java.util.concurrent.CountDownLatch subscribed = new java.util.concurrent.CountDownLatch(1);
        requester.listener(new MqttSession.Listener() {
            @Override
            public void subscribed(boolean first) {
                subscribed.countDown();
            }
        });
        requester.start();
        try {
            assertThat(subscribed.await(30, TimeUnit.SECONDS)).as("requester connected over TLS").isTrue();
            await(Duration.ofSeconds(30), "agent subscribed", () -> agent.mqtt().orElseThrow().isSubscribed());
            assertThat(requester.publish(Topic.infer("plant-1", "cam-1", "cls").value(),
                    "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}".getBytes(StandardCharsets.UTF_8),
                    Metadata.qos1().withResponseTopic(space.topic() + "/answers").withCorrelationData("t-1".getBytes(StandardCharsets.UTF_8))))
                    .isTrue();
            Delivery answer = answers.poll(30, TimeUnit.SECONDS);
            assertThat(answer).as("an answer within 30 s").isNotNull();
            assertThat(answer.topic()).isEqualTo(space.topic() + "/answers");
            assertThat(answer.metadata().userProperty("status")).contains("200");
            assertThat(new String(answer.metadata().correlationData().orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("t-1");
        } finally {
            requester.close();
        }
    }
}
